"""A real workshop sandbox (``python -m taskrouter_sandbox workshop``) on a free loopback port,
for tests and the room benchmark; its seats read back from the data dir it keeps them in."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twilio.rest import Client

from ..control_client import ControlClient, read_credentials
from ..sdk import sandbox_client
from ..testing import ChildProcessLifecycle, free_port, launch
from . import ACTION_HEADERS
from .seats import Seat, read


@dataclass
class RoomProcess(ChildProcessLifecycle):
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
        self.process, _ = launch(
            command, env, "TaskRouter sandbox listening on", self.output, timeout
        )
        return self

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
