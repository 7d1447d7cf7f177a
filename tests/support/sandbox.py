"""A real sandbox process on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twilio.rest import Client

from helpers.client import ISOLATED_ENV, SandboxHttpClient

KIT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SandboxProcess:
    """``python -m helpers.sandbox serve`` exactly as DESIGN.md specifies it."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen | None = None
    banner: str = ""
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> SandboxProcess:
        command = [
            sys.executable, "-m", "helpers.sandbox", "serve",
            "--port", str(self.port), "--data-dir", str(self.data_dir),
            "--account-sid", self.account_sid,
        ]  # fmt: skip
        # The token through the environment, not argv: what the README recommends (argv is
        # visible to every user of the host in ps).
        env = {**os.environ, "PYTHONUNBUFFERED": "1",
               "TASKROUTER_SANDBOX_AUTH_TOKEN": self.auth_token}  # fmt: skip
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=KIT_ROOT,
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

    def client(self) -> Client:
        return Client(
            self.account_sid,
            self.auth_token,
            http_client=SandboxHttpClient(self.url),
            environment=ISOLATED_ENV,
        )

    def control(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        """Call the ``/_sandbox`` control plane with the sandbox's credentials."""
        data = None
        if form is not None:
            data = "&".join(f"{k}={v}" for k, v in form.items()).encode()
        token = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method,
            headers={"Authorization": f"Basic {token}",
                     "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def reset(self) -> None:
        self.control("POST", "/_sandbox/reset", {})

    def advance(self, seconds: float) -> Any:
        return self.control("POST", "/_sandbox/clock", {"Advance": str(seconds)})
