"""The git ledger: every accepted change is one commit, every rollback a revert commit.

Commits are made with plumbing so that a process killed at any point never
leaves the repository dirty, mid-commit or locked: the new blob, tree and
commit objects are written first (harmless if abandoned), the branch moves in
one atomic compare-and-swap, and only then is the changed file written to the
work tree. If the process dies between those last two steps, `recover` sees a
Neuromutant commit whose file on disk still holds the parent's content and
finishes the job. A file with uncommitted human edits is never written.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from sandbox.runners.overlay import is_test_file

from .errors import Error
from .targets import TargetSpec

log = logging.getLogger(__name__)

TRAILER_PREFIX = "Neuromutant-"


class LedgerError(Error):
    """The repository cannot be used as a target's ledger (missing, detached, conflicting)."""


@dataclass(frozen=True)
class Identity:
    """Author and committer of Neuromutant's commits."""

    name: str = "Neuromutant"
    email: str = "neuromutant@localhost"

    def env(self) -> dict[str, str]:
        """The git environment that sets both author and committer."""
        return {
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": self.email,
        }


def format_message(subject: str, body: str, trailers: dict[str, Any]) -> str:
    """A commit message: subject, body, and ``Neuromutant-Key: value`` trailers."""
    lines = [f"{TRAILER_PREFIX}{key}: {value}" for key, value in trailers.items()]
    parts = [subject.strip(), body.strip(), "\n".join(lines)]
    return "\n\n".join(p for p in parts if p) + "\n"


def parse_trailers(text: str) -> dict[str, str]:
    """The ``Neuromutant-*`` trailers of a message, without the prefix."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.startswith(TRAILER_PREFIX):
            found[key.removeprefix(TRAILER_PREFIX)] = value.strip()
    return found


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

        Built in a temporary directory and renamed into place, so a crash never
        leaves a half-made repository behind.
        """
        path = Path(path)
        staging = path.with_name(f".{path.name}.creating-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(example, staging, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        repo = git.Repo.init(staging, initial_branch="main")
        repo.git.add(A=True)
        with repo.git.custom_environment(**identity.env()):
            repo.git.commit(m=f"{name}: import the example bot", no_verify=True)
        repo.close()
        _readable_by_all(staging)
        path.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(path)
        return cls(path, identity)

    # --- reading ------------------------------------------------------------------------

    def branch(self) -> str:
        """The checked-out branch; commits go there."""
        if self.repo.head.is_detached:
            raise LedgerError(f"{self.path}: HEAD is detached; check out a branch first")
        return self.repo.active_branch.name

    def head(self) -> str:
        """The commit hash of HEAD."""
        return self.repo.head.commit.hexsha

    def tree(self, rev: str = "HEAD") -> str:
        """The tree hash of `rev`: what a baseline is cached by."""
        return self.repo.commit(rev).tree.hexsha

    def read(self, path: str, rev: str = "HEAD") -> str:
        """A file's content at `rev`."""
        return self.repo.git.show(f"{rev}:{path}", strip_newline_in_stdout=False)

    def files(self, globs: tuple[str, ...] | list[str]) -> list[str]:
        """Tracked files at HEAD that match `globs`, never tests or conftest files."""
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
        """The tree of `rev` exported to `dest` (made if missing), readable by the sandbox."""
        if dest.exists():
            return dest
        staging = dest.with_name(f".{dest.name}.{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(self.path), "archive", rev], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(staging)], input=archive, check=True)
        _readable_by_all(staging)
        staging.rename(dest)
        return dest

    def log(self, target: str, limit: int = 200) -> list[dict[str, Any]]:
        """Neuromutant's commits for `target`, newest first, with their trailers."""
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
        actions = []
        lock = Path(self.repo.git_dir) / "index.lock"
        if lock.exists() and not _open_by_any_process(lock):
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
                    self._on_disk(path)
                    == self._blob(parent.hexsha, path)
                    != self._blob(head.hexsha, path)
                ):
                    self._git("checkout", "HEAD", "--", path)
                    actions.append(f"wrote {path} of {head.hexsha[:12]}, cut short by a crash")
        for action in actions:
            log.warning("%s: %s", self.path, action)
        return actions

    def commit_file(self, path: str, content: str, message: str) -> str:
        """Commit `content` as `path` on the current branch; returns the new commit's hash.

        Raises:
            LedgerError: the file has uncommitted changes, or the branch moved meanwhile.
        """
        branch = self.branch()
        old = self.head()
        if self.dirty([path]):
            raise LedgerError(f"{self.path}/{path} has uncommitted changes; not touching it")
        blob = self._git("hash-object", "-w", "--stdin", input=content)
        index = Path(self.repo.git_dir) / f"neuromutant-index-{os.getpid()}"
        try:
            env = {"GIT_INDEX_FILE": str(index)}
            self._git("read-tree", old, env=env)
            mode = self._mode(old, path)
            self._git("update-index", "--cacheinfo", f"{mode},{blob},{path}", env=env)
            tree = self._git("write-tree", env=env)
        finally:
            index.unlink(missing_ok=True)
        commit = self._git("commit-tree", tree, "-p", old, input=message, env=self.identity.env())
        self._git("update-ref", f"refs/heads/{branch}", commit, old)  # atomic: fails if moved
        self._git("checkout", "HEAD", "--", path)
        return commit

    def revert(self, sha: str, message: str) -> str:
        """Commit the inverse of Neuromutant commit `sha` (a one-file change)."""
        commit = self.repo.commit(sha)
        if not commit.parents:
            raise LedgerError(f"{sha[:12]} has no parent to revert to")
        parent = commit.parents[0].hexsha
        changed = self.repo.git.diff_tree(
            "--no-commit-id", "--name-only", "-r", parent, sha
        ).splitlines()
        if len(changed) != 1:
            raise LedgerError(
                f"{sha[:12]} changes {len(changed)} files; only one-file "
                "Neuromutant commits can be reverted here (use git revert)"
            )
        path = changed[0]
        if self._blob("HEAD", path) != self._blob(sha, path):
            raise LedgerError(
                f"{path} changed again after {sha[:12]}; revert it by hand "
                "(git revert) to resolve the conflict"
            )
        return self.commit_file(path, self._blob(parent, path) or "", message)

    # --- helpers ------------------------------------------------------------------------

    def _git(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.path), *args],
            input=input,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
        )
        if done.returncode != 0:
            raise LedgerError(f"git {args[0]} failed in {self.path}: {done.stderr.strip()}")
        return done.stdout.strip()

    def _mode(self, rev: str, path: str) -> str:
        entry = self._git("ls-tree", rev, "--", path)
        return entry.split()[0] if entry else "100644"

    def _blob(self, rev: str, path: str) -> str | None:
        try:
            return self.read(path, rev)
        except git.GitCommandError:
            return None

    def _on_disk(self, path: str) -> str | None:
        try:
            return (self.path / path).read_text()
        except OSError:
            return None


def open_ledger(spec: TargetSpec) -> Ledger:
    """The target's repository, made from its example on first use."""
    identity = Identity(spec.config.author.name, spec.config.author.email)
    if not spec.repo.exists() and spec.example is not None:
        log.info("%s: creating %s from %s", spec.name, spec.repo, spec.example)
        return Ledger.create_from(spec.repo, spec.example, spec.name, identity)
    return Ledger(spec.repo, identity)


def _open_by_any_process(path: Path) -> bool:
    """Whether a live process holds `path` open (git keeps index.lock open while it works)."""
    target = str(path.resolve())
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            links = list(fd_dir.iterdir())
        except OSError:
            continue
        for link in links:
            try:
                if os.readlink(link) == target:
                    return True
            except OSError:
                continue
    return False


def _readable_by_all(root: Path) -> None:
    """Let the sandbox's unprivileged user read the tree (it runs as uid 65534)."""
    for directory, _, names in os.walk(root):
        os.chmod(directory, os.stat(directory).st_mode | 0o755)
        for name in names:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o444)
