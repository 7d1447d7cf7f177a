"""The data dir and its files are private to the user who runs the sandbox.

On a shared host (a workshop machine) the SQLite state, the credentials and the log must not
be readable by other users: the dir is 0700, the files 0600. SQLite creates its ``-wal`` and
``-shm`` files with the permissions of the database file, so creating that one 0600 is enough.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

SANDBOX_FILES = (
    "sandbox.sqlite3", "credentials.json", "sandbox.json", "sandbox.log", "seats.json",
    "workshop-seats.html",
)  # fmt: skip


def private_dir(path: Path) -> Path:
    """Create ``path`` (0700), or tighten it when it holds nothing but the sandbox's files
    (a dir the user also keeps other things in is left as it is)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if _only_sandbox_files(path) and stat.S_IMODE(path.stat().st_mode) & 0o077:
        with contextlib.suppress(PermissionError):
            path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if missing; tighten it (and SQLite's companions)
    when it exists."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if stat.S_IMODE(candidate.stat().st_mode) & 0o077:
                candidate.chmod(0o600)
    return path


def open_private_append(path: Path) -> int:
    """A file descriptor appending to ``path``, created 0600 (the background sandbox's log)."""
    private_file(path)
    return os.open(path, os.O_WRONLY | os.O_APPEND)


def _only_sandbox_files(path: Path) -> bool:
    try:
        names = [entry.name for entry in os.scandir(path)]
    except OSError:
        return False
    return all(name.startswith(SANDBOX_FILES) for name in names)
