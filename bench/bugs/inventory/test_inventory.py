import pytest
from inventory import Inventory


def make():
    inventory = Inventory()
    inventory.add("apple", 10, 0.5)
    inventory.add("pear", 3, 0.75)
    inventory.add("plum", 1)
    return inventory


def test_add_accumulates():
    inventory = make()
    inventory.add("apple", 5)
    assert inventory.quantity("apple") == 15


def test_add_must_be_positive():
    with pytest.raises(ValueError):
        make().add("apple", 0)


def test_has():
    inventory = make()
    assert inventory.has("pear", 3)
    assert not inventory.has("pear", 4)
    assert not inventory.has("kiwi")


def test_remove():
    inventory = make()
    inventory.remove("apple", 4)
    assert inventory.quantity("apple") == 6


def test_remove_everything_forgets_the_sku():
    inventory = make()
    inventory.remove("plum", 1)
    assert inventory.quantity("plum") == 0
    assert "plum" not in inventory.low_stock(100)


def test_remove_too_many():
    inventory = make()
    with pytest.raises(ValueError):
        inventory.remove("pear", 5)
    assert inventory.quantity("pear") == 3


def test_low_stock():
    assert make().low_stock(5) == ["pear", "plum"]


def test_total_value():
    assert make().total_value() == 10 * 0.5 + 3 * 0.75
