"""``expose(port)``: the URL TaskRouter should call — loopback in sandbox, a pyngrok tunnel live.

What the notebook lifecycle does to an ngrok agent, and what this module does about it:

* Kernel ▸ Interrupt signals the kernel's whole process group: the agent is started in its own
  session (``start_new_session=True``) so it survives.
* A force-killed kernel orphans that agent, which keeps its ngrok session (free plans allow few:
  ERR_NGROK_108) — so the agent's pid is recorded in a state file and the next kernel stops it
  (that pid only, after checking it is an ngrok process whose kernel is gone).
* pyngrok waits forever on an agent that prints nothing: ``connect()`` runs on a thread with
  our own deadline, and a silent agent is killed.
* Re-running ``expose`` reuses the agent's existing tunnel to the port instead of opening more.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import math
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from pyngrok import conf, ngrok, process
from pyngrok.exception import PyngrokError, PyngrokNgrokError, PyngrokNgrokInstallError

from ._pids import alive
from .config import Settings, load_settings
from .errors import TunnelError
from .server import CallbackServer, port_number, running_server

STATE_FILE = "ngrok-agents.json"
DEFAULT_TIMEOUT = 20.0
TOKEN_URL = "https://dashboard.ngrok.com/get-started/your-authtoken"
_lock = threading.RLock()
_exposed: dict[int, tuple[CallbackServer, str]] = {}  # port -> (server, tunnel URL we set)
_agents: dict[str, tuple[int, Path]] = {}  # ngrok_path -> (pid, state file) started here


def expose(
    port_or_server: int | CallbackServer,
    *,
    tunnel: bool | None = None,
    settings: Settings | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """The base URL TaskRouter should call for the server on this port.

    Sandbox mode: ``http://127.0.0.1:PORT`` (unless ``tunnel=True`` or TASKROUTER_TUNNEL=1).
    Live mode (or a forced tunnel): an ngrok tunnel's public URL, reused when this kernel
    already has one. A workshop seat (``TASKROUTER_SEAT``): the server's URL on this machine's
    address, once the room's sandbox has called it (``helpers.workshop.expose``).
    The URL is recorded on the server (given, or found by port) so that it checks signatures
    against the URL TaskRouter calls.
    """
    if isinstance(port_or_server, CallbackServer):
        server: CallbackServer | None = port_or_server
        port = port_or_server.port
    else:
        port = port_number(port_or_server)
        server = running_server(port)
    settings = settings or load_settings()
    if settings.seat and not (settings.live or settings.tunnel or tunnel):
        return _expose_to_the_room(port, server, settings)
    if not _listening(port):
        raise TunnelError(
            f"Nothing is listening on port {port}, so there is nothing to expose",
            "start the callback server first: server = helpers.CallbackServer().start(), "
            "then helpers.expose(server)",
        )
    if not ((settings.live or settings.tunnel) if tunnel is None else tunnel):
        url = f"http://127.0.0.1:{port}"
    else:
        url = _open_tunnel(port, settings, timeout)
        if server is not None:
            with _lock:
                _exposed[port] = (server, url)
    if server is not None:
        with _lock:
            server.public_url = url
    return url


def _expose_to_the_room(port: int, server: CallbackServer | None, settings: Settings) -> str:
    from . import workshop

    if server is None:
        raise TunnelError(
            f"No callback server of this notebook listens on port {port}",
            "start it here first: server = helpers.CallbackServer().start() (or "
            "helpers.serve(app)), then helpers.expose(server)",
        )
    return workshop.expose(server, settings)


def close_tunnels() -> None:
    """Stop this kernel's ngrok agents and tunnels; exposed servers go back to loopback URLs."""
    with _lock:
        for ngrok_path, (pid, state) in list(_agents.items()):
            ngrok.kill(conf.PyngrokConfig(ngrok_path=ngrok_path, config_version="3"))
            _forget(state, pid)
            del _agents[ngrok_path]
        for server, url in _exposed.values():
            if server.public_url == url:
                server.public_url = None
        _exposed.clear()


# -- the agent ------------------------------------------------------------------------------


@atexit.register
def _at_exit() -> None:
    with contextlib.suppress(Exception):
        close_tunnels()


def _pyngrok_config(settings: Settings, timeout: float) -> conf.PyngrokConfig:
    """pyngrok settings: ours, on top of anything the learner set on pyngrok's default."""
    default = conf.get_default()
    return conf.PyngrokConfig(
        ngrok_path=settings.ngrok_path or default.ngrok_path,
        config_path=settings.ngrok_config_path or default.config_path,
        auth_token=settings.ngrok_authtoken or default.auth_token,
        region=default.region,
        startup_timeout=max(1, math.ceil(timeout)),  # whole seconds; _call keeps the real deadline
        start_new_session=True,  # survive Kernel ▸ Interrupt (SIGINT to the process group)
        config_version="3",
    )


def _open_tunnel(port: int, settings: Settings, timeout: float) -> str:
    quiet = logging.getLogger("pyngrok")  # its error lines would print in red; ours say more
    if not any(isinstance(h, logging.NullHandler) for h in quiet.handlers):
        quiet.addHandler(logging.NullHandler())
    config = _pyngrok_config(settings, timeout)
    domain = settings.ngrok_domain
    wanted = (domain if "://" in domain else f"https://{domain}") if domain else None
    with _lock:
        running = process.is_process_running(config.ngrok_path)
        if running:
            for existing in _call(lambda: ngrok.get_tunnels(config), config, timeout, False):
                upstream = str(existing.upstream.get("url") or existing.config.get("addr") or "")
                public = str(existing.public_url or "").rstrip("/")
                if not upstream.rstrip("/").endswith(f":{port}"):
                    continue
                if wanted is None or public == wanted.rstrip("/"):
                    return public
                _call(lambda url=public: ngrok.disconnect(url, config), config, timeout, False)
        else:
            _stop_stale_agents(_state_path(settings))
        options: dict[str, Any] = {"url": wanted} if wanted else {}
        try:
            tunnel = _call(
                lambda: ngrok.connect(str(port), "http", pyngrok_config=config, **options),
                config, timeout, not running,
            )  # fmt: skip
        except TunnelError as error:
            others = [e for e in _read_state(_state_path(settings)) if alive(e.get("pid"))]
            if "ERR_NGROK_108" not in error.message or not others:
                raise
            pids = ", ".join(f"{e['pid']} (kernel {e.get('kernel_pid')})" for e in others)
            raise TunnelError(
                error.message,
                f"other notebooks on this computer run ngrok agents: pid {pids}; run "
                "helpers.close_tunnels() in those notebooks or shut their kernels down, then "
                "re-run",
            ) from None
        if not running and process.is_process_running(config.ngrok_path):
            agent = process.get_process(config)  # the one connect() started (running: no new one)
            _agents[config.ngrok_path] = (agent.proc.pid, _state_path(settings))
            _remember(_state_path(settings), agent.proc.pid, agent.api_url)
        return str(tunnel.public_url).rstrip("/")


def _call(action: Any, config: conf.PyngrokConfig, timeout: float, starting: bool) -> Any:
    """Run a pyngrok call with a hard deadline; map its failures to actionable TunnelErrors."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as error:
            outcome["error"] = error

    worker = threading.Thread(target=run, name="kit-ngrok-connect", daemon=True)
    worker.start()
    deadline = time.monotonic() + timeout + 0.5
    try:
        while worker.is_alive() and time.monotonic() < deadline:
            worker.join(0.1)  # short waits: Ctrl-C (Kernel ▸ Interrupt) lands at once
    except BaseException:  # Ctrl-C while waiting: don't leave a half-started agent behind
        if starting:
            _kill_starting_agent(config)
        raise
    if worker.is_alive():
        if starting:
            _kill_starting_agent(config)
            worker.join(2)
        raise TunnelError(
            f"The ngrok agent did not {'get ready' if starting else 'answer'} within {timeout:g} s",
            "ngrok needs outbound internet (TLS to connect.ngrok-agent.com:443): check the "
            "connection, proxy or firewall and re-run; offline, stay in sandbox mode "
            "(unset TASKROUTER_MODE), which needs no tunnel",
        )
    error = outcome.get("error")
    if error is None:
        return outcome["value"]
    raise _explain(error, config) from None


def _explain(error: BaseException, config: conf.PyngrokConfig) -> BaseException:
    if isinstance(error, PyngrokNgrokInstallError):
        return TunnelError(
            f"The ngrok agent is not installed at {config.ngrok_path} and could not be "
            f"downloaded ({error})",
            "connect to the internet and re-run (pyngrok downloads it once), or install ngrok "
            "yourself and set PYNGROK_NGROK_PATH=/path/to/ngrok; offline, stay in sandbox mode",
        )
    code = getattr(error, "ngrok_error_code", None)
    if code == "ERR_NGROK_4018":
        return TunnelError(
            "ngrok refused to start without your authtoken (ERR_NGROK_4018)",
            f"copy your authtoken from {TOKEN_URL} into the kit's .env file as "
            "NGROK_AUTHTOKEN=... (or set that environment variable), then re-run this cell",
        )
    if code == "ERR_NGROK_108":
        return TunnelError(
            "Your ngrok account already runs as many agent sessions as it may (ERR_NGROK_108)",
            "another ngrok agent is still running: another notebook (run helpers.close_tunnels() "
            "there), a terminal, or another computer; see and stop sessions at "
            "https://dashboard.ngrok.com/agents, then re-run",
        )
    if isinstance(error, PyngrokNgrokError):
        detail = (error.ngrok_error or str(error)).strip()
        return TunnelError(
            f"The ngrok agent failed: {detail}",
            "look up the ERR_NGROK code at https://ngrok.com/docs/errors/ if there is one; "
            "re-run, or call helpers.close_tunnels() and then expose() again",
        )
    if isinstance(error, (PyngrokError, OSError)):
        return TunnelError(
            f"ngrok failed: {error}", "re-run; if it persists, restart the kernel and re-run"
        )
    return error


def _kill_starting_agent(config: conf.PyngrokConfig) -> None:
    """Kill the agent pyngrok is still waiting for.

    pyngrok holds its process lock while it reads the agent's first lines, so its public
    ``process.kill_process`` would wait for the silent agent too; the agent is found instead
    as this kernel's child process running ``config.ngrok_path``. Killing it ends pyngrok's
    read, and pyngrok then cleans up its own records.
    """
    for pid in _children_running(config.ngrok_path):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _children_running(executable: str) -> list[int]:
    """This process's children running ``executable`` (directly, or as a script an interpreter
    runs: its first two words), found with ``ps`` (Linux and macOS)."""
    try:
        listing = subprocess.run(["ps", "-ww", "-A", "-o", "pid=,ppid=,args="], capture_output=True,
                                 text=True, timeout=5).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in listing.splitlines():
        pid, ppid, *command = line.split(None, 2)
        words = command[0].split() if command else []
        if int(ppid) == os.getpid() and executable in words[:2]:
            found.append(int(pid))
    return found


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


# -- the state file: agents started by kernels of this kit ---------------------------------


def _state_path(settings: Settings) -> Path:
    return Path(settings.sandbox_dir) / STATE_FILE


def _read_state(path: Path) -> list[dict[str, Any]]:
    try:
        return [dict(entry) for entry in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return []


def _write_state(path: Path, entries: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries))


def _remember(path: Path, pid: int, api_url: str | None) -> None:
    entries = [e for e in _read_state(path) if e.get("pid") != pid and alive(e.get("pid"))]
    entries.append({"pid": pid, "kernel_pid": os.getpid(), "api_url": api_url, "at": time.time()})
    _write_state(path, entries)


def _forget(path: Path, pid: int) -> None:
    _write_state(path, [e for e in _read_state(path) if e.get("pid") != pid])


def _stop_stale_agents(path: Path) -> None:
    """Stop recorded agents whose kernel is gone (or is us, having lost track of them)."""
    keep = []
    for entry in _read_state(path):
        pid, kernel = entry.get("pid"), entry.get("kernel_pid")
        if not alive(pid) or not _is_ngrok(pid):
            continue  # gone, or the pid now belongs to something else: never touch it
        if kernel != os.getpid() and alive(kernel):
            keep.append(entry)  # another live notebook's agent
            continue
        _terminate(pid)
    _write_state(path, keep)


def _is_ngrok(pid: Any) -> bool:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        try:
            command = ["ps", "-ww", "-o", "command=", "-p", str(pid)]
            args = subprocess.run(command, capture_output=True, text=True, timeout=5).stdout.split()
        except (OSError, subprocess.SubprocessError):
            return False
    return "start" in args and any(Path(a).name.startswith("ngrok") for a in args)


def _terminate(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 3
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
