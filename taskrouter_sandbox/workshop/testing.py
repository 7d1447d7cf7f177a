"""A real workshop sandbox (``python -m taskrouter_sandbox workshop``) on a free loopback port,
for tests and the room benchmark; its seats read back from the data dir it keeps them in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twilio.rest import Client

from ..control_client import ControlClient, read_credentials
from ..sdk import sandbox_client
from ..testing import PACKAGE_ROOT, free_port
from . import ACTION_HEADERS
from .seats import Seat, read


@dataclass
class RoomProcess:
    data_dir: Path
    seat_count: int = 3
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> RoomProcess:
        command = [
            sys.executable, "-m", "taskrouter_sandbox", "workshop", "--seats",
            str(self.seat_count), "--host", self.host, "--port", str(self.port),
            "--data-dir", str(self.data_dir), *self.extra_args,
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("TASKROUTER_SANDBOX_")}
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            cwd=PACKAGE_ROOT, env={**env, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError("workshop exited:\n" + "".join(self.output))
            self.output.append(line)
            if "TaskRouter sandbox listening on" in line:
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        raise RuntimeError("workshop did not start in time:\n" + "".join(self.output))

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

    def __enter__(self) -> RoomProcess:
        return self if self.process is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def seats(self) -> list[Seat]:
        return read(self.data_dir)

    def seat_client(self, number: int) -> Client:
        seat = self.seats[number - 1]
        return sandbox_client(self.url, seat.account_sid, seat.auth_token)

    def facilitator(self) -> ControlClient:
        creds = read_credentials(self.data_dir)
        assert creds is not None
        return ControlClient(self.url, creds.account_sid, creds.auth_token, timeout=10)

    def status(self) -> dict[str, Any]:
        return dict(self.facilitator().call("GET", "/_sandbox/workshop/status"))

    def reset_seat(self, number: int) -> dict[str, Any]:
        path = f"/_sandbox/workshop/seats/{number}/reset"
        return dict(self.facilitator().call("POST", path, {}, ACTION_HEADERS))
