"""The git ledger: every accepted change is one commit, every rollback a revert commit.

Commits are made with plumbing so that a process killed at any point never
leaves the repository dirty, mid-commit or locked: the new blob, tree and
commit objects are written first (harmless if abandoned), the branch moves in
one atomic compare-and-swap, and only then are the changed files written to
(or removed from) the work tree. If the process dies between those last two
steps, `recover` sees a Neuromutant commit whose files on disk still hold the
parent's content and finishes the job. A file with uncommitted human edits is
never written. Contents are text (a code target's source) or bytes (a weights
file), several files to a commit when they belong together.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import shutil
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import git

from daemon.errors import LedgerError
from daemon.ledger.files import copy_tree, extract_checked, open_by_any_process
from daemon.ledger.messages import TRAILER_PREFIX, Identity, format_message, parse_trailers
from daemon.registry import TargetSpec
from sandbox.runners.overlay import is_test_file

log = logging.getLogger(__name__)


class Ledger:
    """One target's git repository."""

    def __init__(self, path: Path, identity: Identity | None = None) -> None:
        self.path = Path(path)
        self.identity = identity or Identity()
        try:
            self.repo = git.Repo(self.path)
        except (git.NoSuchPathError, git.InvalidGitRepositoryError) as exc:
            raise LedgerError(f"{self.path} is not a git repository") from exc
        if self.repo.bare:
            raise LedgerError(f"{self.path} is a bare repository; a work tree is needed")

    @classmethod
    def create_from(cls, path: Path, example: Path, name: str, identity: Identity) -> Ledger:
        """Make a new repository at `path` holding a copy of `example`, in one first commit.

        Built in a temporary directory and renamed into place, so a crash or a
        refused example never leaves a half-made repository behind. Links are kept
        as links only inside the example (`files.copy_tree`); files keep their own
        modes, and the repository's folder is closed to other users.

        Raises:
            LedgerError: the example holds a link leading out of it or looping, a
                special file, or nothing to commit.
        """
        path, example = Path(path), Path(example)
        staging = path.with_name(f".{path.name}.creating-{os.getpid()}")
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        try:
            copy_tree(example, staging, f"example {example}")
            repo = git.Repo.init(staging, initial_branch="main")
            try:
                repo.git.add(A=True)
                with repo.git.custom_environment(**identity.env()):
                    repo.git.commit(m=f"{name}: import the example bot", no_verify=True)
            except git.GitCommandError as exc:
                raise LedgerError(f"example {example}: cannot commit it: {exc.stderr}") from None
            finally:
                repo.close()
            os.chmod(staging, stat.S_IMODE(example.stat().st_mode) & 0o770)
            staging.rename(path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return cls(path, identity)

    # --- reading ------------------------------------------------------------------------

    def branch(self) -> str:
        """The checked-out branch; commits go there."""
        if self.repo.head.is_detached:
            raise LedgerError(f"{self.path}: HEAD is detached; check out a branch first")
        return self.repo.active_branch.name

    def head(self) -> str:
        """The commit hash of HEAD."""
        self._need_commit()
        return self.repo.head.commit.hexsha

    def tree(self, rev: str = "HEAD") -> str:
        """The tree hash of `rev`: what a baseline is cached by."""
        return self.repo.commit(self.resolve(rev)).tree.hexsha

    def parent(self, rev: str = "HEAD") -> str | None:
        """The first parent of `rev`, or None for a root commit."""
        parents = self.repo.commit(self.resolve(rev)).parents
        return parents[0].hexsha if parents else None

    def resolve(self, rev: str) -> str:
        """The commit hash `rev` names.

        Raises:
            LedgerError: no such commit in the repository.
        """
        self._need_commit()
        try:
            return self.repo.commit(rev).hexsha
        except (git.BadName, ValueError) as exc:
            raise LedgerError(f"{rev}: no such commit in {self.path}") from exc

    def changed_since(self, rev: str) -> int | None:
        """How many files differ between `rev` and HEAD; None when `rev` is gone."""
        self._need_commit()
        try:
            names = self._git("diff", "--name-only", rev, "HEAD", "--")
        except LedgerError:
            return None
        return len(names.splitlines())

    def commits_after(self, rev: str) -> list[str]:
        """The commits reachable from HEAD but not from `rev`, newest first."""
        return self._git("rev-list", f"{self.resolve(rev)}..HEAD").splitlines()

    def close(self) -> None:
        """Release the git processes GitPython keeps for this repository."""
        self.repo.close()

    def read(self, path: str, rev: str = "HEAD") -> str:
        """A file's content at `rev`."""
        self._need_commit()
        return self.repo.git.show(f"{rev}:{path}", strip_newline_in_stdout=False)

    def files(self, globs: tuple[str, ...] | list[str]) -> list[str]:
        """Tracked files at HEAD that match `globs`, never tests or conftest files."""
        self._need_commit()
        tracked = self.repo.git.ls_tree("-r", "--name-only", "HEAD").splitlines()
        return sorted(
            path
            for path in tracked
            if any(fnmatch.fnmatchcase(path, g) for g in globs)
            and path.endswith(".py")
            and not is_test_file(path)
            and not path.startswith(("tests/", "test/"))
        )

    def dirty(self, paths: list[str]) -> list[str]:
        """Those of `paths` with uncommitted changes, staged or not."""
        if not paths:
            return []
        status = self.repo.git.status("--porcelain", "--", *paths)
        return sorted(line[3:] for line in status.splitlines() if line.strip())

    def snapshot(self, dest: Path, rev: str = "HEAD") -> Path:
        """The tree of `rev` exported to `dest` (made if missing), readable by the sandbox.

        Raises:
            LedgerError: the tree holds a link that leads out of it (absolute, or
                relative and escaping: into the state folder, say) or loops.
        """
        if not dest.exists():
            archive = self._run("archive", self.resolve(rev))
            extract_checked(archive, dest, f"{self.path} at {rev}")
        return dest

    def log(self, target: str, limit: int = 200) -> list[dict[str, Any]]:
        """Neuromutant's commits for `target`, newest first, with their trailers."""
        self._need_commit()
        raw = self.repo.git.log(
            f"-{limit}",
            f"--grep={TRAILER_PREFIX}Target: {target}",
            "--fixed-strings",
            "--format=%H%x1f%s%x1f%aI%x1f%B%x1e",
        )
        entries = []
        for record in raw.split("\x1e"):
            if not record.strip():
                continue
            sha, subject, date, body = record.strip("\n").split("\x1f", 3)
            entries.append(
                {"sha": sha, "subject": subject, "date": date, "trailers": parse_trailers(body)}
            )
        reverted = {e["trailers"].get("Reverts") for e in entries}
        for entry in entries:
            entry["reverted"] = entry["sha"] in reverted
        return entries

    # --- writing ------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Undo what a killed process left: a stale lock, a commit whose file was not written.

        An index.lock that no process holds open is stale: git keeps it open while it works.
        """
        self._need_commit()
        actions = []
        lock = Path(self.repo.git_dir) / "index.lock"
        if lock.exists() and not open_by_any_process(lock):
            lock.unlink(missing_ok=True)
            actions.append("removed a stale .git/index.lock")
        head = self.repo.head.commit
        if TRAILER_PREFIX + "Target" in head.message and head.parents:
            parent = head.parents[0]
            changed = self.repo.git.diff_tree(
                "--no-commit-id", "--name-only", "-r", parent.hexsha, head.hexsha
            ).splitlines()
            for path in changed:
                if (
                    self._disk_id(path)
                    == self._blob_id(parent.hexsha, path)
                    != self._blob_id(head.hexsha, path)
                ):
                    self._write_work_tree([path])
                    actions.append(f"wrote {path} of {head.hexsha[:12]}, cut short by a crash")
        for action in actions:
            log.warning("%s: %s", self.path, action)
        return actions

    def commit_file(self, path: str, content: str | bytes, message: str) -> str:
        """Commit `content` as `path` on the current branch; returns the new commit's hash.

        Raises:
            LedgerError: the file has uncommitted changes, or the branch moved meanwhile.
        """
        return self.commit_files({path: content}, message)

    def commit_files(self, changes: Mapping[str, str | bytes | None], message: str) -> str:
        """Commit several files at once (None removes one); returns the new commit's hash.

        Raises:
            LedgerError: a file has uncommitted changes (or is untracked where a file
                would go), or the branch moved meanwhile.
        """
        if not changes:
            raise LedgerError("nothing to commit")
        branch = self.branch()
        old = self.head()
        paths = sorted(changes)
        dirty = self.dirty(paths)
        if dirty:
            raise LedgerError(
                f"{', '.join(f'{self.path}/{p}' for p in dirty)} has uncommitted changes; "
                "not touching it"
            )
        index = Path(self.repo.git_dir) / f"neuromutant-index-{os.getpid()}"
        try:
            env = {"GIT_INDEX_FILE": str(index)}
            self._git("read-tree", old, env=env)
            for path in paths:
                content = changes[path]
                if content is None:
                    self._git("update-index", "--force-remove", "--", path, env=env)
                    continue
                blob = self._git("hash-object", "-w", "--stdin", input=content)
                mode = self._mode(old, path)
                self._git("update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}", env=env)
            tree = self._git("write-tree", env=env)
        finally:
            index.unlink(missing_ok=True)
        commit = self._git("commit-tree", tree, "-p", old, input=message, env=self.identity.env())
        self._git("update-ref", f"refs/heads/{branch}", commit, old)  # atomic: fails if moved
        self._write_work_tree(paths)
        return commit

    def revert(self, sha: str, message: str) -> str:
        """Commit the inverse of Neuromutant commit `sha` (every file it changed)."""
        commit = self.repo.commit(self.resolve(sha))
        if not commit.parents:
            raise LedgerError(f"{sha[:12]} has no parent to revert to")
        parent = commit.parents[0].hexsha
        changed = self.repo.git.diff_tree(
            "--no-commit-id", "--name-only", "-r", parent, sha
        ).splitlines()
        if not changed:
            raise LedgerError(f"{sha[:12]} changes no file; there is nothing to revert")
        moved = [p for p in changed if self._blob_id("HEAD", p) != self._blob_id(sha, p)]
        if moved:
            raise LedgerError(
                f"{', '.join(moved)} changed again after {sha[:12]}; revert it by hand "
                "(git revert) to resolve the conflict"
            )
        return self.commit_files({p: self._blob_bytes(parent, p) for p in changed}, message)

    def rollback(self, target: str, to: str | None = None) -> list[dict[str, str]]:
        """Revert `target`'s latest live Neuromutant commit, or every one after `to`.

        Newest first, one revert commit each (history kept). Returns what was
        reverted: ``{"reverted", "revert", "subject"}`` per commit.

        Raises:
            LedgerError: nothing to roll back, `to` is unknown, or a revert conflicts
                (the reverts made before it stay, and the message says how many).
        """
        live = [
            e
            for e in self.log(target, 1000)
            if not e["reverted"] and "Reverts" not in e["trailers"]
        ]
        if to is not None:
            after = set(self.commits_after(to))
            victims = [e for e in live if e["sha"] in after]
        else:
            victims = live[:1]
        if not victims:
            raise LedgerError(f"nothing to roll back: no unreverted Neuromutant commit on {target}")
        done: list[dict[str, str]] = []
        for entry in victims:
            subject = f'Revert "{entry["subject"]}"'
            message = format_message(
                subject,
                f"This reverts commit {entry['sha']}.\n\nRolled back by hand.",
                {"Target": target, "Reverts": entry["sha"], "Reason": "nmctl rollback"},
            )
            try:
                sha = self.revert(entry["sha"], message)
            except LedgerError as exc:
                raise LedgerError(f"stopped after {len(done)} revert(s): {exc}") from None
            done.append({"reverted": entry["sha"], "revert": sha, "subject": subject})
        return done

    # --- helpers ------------------------------------------------------------------------

    def _need_commit(self) -> None:
        """Refuse, changing nothing, a repository whose branch has no commit yet."""
        if not self.repo.head.is_valid():
            raise LedgerError(f"{self.path} has no commit yet: commit the bot's code first")

    def _git(
        self, *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
    ) -> str:
        done = self._run(*args, input=input.encode() if isinstance(input, str) else input, env=env)
        return done.decode().strip()

    def _run(
        self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None
    ) -> bytes:
        done = subprocess.run(
            ["git", "-C", str(self.path), *args],
            input=input,
            capture_output=True,
            env={**os.environ, **(env or {})},
        )
        if done.returncode != 0:
            stderr = done.stderr.decode(errors="replace").strip()
            raise LedgerError(f"git {args[0]} failed in {self.path}: {stderr}")
        return done.stdout

    def _mode(self, rev: str, path: str) -> str:
        entry = self._git("ls-tree", rev, "--", path)
        return entry.split()[0] if entry else "100644"

    def _blob_id(self, rev: str, path: str) -> str | None:
        """The blob hash of `path` at `rev`, or None where it does not exist."""
        entry = self._git("ls-tree", rev, "--", path)
        return entry.split()[2] if entry else None

    def _blob_bytes(self, rev: str, path: str) -> bytes | None:
        """The content of `path` at `rev`, or None where it does not exist."""
        blob = self._blob_id(rev, path)
        return None if blob is None else self._run("cat-file", "blob", blob)

    def _disk_id(self, path: str) -> str | None:
        """The blob hash the work tree's `path` would have, or None if it is not there."""
        if not (self.path / path).is_file():
            return None
        return self._git("hash-object", "--", path)

    def _write_work_tree(self, paths: list[str]) -> None:
        """Make the work tree and the index hold HEAD's version of `paths` (or not hold them)."""
        present = [p for p in paths if self._blob_id("HEAD", p) is not None]
        for path in paths:
            if path not in present:
                self._git("update-index", "--force-remove", "--", path)
                (self.path / path).unlink(missing_ok=True)
                parent = (self.path / path).parent
                while parent != self.path and parent.is_dir() and not any(parent.iterdir()):
                    parent.rmdir()  # as git rm does: no empty directory left behind
                    parent = parent.parent
        if present:
            self._git("checkout", "HEAD", "--", *present)


def open_ledger(spec: TargetSpec) -> Ledger:
    """The target's repository, made from its example on first use."""
    identity = Identity(spec.config.author.name, spec.config.author.email)
    if not spec.repo.exists() and spec.example is not None:
        log.info("%s: creating %s from %s", spec.name, spec.repo, spec.example)
        return Ledger.create_from(spec.repo, spec.example, spec.name, identity)
    return Ledger(spec.repo, identity)
