"""A shopping cart with a bulk discount and sales tax; amounts are rounded to cents."""

TAX_RATE = 0.08
BULK_THRESHOLD = 100.0
BULK_DISCOUNT = 0.01


class Cart:
    """Line items of name, unit price and quantity."""

    def __init__(self):
        self._lines = {}

    def add(self, name, price, quantity=1):
        """Add units of an item; its price must match earlier ones."""
        if quantity <= 0 or price < 0:
            raise ValueError("quantity must be positive and price not negative")
        if name in self._lines and self._lines[name][0] != price:
            raise ValueError(f"{name} already in the cart at another price")
        old = self._lines.get(name, (price, 0))[1]
        self._lines[name] = (price, old + quantity)

    def remove(self, name):
        """Drop an item altogether."""
        self._lines.pop(name, None)

    def item_count(self):
        """Units in the cart."""
        return sum(quantity for _, quantity in self._lines.values())

    def subtotal(self):
        """The price of everything before discount and tax."""
        return round(sum(price * quantity for price, quantity in self._lines.values()), 2)

    def discount(self):
        """The bulk discount on orders of BULK_THRESHOLD or more."""
        subtotal = self.subtotal()
        if subtotal < BULK_THRESHOLD:
            return 0.0
        return round(subtotal * BULK_DISCOUNT, 2)

    def tax(self):
        """Tax on the discounted subtotal."""
        return round((self.subtotal() - self.discount()) * TAX_RATE, 2)

    def total(self):
        """What the customer pays."""
        return round(self.subtotal() - self.discount() + self.tax(), 2)
