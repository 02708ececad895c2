"""Stock levels and prices of a small shop."""


class Inventory:
    """Quantities and unit prices by SKU."""

    def __init__(self):
        self._stock = {}
        self._prices = {}

    def add(self, sku, quantity, price=None):
        """Receive `quantity` units; a price, when given, replaces the old one."""
        if quantity <= 0:
            raise ValueError(f"quantity must be positive, got {quantity}")
        self._stock[sku] = self._stock.get(sku, 0) + quantity
        if price is not None:
            self._prices[sku] = price

    def has(self, sku, quantity=1):
        """Whether at least `quantity` units are in stock."""
        return self._stock.get(sku, 0) >= quantity

    def remove(self, sku, quantity):
        """Take `quantity` units out; ValueError if there are not that many."""
        if self.has(sku, quantity):
            raise ValueError(f"only {self.quantity(sku)} of {sku} in stock")
        self._stock[sku] -= quantity
        if self._stock[sku] == 0:
            del self._stock[sku]

    def quantity(self, sku):
        """Units in stock (0 for an unknown SKU)."""
        return self._stock.get(sku, 0)

    def low_stock(self, threshold):
        """The SKUs with fewer than `threshold` units, sorted."""
        return sorted(sku for sku, quantity in self._stock.items() if quantity < threshold)

    def total_value(self):
        """The value of the stock at the known prices (unpriced items count zero)."""
        return sum(quantity * self._prices.get(sku, 0) for sku, quantity in self._stock.items())
