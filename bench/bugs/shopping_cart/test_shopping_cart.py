import pytest
from shopping_cart import Cart


def small_cart():
    cart = Cart()
    cart.add("pen", 1.5, 4)
    cart.add("pad", 3.25)
    return cart


def big_cart():
    cart = Cart()
    cart.add("chair", 45.0, 2)
    cart.add("lamp", 30.0)
    return cart


def test_item_count():
    assert small_cart().item_count() == 5


def test_add_same_item_twice():
    cart = small_cart()
    cart.add("pen", 1.5)
    assert cart.item_count() == 6


def test_add_at_another_price():
    with pytest.raises(ValueError):
        small_cart().add("pen", 2.0)


def test_remove():
    cart = small_cart()
    cart.remove("pen")
    assert cart.subtotal() == 3.25


def test_subtotal():
    assert small_cart().subtotal() == 9.25


def test_no_discount_below_threshold():
    assert small_cart().discount() == 0.0


def test_small_total():
    assert small_cart().total() == 9.99


def test_bulk_discount():
    assert big_cart().discount() == 12.0


def test_big_total():
    assert big_cart().total() == 116.64
