"""Trees travel as archives: the same files give the same digest, and unpack once per node."""

from __future__ import annotations

import os
import time

import pytest

from sandbox.cluster import trees


def _tree(root):
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("X = 1\n")
    (root / "run.sh").write_text("echo hi\n")
    (root / "run.sh").chmod(0o700)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "pkg" / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__" / "mod.pyc").write_bytes(b"\0")
    return root


def test_the_same_files_give_the_same_digest_whatever_their_times(tmp_path):
    one = _tree(tmp_path / "one")
    digest, _ = trees.pack(one)
    os.utime(one / "pkg" / "mod.py", (1, 1))
    assert trees.pack(one)[0] == digest
    (one / "pkg" / "mod.py").write_text("X = 2\n")
    assert trees.pack(one)[0] != digest


def test_an_unpacked_tree_has_the_files_without_history_or_caches(tmp_path):
    digest, data = trees.pack(_tree(tmp_path / "src"))
    where = trees.unpack(digest, data, tmp_path / "node")
    assert where.name == digest
    assert (where / "pkg" / "mod.py").read_text() == "X = 1\n"
    assert not (where / ".git").exists()
    assert not (where / "pkg" / "__pycache__").exists()
    assert os.stat(where / "run.sh").st_mode & 0o755 == 0o755  # readable by the sandbox user
    assert os.stat(where / "pkg" / "mod.py").st_mode & 0o777 == 0o644
    assert os.stat(where).st_mode & 0o755 == 0o755


def test_a_tree_is_unpacked_once_and_reused(tmp_path):
    digest, data = trees.pack(_tree(tmp_path / "src"))
    first = trees.unpack(digest, data, tmp_path / "node")
    (first / "marker").write_text("kept")
    assert trees.unpack(digest, data, tmp_path / "node") == first
    assert (first / "marker").exists()
    assert [p.name for p in (tmp_path / "node").iterdir()] == [digest]  # no leftovers


def test_bytes_that_do_not_match_the_digest_are_refused(tmp_path):
    digest, data = trees.pack(_tree(tmp_path / "src"))
    with pytest.raises(ValueError, match="do not match"):
        trees.unpack(digest, data + b"x", tmp_path / "node")
    assert not (tmp_path / "node" / digest).exists()


def test_sweep_removes_trees_unused_for_a_while(tmp_path):
    digest, data = trees.pack(_tree(tmp_path / "src"))
    old = trees.unpack(digest, data, tmp_path / "node")
    long_ago = time.time() - 2 * trees.KEEP
    os.utime(old, (long_ago, long_ago))
    assert trees.sweep(tmp_path / "node") == [old]
    assert not old.exists()
