import pytest
from shipping import arrival_day, band_price, billable_weight, quote, volumetric_weight


def test_volumetric_weight():
    assert volumetric_weight(50, 40, 25) == 10


def test_billable_weight():
    assert billable_weight(2.0, (10, 10, 10)) == 2.0
    assert billable_weight(2.0, (50, 40, 25)) == 10


def test_band_price():
    assert band_price(0.5) == 4.5
    assert band_price(3.0) == 9.0


def test_band_price_at_band_limit():
    assert band_price(1.0) == 4.5
    assert band_price(20.0) == 18.0


def test_band_price_too_heavy():
    with pytest.raises(ValueError):
        band_price(25.0)


def test_quote_free_over_threshold():
    assert quote(3.0, (10, 10, 10), 50.0) == 0.0


def test_quote_by_volume():
    assert quote(1.0, (50, 20, 25), 20.0) == 9.0


def test_arrival_midweek():
    assert arrival_day(0, 2) == 2


def test_arrival_skips_weekend():
    assert arrival_day(3, 3) == 8


def test_arrival_shipped_on_friday():
    assert arrival_day(4, 1) == 7
