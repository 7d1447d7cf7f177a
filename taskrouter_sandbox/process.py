"""Running the sandbox: foreground serving and one managed background instance.

The background instance is described by ``sandbox.json`` in the data dir (pid, host, port)
and uses the credentials in ``credentials.json`` (generated once, mode 0600).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import control_client
from .app import Sandbox, SandboxConfig, create_app
from .files import open_private_append, private_dir, private_file
from .http_server import make_server, warn

if TYPE_CHECKING:
    from .event_bridge.server import EventBridge

STATE_FILE = "sandbox.json"
CREDENTIALS_FILE = "credentials.json"
LOG_FILE = "sandbox.log"
START_DEADLINE = 15.0
CREDENTIAL_ENV_PREFIXES = (
    "TASKROUTER_SANDBOX_AUTH_TOKEN",
    "TASKROUTER_SANDBOX_ACCOUNT_SID",
    "TASKROUTER_SANDBOX_EXTRA_ACCOUNTS",
)


class SandboxProcessError(RuntimeError):
    """Starting, stopping or reaching the background sandbox failed; the message says why."""


@dataclass(frozen=True)
class Credentials:
    account_sid: str
    auth_token: str

    def __repr__(self) -> str:
        return f"Credentials(account_sid={self.account_sid!r}, auth_token='***')"


def credentials(
    data_dir: Path, account_sid: str | None = None, auth_token: str | None = None
) -> Credentials:
    """Explicit credentials win; else those kept in the data dir; else new ones, kept."""
    path = data_dir / CREDENTIALS_FILE
    if account_sid and auth_token:
        return Credentials(account_sid, auth_token)
    if path.exists():
        try:
            saved = json.loads(path.read_text())
            return Credentials(saved["account_sid"], saved["auth_token"])
        except (ValueError, KeyError) as error:
            raise SandboxProcessError(
                f"{path} is damaged ({error}); delete it and the sandbox makes new credentials"
            ) from None
    made = Credentials(account_sid or "AC" + secrets.token_hex(16), secrets.token_hex(16))
    private_dir(data_dir)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"account_sid": made.account_sid, "auth_token": made.auth_token}, handle)
    return made


def base_url(host: str, port: int) -> str:
    return f"http://{host}:{port}"


def healthy(url: str, timeout: float = 0.5) -> bool:
    return control_client.health(url, timeout)  # never through an HTTP(S)_PROXY


def serve(
    data_dir: Path,
    host: str,
    port: int,
    account_sid: str | None = None,
    auth_token: str | None = None,
    extra_accounts: tuple[tuple[str, str], ...] = (),
    event_bridge_port: int | None = 0,
    setup: Callable[[Sandbox], None] | None = None,
) -> None:
    """Serve in the foreground until SIGINT/SIGTERM; with the JS SDK's event bridge on
    ``event_bridge_port`` (0: any free port, None: none; see docs/event-bridge.md).
    ``setup`` runs on the sandbox before it serves (the workshop attaches its room there)."""
    creds = credentials(data_dir, account_sid, auth_token)
    config = SandboxConfig(
        creds.account_sid, creds.auth_token, data_dir, host, port, extra_accounts
    )
    sandbox = create_app(config)
    if setup is not None:
        setup(sandbox)
    try:
        server = make_server(sandbox, host, port)
    except OSError as error:
        raise SandboxProcessError(
            f"Cannot listen on {host}:{port} ({error.strerror}); is another sandbox running? "
            f"Try `python -m taskrouter_sandbox status` or pass --port"
        ) from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        warn(
            f"WARNING: the sandbox listens on {host}, not loopback: anyone who can reach this "
            "machine and knows the credentials can use it."
        )
    stop = threading.Event()

    def shutdown(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    # before the HTTP server answers: whoever finds it healthy finds the bridge too
    bridge = None if event_bridge_port is None else _start_bridge(sandbox, host, event_bridge_port)
    thread = threading.Thread(target=server.serve_forever, name="sandbox-http", daemon=True)
    thread.start()
    sandbox.start_timers()
    actual_port = server.server_address[1]
    extra = f" and {len(extra_accounts)} more" if extra_accounts else ""
    print(
        f"TaskRouter sandbox listening on {base_url(host, actual_port)} "
        f"(account {creds.account_sid}{extra}, data in {data_dir})",
        flush=True,
    )
    if bridge is not None:
        print(f"Event bridge for the JS SDK on {bridge.eb_server}", flush=True)
    try:
        stop.wait()
    finally:
        if bridge is not None:
            bridge.close()
        server.shutdown()
        server.server_close()
        sandbox.close()


def _start_bridge(sandbox: Sandbox, host: str, port: int) -> EventBridge:
    from . import event_bridge

    try:
        return event_bridge.start(sandbox, host, port)
    except OSError as error:
        raise SandboxProcessError(
            f"Cannot listen on {host}:{port} for the event bridge ({error.strerror}); "
            "pass another --event-bridge-port (0 picks a free one)"
        ) from None


def state(data_dir: Path) -> dict[str, Any] | None:
    path = data_dir / STATE_FILE
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def running_url(data_dir: Path) -> str | None:
    """The URL of the background sandbox of this data dir when it answers, else None."""
    info = state(data_dir)
    if info is None:
        return None
    url = base_url(info["host"], info["port"])
    return url if healthy(url) else None


def start(data_dir: Path, host: str, port: int) -> str:
    """Start the background sandbox (idempotent) and return its URL once it answers."""
    url = running_url(data_dir)
    if url is not None:
        return url
    url = base_url(host, port)
    if healthy(url):
        raise SandboxProcessError(
            f"Another sandbox (another data dir) already answers on {url}; stop it or choose "
            "another port with TASKROUTER_SANDBOX_PORT"
        )
    credentials(data_dir)  # created before the child starts, so both agree
    private_dir(data_dir)
    log = os.fdopen(open_private_append(data_dir / LOG_FILE), "ab")  # handed to the child
    command = [
        sys.executable,
        "-m",
        "taskrouter_sandbox",
        "serve",
        "--host",
        host,
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    # The background instance uses the data dir's credentials (connect() reads them there),
    # never a token the starting shell happens to export for a foreground `serve`.
    env = {k: v for k, v in os.environ.items() if not k.startswith(CREDENTIAL_ENV_PREFIXES)}
    child = subprocess.Popen(
        command,
        env=env,
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
    log.close()
    state_file = private_file(data_dir / STATE_FILE)
    state_file.write_text(json.dumps({"pid": child.pid, "host": host, "port": port}))
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if healthy(url, timeout=0.2):
            return url
        if child.poll() is not None:
            break
        time.sleep(0.05)
    with contextlib.suppress(OSError):
        child.kill()
    (data_dir / STATE_FILE).unlink(missing_ok=True)
    tail = _tail(data_dir / LOG_FILE)
    raise SandboxProcessError(f"The sandbox did not start on {url}. Its log says:\n{tail}")


def stop(data_dir: Path) -> bool:
    """Stop the background sandbox; True if one was running."""
    info = state(data_dir)
    if info is None:
        return False
    pid = int(info["pid"])
    stopped = False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        stopped = True
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    (data_dir / STATE_FILE).unlink(missing_ok=True)
    return stopped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
