from leaderboard import Leaderboard


def board():
    scores = Leaderboard()
    for player, score in [("ann", 30), ("bob", 50), ("cid", 10), ("dee", 50), ("eve", 20)]:
        scores.submit(player, score)
    return scores


def test_submit_keeps_best():
    scores = board()
    assert scores.submit("ann", 40) is True
    assert scores.submit("ann", 35) is False
    assert scores.best("ann") == 40


def test_len_and_unknown_player():
    scores = board()
    assert len(scores) == 5
    assert scores.best("zed") is None


def test_top():
    assert board().top(3) == [("bob", 50), ("dee", 50), ("ann", 30)]


def test_bottom():
    assert board().bottom(2) == [("cid", 10), ("eve", 20)]


def test_bottom_everyone():
    assert [player for player, _ in board().bottom(10)] == ["cid", "eve", "ann", "bob", "dee"]


def test_rank():
    scores = board()
    assert scores.rank("bob") == 1
    assert scores.rank("dee") == 1
    assert scores.rank("ann") == 3


def test_remove():
    scores = board()
    assert scores.remove("bob") is True
    assert scores.remove("bob") is False
    assert scores.rank("dee") == 1
