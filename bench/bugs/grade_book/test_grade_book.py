import pytest
from grade_book import GradeBook, letter


def book():
    grades = GradeBook()
    grades.add("ada", 95)
    grades.add("ada", 85)
    grades.add("bo", 58)
    return grades


def test_letter():
    assert [letter(s) for s in (100, 90, 89.9, 75, 60, 12)] == ["A", "A", "B", "C", "D", "F"]


def test_students():
    assert book().students() == ["ada", "bo"]


def test_average():
    assert book().average("ada") == 90


def test_out_of_range():
    with pytest.raises(ValueError):
        book().add("cy", 101)


def test_count():
    assert book().count == 3


def test_class_average():
    assert book().class_average() == 238 / 3


def test_class_average_empty():
    assert GradeBook().class_average() == 0.0


def test_report():
    assert book().report() == {"ada": "A", "bo": "F"}
