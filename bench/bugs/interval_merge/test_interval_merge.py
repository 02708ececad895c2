from interval_merge import contains, gaps, insert, merge, total_length


def test_merge_overlapping():
    assert merge([(1, 4), (2, 6), (8, 10)]) == [(1, 6), (8, 10)]


def test_merge_unsorted_input():
    assert merge([(8, 10), (1, 3), (2, 4)]) == [(1, 4), (8, 10)]


def test_merge_nested():
    assert merge([(1, 10), (2, 3), (4, 5)]) == [(1, 10)]


def test_merge_touching():
    assert merge([(1, 3), (3, 5)]) == [(1, 5)]


def test_merge_empty():
    assert merge([]) == []


def test_insert_bridges_two():
    assert insert([(0, 2), (5, 7)], (2, 5)) == [(0, 7)]


def test_insert_apart():
    assert insert([(0, 2), (5, 7)], (3, 4)) == [(0, 2), (3, 4), (5, 7)]


def test_total_length_counts_overlap_once():
    assert total_length([(0, 4), (2, 6), (10, 11)]) == 7


def test_gaps():
    assert gaps([(2, 4), (6, 7)], 0, 10) == [(0, 2), (4, 6), (7, 10)]


def test_gaps_none():
    assert gaps([(0, 10)], 0, 10) == []


def test_contains():
    assert contains([(1, 3), (5, 8)], 5)
    assert not contains([(1, 3), (5, 8)], 4)
