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
from typing import IO, TYPE_CHECKING, Any, TypeVar

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


def launch(
    command: list[str], env: dict[str, str], ready: str, output: list[str], timeout: float
) -> tuple[subprocess.Popen[str], str]:
    """Start a sandbox CLI ``command`` and wait for the line containing ``ready`` (its banner);
    every line it prints goes to ``output``, read on by a thread so a chatty child never
    blocks on a full pipe. (The process, that line); a child that exits or stays silent
    raises with what it printed."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=PACKAGE_ROOT, env={**env, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise RuntimeError(f"{command[3]} exited with {process.returncode}:\n{''.join(output)}")
        output.append(line)
        if ready in line:
            threading.Thread(target=_drain, args=(process.stdout, output), daemon=True).start()
            return process, line.strip()
    process.kill()
    raise RuntimeError(f"{command[3]} did not print {ready!r} in time:\n{''.join(output)}")


Child = TypeVar("Child", bound="ChildProcessLifecycle")


def _drain(stream: IO[str], output: list[str]) -> None:
    for line in stream:
        output.append(line)


class ChildProcessLifecycle:
    """Stop (SIGTERM, then SIGKILL after 5 s), ``kill9`` and ``with`` for a launched child."""

    process: subprocess.Popen[str] | None

    def start(self: Child, timeout: float = 15.0) -> Child:
        raise NotImplementedError

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

    def __enter__(self: Child) -> Child:
        return self if self.process is not None else self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class SandboxClients:
    """The clients of a sandbox at ``url`` with ``account_sid``/``auth_token``: the SDK's and
    the control plane's."""

    if TYPE_CHECKING:  # each sandbox has them, as fields or properties

        @property
        def url(self) -> str: ...
        @property
        def account_sid(self) -> str: ...
        @property
        def auth_token(self) -> str: ...

    def client(self) -> Client:
        """A real ``twilio.rest.Client`` whose TaskRouter requests go to this sandbox."""
        return sandbox_client(self.url, self.account_sid, self.auth_token)

    @property
    def control_client(self) -> ControlClient:
        return ControlClient(self.url, self.account_sid, self.auth_token)

    def control(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        """Call the ``/_sandbox`` control plane over HTTP with the sandbox's credentials."""
        return self.control_client.call(method, path, form)


@dataclass
class SandboxProcess(ChildProcessLifecycle, SandboxClients):
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
        env = {**os.environ, "TASKROUTER_SANDBOX_AUTH_TOKEN": self.auth_token}
        self.process, self.banner = launch(command, env, self.url, self.output, timeout)
        return self

    def reset(self) -> None:
        self.control_client.reset()

    def advance(self, seconds: float) -> Any:
        """Move the clock ``seconds`` forward; the control plane's answer (``{"now": …}``)."""
        return self.control("POST", "/_sandbox/clock", {"Advance": str(seconds)})

    def callbacks(self, workspace_sid: str | None = None) -> list[dict[str, Any]]:
        return self.control_client.callbacks(workspace_sid)


@dataclass
class InProcessSandbox(SandboxClients):
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
