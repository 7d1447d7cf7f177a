"""A real sandbox on a free loopback port, as a process or in this process: for tests,
benchmarks and your own code.

    with SandboxProcess(data_dir=tmp).start() as sandbox:
        client = sandbox.client()           # a real twilio.rest.Client aimed at it
        sandbox.advance(120)                # fire every timer due in the next two minutes
        sandbox.callbacks()                 # what it sent, like the Console's debugger
        sandbox.reset()                     # every workspace gone

:class:`SandboxProcess` runs ``python -m taskrouter_sandbox serve`` with explicit credentials
and waits for the banner that names its URL. :class:`InProcessSandbox` runs the same server in a
thread of this process (no interpreter to start, the core at hand: ``.app``), with the same
methods::

    with InProcessSandbox.running() as sandbox:
        client = sandbox.client()
        sandbox.advance(120)                # the core fires the timers, in this process

The pytest plugin (:mod:`.pytest_plugin`) builds its fixtures on both.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from twilio.rest import Client

from .control_client import ControlClient
from .sdk import sandbox_client

if TYPE_CHECKING:
    from .app import Sandbox
    from .http_server import SandboxHTTPServer

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


@dataclass
class InProcessSandbox:
    """The sandbox's real HTTP server in a thread of this process, on a free loopback port.

    Same methods as :class:`SandboxProcess` (``url``, ``client()``, ``advance``, ``reset``,
    ``callbacks``, ``control``); ``app`` is the :class:`~.app.Sandbox` itself, so a test can
    call the core (``app.core``) or plant a fault in one of its parts.
    """

    app: Sandbox
    url: str
    server: SandboxHTTPServer

    @classmethod
    @contextmanager
    def running(cls, *, timers: bool = True, **config: Any) -> Iterator[Any]:
        """A fresh sandbox (in memory unless ``data_dir=`` is given), closed on exit;
        ``timers=False`` leaves firing timers to :meth:`advance`."""
        from .app import SandboxConfig, create_app  # the server only when one is wanted
        from .http_server import make_server, serve_in_thread

        settings = SandboxConfig(
            "AC" + secrets.token_hex(16), secrets.token_hex(16), port=0, **config
        )
        app = create_app(settings)
        server = make_server(app, "127.0.0.1", 0)
        serve_in_thread(server)
        if timers:
            app.start_timers()
        sandbox = cls(app, f"http://127.0.0.1:{server.server_address[1]}", server)
        try:
            yield sandbox
        finally:
            sandbox.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.app.close()

    @property
    def account_sid(self) -> str:
        return self.app.config.account_sid

    @property
    def auth_token(self) -> str:
        return self.app.config.auth_token

    def client(self) -> Client:
        """A real ``twilio.rest.Client`` whose TaskRouter requests go to this sandbox."""
        return sandbox_client(self.url, self.account_sid, self.auth_token)

    @property
    def control_client(self) -> ControlClient:
        return ControlClient(self.url, self.account_sid, self.auth_token)

    def control(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        """Call the ``/_sandbox`` control plane over HTTP, like :class:`SandboxProcess`."""
        return self.control_client.call(method, path, form)

    def reset(self) -> None:
        self.app.reset()

    def advance(self, seconds: float) -> Any:
        """Move the clock ``seconds`` forward in the core (every timer due fires first)."""
        from .wire import iso

        self.app.core.advance(seconds)
        return {"now": iso(self.app.clock.now())}

    def callbacks(self, workspace_sid: str | None = None) -> list[dict[str, Any]]:
        entries = self.app.callback_log(self.account_sid)
        return [e for e in entries if workspace_sid is None or e["workspace_sid"] == workspace_sid]
