"""Stoplight Prism mocking the TaskRouter spec: the generic mock the sandbox is compared to.

Prism is installed from npm into ``bench/.prism`` (gitignored) for the benchmark only, as
``reference/twilio-sdk.md`` §3 describes (``--ignore-scripts`` + ``SCARF_ANALYTICS=false`` keep
its install-time analytics quiet), and run in static mode: dynamic mode breaks the SDK. It logs
at ``warn`` so its per-request info log is not part of its measured cost. When npm or the
registry is missing, :func:`locate` says why and the report carries that note instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from taskrouter_sandbox.testing import free_port

from . import KIT_ROOT

PRISM_VERSION = "5.16.0"
PRISM_DIR = KIT_ROOT / "bench" / ".prism"
PRISM_BIN = PRISM_DIR / "node_modules" / ".bin" / "prism"
SPEC = KIT_ROOT / "spec" / "twilio_taskrouter_v1.json"


def locate(install: bool) -> tuple[Path | None, str]:
    """(path to the prism CLI, note); installs it when ``install`` and npm is there."""
    if PRISM_BIN.exists():
        return PRISM_BIN, f"@stoplight/prism-cli {PRISM_VERSION} from {PRISM_DIR.name}/"
    if not install:
        return None, "Prism skipped: not installed in bench/.prism (quick mode does not install)"
    npm = shutil.which("npm")
    if npm is None:
        return None, "Prism skipped: npm is not on PATH"
    PRISM_DIR.mkdir(parents=True, exist_ok=True)
    package = f"@stoplight/prism-cli@{PRISM_VERSION}"
    command = [npm, "install", "--prefix", str(PRISM_DIR), "--no-audit", "--no-fund",
               "--ignore-scripts", "--no-save", package]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=600,
            env={**os.environ, "SCARF_ANALYTICS": "false"},
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"Prism skipped: npm install failed ({error})"
    if done.returncode != 0 or not PRISM_BIN.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return None, f"Prism skipped: npm install failed ({tail[0]})"
    return PRISM_BIN, f"@stoplight/prism-cli {PRISM_VERSION}, installed now into bench/.prism/"


@dataclass
class PrismProcess:
    """``prism mock`` (static mode) on a free loopback port."""

    binary: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    startup_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> PrismProcess:
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [str(self.binary), "mock", "-h", "127.0.0.1", "-p", str(self.port),
             "-v", "warn", str(SPEC)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=KIT_ROOT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prism exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    self.startup_s = time.perf_counter() - started
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("prism did not listen in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> PrismProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
