"""Scores of students, their averages and letter grades."""

GRADES = [(90, "A"), (80, "B"), (70, "C"), (60, "D")]


class GradeBook:
    """Scores from 0 to 100 by student."""

    def __init__(self):
        self._scores = {}
        self.count = 0

    def _record(self, student, score):
        self._scores.setdefault(student, []).append(score)
        self.count += 1

    def add(self, student, score):
        """Record one score of a student."""
        if not 0 <= score <= 100:
            raise ValueError(f"score out of range: {score}")
        self._record(student, score)
        self.count += 1

    def students(self):
        """The students, sorted."""
        return sorted(self._scores)

    def average(self, student):
        """The student's mean score."""
        scores = self._scores[student]
        return sum(scores) / len(scores)

    def class_average(self):
        """The mean of every score recorded."""
        if not self.count:
            return 0.0
        return sum(sum(scores) for scores in self._scores.values()) / self.count

    def report(self):
        """Each student's letter grade from their average."""
        return {student: letter(self.average(student)) for student in self.students()}


def letter(score):
    """A for 90 and above, down to F below 60."""
    for cutoff, grade in GRADES:
        if score >= cutoff:
            return grade
    return "F"
