"""A real sandbox process on a free loopback port: for tests, benchmarks and your own code.

    with SandboxProcess(data_dir=tmp).start() as sandbox:
        client = sandbox.client()           # a real twilio.rest.Client aimed at it
        sandbox.advance(120)                # fire every timer due in the next two minutes
        sandbox.callbacks()                 # what it sent, like the Console's debugger
        sandbox.reset()                     # every workspace gone

It runs ``python -m taskrouter_sandbox serve`` with explicit credentials and waits for the
banner that names its URL. The pytest plugin (:mod:`.pytest_plugin`) builds its fixtures on it.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from twilio.rest import Client

from .control_client import ControlClient
from .sdk import sandbox_client

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # where `-m taskrouter_sandbox` is found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SandboxProcess:
    """``python -m taskrouter_sandbox serve`` on a free port, with its own credentials."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[str] | None = None
    banner: str = ""
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> SandboxProcess:
        command = [
            sys.executable, "-m", "taskrouter_sandbox", "serve",
            "--port", str(self.port), "--data-dir", str(self.data_dir),
            "--account-sid", self.account_sid,
        ]  # fmt: skip
        # The token through the environment, not argv: argv is visible to every user of the
        # host in ps.
        env = {**os.environ, "PYTHONUNBUFFERED": "1",
               "TASKROUTER_SANDBOX_AUTH_TOKEN": self.auth_token}  # fmt: skip
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=PACKAGE_ROOT,
            env=env,
        )
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError(f"sandbox exited with {self.process.returncode}")
            if self.url in line:
                self.banner = line.strip()
                # Keep reading its output, or a chatty sandbox would block on a full pipe.
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        raise RuntimeError("sandbox did not print its URL in time")

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def __enter__(self) -> SandboxProcess:
        return self if self.process is not None else self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def client(self) -> Client:
        """A real ``twilio.rest.Client`` whose TaskRouter requests go to this sandbox."""
        return sandbox_client(self.url, self.account_sid, self.auth_token)

    @property
    def control_client(self) -> ControlClient:
        return ControlClient(self.url, self.account_sid, self.auth_token)

    def control(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        """Call the ``/_sandbox`` control plane with the sandbox's credentials."""
        return self.control_client.call(method, path, form)

    def reset(self) -> None:
        self.control_client.reset()

    def advance(self, seconds: float) -> Any:
        """Move the clock ``seconds`` forward; the control plane's answer (``{"now": …}``)."""
        return self.control("POST", "/_sandbox/clock", {"Advance": str(seconds)})

    def callbacks(self, workspace_sid: str | None = None) -> list[dict[str, Any]]:
        return self.control_client.callbacks(workspace_sid)
