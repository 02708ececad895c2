import pytest
from calendar_dates import add_days, day_of_year, days_in_month, is_leap_year, weekday


def test_common_years():
    assert not is_leap_year(2023)
    assert not is_leap_year(1900)


def test_leap_year_divisible_by_four():
    assert is_leap_year(2024)


def test_leap_year_century_divisible_by_400():
    assert is_leap_year(2000)


def test_days_in_month():
    assert days_in_month(2023, 1) == 31
    assert days_in_month(2023, 4) == 30
    assert days_in_month(2023, 2) == 28


def test_days_in_february_of_leap_year():
    assert days_in_month(2024, 2) == 29


def test_bad_month():
    with pytest.raises(ValueError):
        days_in_month(2023, 13)


def test_day_of_year():
    assert day_of_year(2023, 1, 1) == 1
    assert day_of_year(2023, 3, 1) == 60


def test_day_of_year_leap():
    assert day_of_year(2024, 12, 31) == 366


def test_add_days_across_year():
    assert add_days((2023, 12, 30), 5) == (2024, 1, 4)


def test_add_days_across_leap_february():
    assert add_days((2024, 2, 28), 1) == (2024, 2, 29)


def test_weekday():
    assert weekday(2024, 1, 1) == "Monday"
    assert weekday(1969, 7, 20) == "Sunday"
