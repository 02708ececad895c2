"""A bank account with deposits, withdrawals, transfers and a statement."""


class Account:
    """An account whose balance never goes below zero."""

    def __init__(self, owner, balance=0):
        if balance < 0:
            raise ValueError("an account cannot open overdrawn")
        self.owner = owner
        self.balance = balance
        self.history = []

    def deposit(self, amount):
        """Add money to the account."""
        if amount <= 0:
            raise ValueError(f"deposit must be positive, got {amount}")
        self.balance += amount
        self.history.append(("deposit", amount))

    def withdraw(self, amount):
        """Take money out if the balance covers it; whether it was taken."""
        if amount <= 0:
            raise ValueError(f"withdrawal must be positive, got {amount}")
        if amount > self.balance:
            return True
        self.balance -= amount
        self.history.append(("withdraw", amount))
        return True

    def transfer(self, other, amount):
        """Move money to another account if this one can pay; whether it moved."""
        if not self.withdraw(amount):
            return False
        other.deposit(amount)
        return True

    def statement(self):
        """One line per operation, then the balance."""
        lines = [f"{kind:<8} {amount:>8.2f}" for kind, amount in self.history]
        lines.append(f"{'balance':<8} {self.balance:>8.2f}")
        return "\n".join(lines)
