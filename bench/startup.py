"""What a learner waits for: sandbox cold start, ``helpers.connect()``, the notebooks (report §4).

    python -m bench.startup [--rounds 3] [--notebooks all|00-set-up-the-workspace.ipynb,...]

* cold start: spawn ``python -m taskrouter_sandbox serve`` on a fresh data dir and poll
  ``GET /_sandbox/health`` every 5 ms until the first 200;
* ``helpers.connect()`` with auto-start: a fresh data dir and port, so connect() has to start
  the background sandbox; timed to a working client that has answered a first list call;
* notebooks: every notebook, in the story's order, executed headless with nbclient in a real
  kernel against one fresh sandbox (the approach of ``tests/notebooks/test_notebooks.py``).
  The kernel inherits ``TASKROUTER_*`` from this process, set only for the run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helpers
from helpers.config import Settings
from taskrouter_sandbox import process
from taskrouter_sandbox.testing import free_port

from . import KIT_ROOT
from .stats import spread

NOTEBOOKS = sorted((KIT_ROOT / "notebooks").glob("*.ipynb"))


def cold_start() -> float:
    """Seconds from spawning ``serve`` to its first 200 on /_sandbox/health."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        command = [sys.executable, "-m", "taskrouter_sandbox", "serve", "--port", str(port),
                   "--data-dir", tmp, "--account-sid", "AC" + secrets.token_hex(16),
                   "--auth-token", secrets.token_hex(16)]  # fmt: skip
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=KIT_ROOT, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/_sandbox/health"
            while True:
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(url, timeout=1) as response,
                ):
                    if response.status == 200:
                        return time.perf_counter() - started
                if child.poll() is not None:
                    raise RuntimeError(f"sandbox exited with {child.returncode}")
                time.sleep(0.005)
        finally:
            child.terminate()
            child.wait(10)


def connect_autostart() -> float:
    """Seconds for ``helpers.connect()`` to start a sandbox and answer a first list call."""
    with tempfile.TemporaryDirectory(prefix="bench-connect-") as tmp:
        settings = Settings(sandbox_dir=Path(tmp) / "sandbox", sandbox_port=free_port())
        started = time.perf_counter()
        try:
            client = helpers.connect(settings)
            client.taskrouter.v1.workspaces.list(limit=1)
            return time.perf_counter() - started
        finally:
            stop_sandbox(settings.sandbox_dir)


def stop_sandbox(data_dir: Path, timeout: float = 10.0) -> None:
    """SIGTERM the data dir's background sandbox and wait until it is gone or a zombie.

    ``process.stop`` polls ``kill(pid, 0)``, which a zombie passes: a sandbox started by a
    notebook kernel is orphaned when the kernel exits, and where PID 1 does not reap orphans
    it would wait its full 5 s for nothing.
    """
    info = process.state(data_dir)
    if info is None:
        return
    pid = int(info["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    status = Path(f"/proc/{pid}/status")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if "\nState:\tZ" in status.read_text():
                break
        except OSError:
            break
        time.sleep(0.02)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    (data_dir / process.STATE_FILE).unlink(missing_ok=True)


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in [*values, "TASKROUTER_TUNNEL"]}
    os.environ.pop("TASKROUTER_TUNNEL", None)
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_notebooks(paths: list[Path]) -> dict[str, float]:
    """Seconds per notebook (and their total), all against one fresh sandbox."""
    import nbformat
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix="bench-nb-") as tmp:
        settings = Settings(sandbox_dir=Path(tmp) / "sandbox", sandbox_port=free_port())
        values = {
            "TASKROUTER_MODE": "sandbox",
            "TASKROUTER_SANDBOX_DIR": str(settings.sandbox_dir),
            "TASKROUTER_SANDBOX_PORT": str(settings.sandbox_port),
            "TASKROUTER_CALLBACK_PORT": str(free_port()),
        }
        seconds: dict[str, float] = {}
        try:
            with environment(values):
                for path in paths:
                    notebook = nbformat.read(path, as_version=4)
                    started = time.perf_counter()
                    NotebookClient(notebook, timeout=120, kernel_name="python3",
                                   resources={"metadata": {"path": tmp}}).execute()  # fmt: skip
                    seconds[path.name] = time.perf_counter() - started
        finally:
            stop_sandbox(settings.sandbox_dir)
    seconds["total"] = sum(seconds.values())
    return seconds


def run(rounds: int, notebook_rounds: int, notebooks: list[Path]) -> dict[str, Any]:
    cold = [cold_start() for _ in range(rounds)]
    connect = [connect_autostart() for _ in range(rounds)]
    runs = [run_notebooks(notebooks) for _ in range(notebook_rounds)]
    return {
        "cold_start_s": spread(cold),
        "connect_s": spread(connect),
        "notebooks_s": {name: spread(r[name] for r in runs) for name in runs[0]} if runs else {},
        "notebooks": [p.name for p in notebooks],
        "rounds": rounds,
        "notebook_rounds": notebook_rounds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--notebooks", default="all")
    args = parser.parse_args()
    chosen = NOTEBOOKS if args.notebooks == "all" else [
        KIT_ROOT / "notebooks" / name for name in args.notebooks.split(",")
    ]  # fmt: skip
    print(json.dumps(run(args.rounds, args.rounds, chosen), indent=2))


if __name__ == "__main__":
    main()
