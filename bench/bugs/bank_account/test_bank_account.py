import pytest
from bank_account import Account


def test_deposit():
    account = Account("ada")
    account.deposit(50)
    assert account.balance == 50


def test_deposit_must_be_positive():
    with pytest.raises(ValueError):
        Account("ada").deposit(0)


def test_cannot_open_overdrawn():
    with pytest.raises(ValueError):
        Account("ada", -5)


def test_withdraw():
    account = Account("ada", 100)
    assert account.withdraw(30) is True
    assert account.balance == 70


def test_withdraw_whole_balance():
    account = Account("ada", 100)
    assert account.withdraw(100) is True
    assert account.balance == 0


def test_withdraw_too_much_is_refused():
    account = Account("ada", 20)
    assert account.withdraw(50) is False
    assert account.balance == 20


def test_transfer():
    ada, bob = Account("ada", 100), Account("bob")
    assert ada.transfer(bob, 40)
    assert (ada.balance, bob.balance) == (60, 40)


def test_transfer_without_funds_moves_nothing():
    ada, bob = Account("ada", 10), Account("bob")
    assert not ada.transfer(bob, 40)
    assert (ada.balance, bob.balance) == (10, 0)


def test_statement():
    account = Account("ada")
    account.deposit(100)
    account.withdraw(25.5)
    assert account.statement().splitlines() == [
        "deposit    100.00",
        "withdraw    25.50",
        "balance     74.50",
    ]
