import pytest
from time_slots import (
    Slot,
    format_minutes,
    free_slots,
    overlaps,
    parse_slot,
    to_minutes,
    total_minutes,
)


def test_to_minutes_on_the_hour():
    assert to_minutes("00:00") == 0


def test_to_minutes():
    assert to_minutes("09:30") == 570


def test_to_minutes_rejects_garbage():
    with pytest.raises(ValueError):
        to_minutes("0930")


def test_format_minutes():
    assert format_minutes(570) == "09:30"
    assert format_minutes(5) == "00:05"


def test_parse_slot():
    assert parse_slot("09:15-10:45") == Slot(555, 645)


def test_parse_slot_backwards():
    with pytest.raises(ValueError):
        parse_slot("11:00-10:00")


def test_overlaps():
    assert overlaps(Slot(60, 120), Slot(90, 150))
    assert overlaps(Slot(90, 150), Slot(60, 120))


def test_overlaps_nested():
    assert overlaps(Slot(0, 100), Slot(10, 20))


def test_no_overlap_when_apart():
    assert not overlaps(Slot(60, 120), Slot(200, 300))
    assert not overlaps(Slot(200, 300), Slot(60, 120))


def test_touching_slots_do_not_overlap():
    assert not overlaps(Slot(60, 120), Slot(120, 180))


def test_free_slots():
    busy = [Slot(600, 660), Slot(540, 570), Slot(650, 700)]
    assert free_slots(busy, 480, 720) == [Slot(480, 540), Slot(570, 600), Slot(700, 720)]


def test_total_minutes():
    assert total_minutes([Slot(0, 30), Slot(60, 75)]) == 45
