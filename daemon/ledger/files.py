"""File-system facts the ledger needs beside git: open locks, safe copies, checked trees.

An example folder and a repository's history come from the target's author, who
may be hostile. Nothing here ever follows a symbolic link: a link is copied as a
link only when it resolves inside its own tree, step by step, as the kernel would
resolve it in any copy of that tree (so it means the same in the copy and in the
sandbox). A link that leaves the tree, an absolute one, a loop, a link to a folder
that holds it (an endless tree for whoever follows it), and a special file (FIFO,
socket, device) are refused with a `LedgerError` naming the path and the target.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

from daemon.errors import LedgerError

IGNORED = ("__pycache__", "*.pyc", ".git")
"""Never copied from an example: caches, and any git directory (its hooks and config
would run as the daemon; the copy starts its own history)."""

ALLOWED = "only files, folders and links inside the tree are allowed"
MAX_HOPS = 40
"""Links followed while resolving one path, as Linux's own limit (ELOOP)."""

Parts = tuple[str, ...]


def open_by_any_process(path: Path) -> bool:
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


def readable_by_all(root: Path) -> None:
    """Let the sandbox's unprivileged user (uid 65534) read a snapshot we exported.

    Only for our own `git archive` exports, never for a copy of the author's files.
    """
    for directory, _, names in os.walk(root):
        os.chmod(directory, os.stat(directory).st_mode | 0o755)
        for name in names:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o444)


def extract_checked(archive: bytes, dest: Path, what: str) -> None:
    """Unpack a `git archive` tar to `dest`, refused unless its links stay inside it.

    Unpacked beside `dest` and renamed into place, so `dest` is whole or absent.

    Raises:
        LedgerError: a link leads out of the tree or loops (`check_tree`).
    """
    staging = dest.with_name(f".{dest.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        subprocess.run(["tar", "-x", "-C", str(staging)], input=archive, check=True)
        check_tree(staging, what)
        readable_by_all(staging)
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# --- walking and checking a tree, never following a link ------------------------------


def _entries(root: Path, ignore: tuple[str, ...] = ()) -> Iterator[tuple[Parts, os.DirEntry]]:
    """Every entry under `root` as (relative parts, entry), parents first, links not entered."""
    stack: list[Parts] = [()]
    while stack:  # no recursion: a hostile tree may be deeper than Python's stack
        rel = stack.pop()
        with os.scandir(root.joinpath(*rel)) as listing:
            entries = sorted(listing, key=lambda e: e.name)
        for entry in entries:
            if any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in ignore):
                continue
            yield (*rel, entry.name), entry
            if entry.is_dir(follow_symlinks=False):
                stack.append((*rel, entry.name))


def _resolve(root: Path, where: Parts, target: str) -> Parts | None:
    """Where link target `target`, read in folder `where`, leads inside `root`.

    None when it is absolute or steps above `root` at any point.

    Raises:
        LedgerError: more than `MAX_HOPS` links on the way (a loop).
    """
    if target.startswith("/"):
        return None
    parts, pending, hops = list(where), target.split("/"), 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        path = root.joinpath(*parts, part)
        if path.is_symlink():
            hops += 1
            if hops > MAX_HOPS:
                raise LedgerError("a link loop")
            inner = os.readlink(path)
            if inner.startswith("/"):
                return None
            pending = inner.split("/") + pending
            continue
        parts.append(part)  # a folder, a file, or nothing yet: the kernel would go on
    return tuple(parts)


def _special(mode: int) -> str | None:
    """What kind of special file `mode` is, or None for a file, folder or link."""
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return kind
    return None


def _check_link(root: Path, rel: Parts, what: str) -> Parts:
    """Where the link at `rel` leads inside `root`; a clear error when nowhere safe."""
    path = root.joinpath(*rel)
    target = os.readlink(path)
    name = "/".join(rel)
    try:
        resolved = _resolve(root, rel[:-1], target)
    except LedgerError:
        raise LedgerError(f"{what}: {name} -> {target} is a link loop") from None
    if resolved is None:
        raise LedgerError(
            f"{what}: {name} is a link to {target}, outside the tree; "
            "links may only point inside it (copy the file in instead)"
        )
    if resolved == rel[: len(resolved)]:
        raise LedgerError(
            f"{what}: {name} -> {target} points to a folder that holds it: "
            "a link loop for whoever follows it"
        )
    return resolved


def _dir_link_cycle(links: dict[Parts, Parts]) -> Parts | None:
    """A link on a cycle of folder links (l1 leads above l2, ..., ln above l1), or None.

    Following such links never ends, although each one alone stays inside the tree.
    """
    edges = {
        link: [other for other in links if other[: len(target)] == target]
        for link, target in links.items()
    }
    state: dict[Parts, int] = {}  # 1 on the current path, 2 done

    def visit(link: Parts) -> Parts | None:
        state[link] = 1
        for other in edges[link]:
            if state.get(other) == 1:
                return other
            if other not in state and (found := visit(other)) is not None:
                return found
        state[link] = 2
        return None

    for link in sorted(links):
        if link not in state and (found := visit(link)) is not None:
            return found
    return None


def check_tree(root: Path, what: str, ignore: tuple[str, ...] = ()) -> None:
    """Refuse a tree holding a link that leaves it or loops, or a special file.

    Raises:
        LedgerError: naming the path (relative to `root`), and a link's target.
    """
    dir_links: dict[Parts, Parts] = {}
    for rel, entry in _entries(root, ignore):
        if entry.is_symlink():
            resolved = _check_link(root, rel, what)
            if any(fnmatch.fnmatchcase(p, g) for p in resolved for g in ignore):
                raise LedgerError(
                    f"{what}: {'/'.join(rel)} -> {os.readlink(entry.path)} points into "
                    "what is never copied"
                )
            if root.joinpath(*resolved).is_dir():  # `resolved` holds no link: nothing followed
                dir_links[rel] = resolved
            continue
        kind = _special(entry.stat(follow_symlinks=False).st_mode)
        if kind is not None:
            raise LedgerError(f"{what}: {'/'.join(rel)} is {kind}; {ALLOWED}")
    cycle = _dir_link_cycle(dir_links)
    if cycle is not None:
        name = "/".join(cycle)
        raise LedgerError(
            f"{what}: {name} -> {os.readlink(root.joinpath(*cycle))} is on a loop of "
            "folder links: following them never ends"
        )


# --- copying an example ---------------------------------------------------------------


def _copy_file(source: str, dest: Path) -> None:
    """Copy one regular file with its own permission bits, opened without following links."""
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # swapped for something else since the check
            raise LedgerError(f"{source} is no longer a regular file; not copying it")
        out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with open(fd, "rb", closefd=False) as reader, open(out, "wb", closefd=False) as writer:
                shutil.copyfileobj(reader, writer)
            os.fchmod(out, stat.S_IMODE(info.st_mode) & 0o777)  # never setuid, setgid, sticky
            os.utime(out, ns=(info.st_atime_ns, info.st_mtime_ns))
        finally:
            os.close(out)
    finally:
        os.close(fd)


def copy_tree(source: Path, dest: Path, what: str) -> None:
    """Copy `source` to the new folder `dest`, links as links, modes as they are.

    Nothing is followed or opened but regular files, so the copy itself is safe;
    the copy (ours, no longer changing under us) is then checked (`check_tree`).
    Folders get the source's permission bits once filled; `dest` itself is left
    private (0700) for the caller to open up when the copy is complete.

    Raises:
        LedgerError: the tree holds a link that leaves it or loops, or a special file.
    """
    source = Path(source)
    if not source.is_dir():
        raise LedgerError(f"{what}: {source} is not a folder")
    dest.mkdir(mode=0o700)
    folders: list[tuple[Path, int]] = []
    for rel, entry in _entries(source, IGNORED):
        target = dest.joinpath(*rel)
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), target)
        elif entry.is_dir(follow_symlinks=False):
            target.mkdir(mode=0o700)
            folders.append((target, entry.stat(follow_symlinks=False).st_mode))
        elif entry.is_file(follow_symlinks=False):
            _copy_file(entry.path, target)
        else:
            kind = _special(entry.stat(follow_symlinks=False).st_mode) or "not a file"
            raise LedgerError(f"{what}: {'/'.join(rel)} is {kind}; {ALLOWED}")
    check_tree(dest, what, IGNORED)
    for folder, mode in reversed(folders):
        os.chmod(folder, stat.S_IMODE(mode) & 0o777)
