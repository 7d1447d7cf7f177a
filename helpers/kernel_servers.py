"""Which callback servers run on this machine, in *every* kernel, and stopping them.

A learner opens 01, 02, 03… in one JupyterLab and leaves the earlier kernels running. Each
kernel's callback server lives in that kernel's process, so a registry inside one kernel cannot
see the others: notebook 99 said "no servers running" while 04's kernel held a port. Each
running server therefore leaves a small file in the sandbox's data directory (private to this
user) with its kernel's pid, its port, the notebook it serves and a stop token; readers drop
files whose pid is gone. Another kernel stops a server by POSTing the token to the server's
``/_kit/stop`` (the token never leaves the data directory, so nothing else on the machine can).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ._pids import alive
from .config import notebook_path, read_settings

STOP_PATH = "/_kit/stop"
STOP_HEADER = "X-Kit-Stop-Token"


@dataclass(frozen=True)
class ServerEntry:
    """One running callback server, as any kernel can read it."""

    pid: int
    port: int
    url: str
    notebook: str  # the notebook whose kernel runs it, or "a kernel (pid N)"
    started: float
    token: str

    @property
    def this_kernel(self) -> bool:
        return self.pid == os.getpid()

    def __str__(self) -> str:
        where = "this notebook" if self.this_kernel else self.notebook
        return f"port {self.port} ({where})"


def registry_dir() -> Path:
    return read_settings().sandbox_dir / "callback-servers"


def notebook_name() -> str:
    """The notebook this kernel runs (JupyterLab tells kernels via JPY_SESSION_NAME)."""
    path = notebook_path()
    return Path(path).name if path else f"a kernel (pid {os.getpid()})"


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _file(pid: int, port: int) -> Path:
    return registry_dir() / f"{pid}-{port}.json"


def register(port: int, url: str, token: str) -> None:
    """Record a server this kernel now runs; never fails the server's start."""
    entry = ServerEntry(os.getpid(), port, url, notebook_name(), time.time(), token)
    with contextlib.suppress(OSError):
        directory = registry_dir()
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = _file(entry.pid, port)
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            json.dump(asdict(entry), out)
        temporary.replace(path)


def unregister(port: int) -> None:
    with contextlib.suppress(OSError):
        _file(os.getpid(), port).unlink()


def entries() -> list[ServerEntry]:
    """Every registered server whose kernel is alive, oldest first; stale files are removed."""
    found: list[ServerEntry] = []
    directory = registry_dir()
    if not directory.is_dir():
        return found
    for path in directory.glob("*.json"):
        try:
            entry = ServerEntry(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            continue  # half-written by another kernel right now, or not ours: leave it
        if alive(entry.pid):
            found.append(entry)
        else:  # the kernel died (restart, crash): its server died with it
            with contextlib.suppress(OSError):
                path.unlink()
    return sorted(found, key=lambda e: e.started)


def stop_remote(entry: ServerEntry, timeout: float = 5.0) -> bool:
    """Ask another kernel's server to stop; True when it said yes (or is already gone)."""
    host = _host(entry)
    request = urllib.request.Request(
        f"http://{host}:{entry.port}{STOP_PATH}",
        method="POST",
        headers={STOP_HEADER: entry.token},
        data=b"",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            stopped = bool(response.status == 202)
    except OSError:  # refused: nothing listens there any more
        stopped = not _listening(host, entry.port)
    deadline = time.monotonic() + timeout
    while stopped and _listening(host, entry.port):  # it stops on its own thread: wait for the port
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    if stopped:
        with contextlib.suppress(OSError):
            _file(entry.pid, entry.port).unlink()
    return stopped


def _host(entry: ServerEntry) -> str:
    """Where the server listens: loopback, or a workshop seat's network address."""
    return urlsplit(entry.url).hostname or "127.0.0.1"


def _listening(host: str, port: int) -> bool:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
