"""``CallbackServer``: the assignment-callback server that runs inside the notebook kernel.

Learners re-run cells, interrupt and restart kernels, so the server is built to survive that:

* in sandbox mode nothing needs a fixed port (the sandbox calls loopback, the workflow is
  pointed at whatever port the server got; in live mode the tunnel forwards to it), so the
  server takes any free port unless ``TASKROUTER_CALLBACK_PORT`` fixes one: notebooks opened
  side by side in one JupyterLab, each kernel with its own server, never collide, and whoever
  calls ``point_workflow`` last (the newest notebook) owns the workflow's callback URL;
* a module-level registry of *slots* (the kernel's default server, or an explicit port) stops
  the server an earlier run of the cell left behind, and the new one takes over its port, so
  a re-run keeps its URL (and its ngrok tunnel) and never says "address already in use";
* every running server is also recorded for other kernels (``kernel_servers``), so notebook
  99 sees and stops the servers of every notebook, not only its own;
* werkzeug's ``make_server`` on a *daemon* thread (a non-daemon thread delays kernel restarts);
* HTTP/1.1 keep-alive (``helpers.keepalive``): werkzeug alone closes the connection after every
  callback, a TCP connect and a new thread each time;
* ``stop()`` shuts down the accept loop, closes kept-alive connections (their handler threads
  would otherwise linger) and the listening socket, so the port is free at once;
* TCP_NODELAY on every connection (else Nagle + delayed ACK add ~40 ms per callback);
* no werkzeug request log: it would spill into whichever notebook cell happens to be running.
"""

from __future__ import annotations

import atexit
import contextlib
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from twilio.rest import Client
from werkzeug.serving import BaseWSGIServer, make_server

from . import kernel_servers
from ._html import escape
from .callbacks import (
    ASSIGNMENT_PATH,
    EVENTS_PATH,
    Callback,
    CallbackRecord,
    RequestLog,
    create_app,
)
from .config import load_settings, read_settings
from .errors import CallbackServerError, UsageError
from .keepalive import KeepAliveHandler, open_connections
from .learner_app import Recorder, WSGIApp

KIT_PATHS = (ASSIGNMENT_PATH, EVENTS_PATH, "/health")  # the kit's routes beside your app's
DEFAULT_PORT = 0  # any free port; TASKROUTER_CALLBACK_PORT fixes one
DEFAULT_SLOT = "default"  # the kernel's one default server: a re-run replaces it
_registry: dict[object, CallbackServer] = {}  # slot -> server
_registry_lock = threading.RLock()


class _LiveLog(RequestLog):
    """The request log, telling listeners (the live display) about each new record."""

    def __init__(self) -> None:
        super().__init__()
        self.listeners: list[Callable[[], None]] = []

    def append(self, record: CallbackRecord) -> None:
        super().append(record)
        for listener in list(self.listeners):
            with contextlib.suppress(Exception):  # a closed display must not break serving
                listener()


def default_port() -> int:
    """``TASKROUTER_CALLBACK_PORT`` (environment or ``.env``) when set, else 0: any free port."""
    return read_settings().callback_port


def default_host() -> str:
    """Loopback; in a workshop seat (``TASKROUTER_SEAT``), this machine's address as the room's
    sandbox reaches it (``TASKROUTER_CALLBACK_HOST``, else the interface routing to the room),
    so the notebooks' own ``CallbackServer()`` and ``serve(app)`` work unchanged in a room."""
    settings = read_settings()
    if not settings.seat:
        return "127.0.0.1"
    from .workshop import learner_address

    return learner_address(settings)


def port_number(value: object) -> int:
    """A port given in code (0: any free one); anything else is a UsageError saying so."""
    text = str(value).strip() if isinstance(value, (int, str)) else ""
    if isinstance(value, bool) or not (text.isascii() and text.isdigit() and len(text) <= 5):
        text = "-1"
    if not 0 <= int(text) <= 65535:
        raise UsageError(f"{value!r} is not a port number",
                         "give a number between 1 and 65535, or 0 for any free port")  # fmt: skip
    return int(text)


def default_auth_token() -> str:
    """The token TaskRouter signs with in the current mode."""
    settings = load_settings()
    if settings.live:
        return str(settings.auth_token)
    from .client import sandbox_credentials

    return sandbox_credentials(settings).auth_token


class CallbackServer:
    """Answers TaskRouter's assignment callbacks with ``instruction`` (a dict or a function).

    ``server = CallbackServer({"instruction": "accept"}).start()``; change ``server.instruction``
    any time; ``server.requests`` logs every callback (signed by TaskRouter), ``server.refused``
    the requests answered 403 (unsigned or forged: not callbacks); ``server.stop()`` frees the port.
    ``CallbackServer(app=your_flask_app)`` runs *your* app instead (see ``helpers.serve``);
    ``CallbackServer(instruction, app=your_app)`` answers the assignment callback with
    ``instruction`` and gives every other path to your app (notebook 05's voice routes).

    Without ``port`` it is this kernel's default server: any free port (or
    TASKROUTER_CALLBACK_PORT), and starting another default server stops this one. Without
    ``host`` it listens on loopback, or in a workshop seat on the address the room's sandbox
    calls back (``default_host``).
    """

    def __init__(
        self,
        instruction: Mapping[str, Any] | Callable[[Callback], Any] | None = None,
        *,
        port: int | None = None,
        host: str | None = None,
        auth_token: str | None = None,
        verify_signatures: bool = True,
        app: WSGIApp | None = None,
    ) -> None:
        self.instruction = {"instruction": "accept"} if instruction is None else instruction
        # Your own Flask (WSGI) app. Alone (``helpers.serve(app)``) it answers every path, the
        # assignment callback included; with an ``instruction`` too (notebook 05's voice
        # routes) it gets every path the kit's callback routes do not take, on the same port
        # (one tunnel in live mode).
        self._beside_kit = app is not None and instruction is not None
        self.host = default_host() if host is None else host
        self._requested_port = default_port() if port is None else port_number(port)
        # which earlier server this one replaces: the kernel's default one, or one on a port
        self._slot: object = (
            ("port", self._requested_port)
            if self._requested_port
            else (DEFAULT_SLOT if port is None else None)
        )
        self.verify_signatures = verify_signatures
        self.app = app
        # a learner's app checks signatures itself; the token lets the log show the verdict
        needs_token = verify_signatures or app is not None
        self._auth_token = (auth_token or default_auth_token()) if needs_token else None
        self.public_url: str | None = None
        self.requests: RequestLog = _LiveLog()
        self.refused = RequestLog()
        self._stop_token = kernel_servers.new_token()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()

    # -- the instruction --------------------------------------------------------------------

    @property
    def instruction(self) -> Mapping[str, Any] | Callable[[Callback], Any]:
        return self._instruction

    @instruction.setter
    def instruction(self, value: Mapping[str, Any] | Callable[[Callback], Any]) -> None:
        if not (isinstance(value, Mapping) or callable(value)):
            raise CallbackServerError(
                f"instruction must be a dict or a function, not {type(value).__name__}",
                'use e.g. {"instruction": "accept"}, {} to decide later, or a function '
                "that takes the callback and returns such a dict",
            )
        self._instruction = value

    def _answer(self, callback: Callback) -> Any:
        current = self._instruction
        return current(callback) if callable(current) else dict(current)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> CallbackServer:
        """Serve on a daemon thread; idempotent; replaces a server left on the same port."""
        with self._lock:
            if self.running:
                return self
            with _registry_lock:
                previous = _registry.get(self._slot) if self._slot is not None else None
                if previous is not None and previous is not self:
                    if not self._requested_port and previous.running:
                        self._requested_port = previous.port  # the re-run keeps its URL
                        self.public_url = self.public_url or previous.public_url
                    previous.stop()
                sock = self._bind_or_any()
                server = None
                try:
                    app = self._stoppable(self._wsgi_app())
                    server = make_server(
                        self.host, sock.getsockname()[1], app, threaded=True,
                        request_handler=KeepAliveHandler, fd=sock.fileno(),
                    )  # fmt: skip
                    open_connections(server)
                    server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
                    thread = threading.Thread(
                        target=server.serve_forever,
                        kwargs={"poll_interval": 0.05},
                        name=f"callback-server-{server.port}",
                        daemon=True,
                    )
                    thread.start()
                except BaseException:  # KeyboardInterrupt included: leave nothing bound
                    if server is not None:
                        server.server_close()
                    raise
                finally:
                    sock.close()  # werkzeug serves a duplicate of this descriptor
                self._server, self._thread = server, thread
                self._requested_port = server.port  # a restart comes back on the same URL
                if self._slot is not None:
                    _registry[self._slot] = self
                _registry[("port", server.port)] = self
            kernel_servers.register(server.port, self.url, self._stop_token)
            return self

    def _wsgi_app(self) -> WSGIApp:
        own = self.app
        if own is not None and not self._beside_kit:
            return Recorder(own, self.requests, self._auth_token, lambda: self.public_url)
        kit = create_app(
            self._answer,
            auth_token=self._auth_token,
            verify_signatures=self.verify_signatures,
            public_url=lambda: self.public_url,
            log=self.requests,
            refused=self.refused,
        )
        if own is None:
            return kit

        def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            # Read per request, so assigning ``server.app`` again (a re-run cell) takes effect.
            current = self.app
            if current is not None and environ.get("PATH_INFO") not in KIT_PATHS:
                return current(environ, start_response)
            return kit(environ, start_response)

        return dispatch

    def _stoppable(self, app: WSGIApp) -> WSGIApp:
        """Answer another kernel's stop request (notebook 99) carrying this server's token."""

        def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("PATH_INFO") == kernel_servers.STOP_PATH:
                given = environ.get("HTTP_" + kernel_servers.STOP_HEADER.upper().replace("-", "_"))
                if environ.get("REQUEST_METHOD") == "POST" and given == self._stop_token:
                    threading.Thread(target=self.stop, name="callback-server-stop").start()
                    start_response("202 Accepted", [("Content-Length", "0")])
                    return [b""]
                start_response("403 Forbidden", [("Content-Length", "0")])
                return [b""]
            return app(environ, start_response)

        return wsgi

    def _bind_or_any(self) -> socket.socket:
        """Bind the requested port; a re-run that inherited a port falls back to any port."""
        try:
            return self._bind()
        except CallbackServerError:
            if self._slot != DEFAULT_SLOT or not self._requested_port or default_port():
                raise
            self._requested_port = 0
            return self._bind()

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
            sock.listen(128)
        except OSError as error:
            sock.close()
            raise CallbackServerError(
                f"Cannot listen on {self.host}:{self._requested_port} ({error.strerror})",
                "another program (or another notebook's server) uses this port: stop it there "
                "with server.stop(), or pick another port, e.g. CallbackServer(port=0) for any "
                "free one (unset TASKROUTER_CALLBACK_PORT and every notebook's server takes "
                "its own free port)",
            ) from None
        return sock

    def stop(self) -> None:
        """Stop serving and free the port now; safe to call twice."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            if server is None:
                return
            with _registry_lock:
                for slot in [slot for slot, s in _registry.items() if s is self]:
                    del _registry[slot]
            kernel_servers.unregister(server.port)
            for listener in getattr(self.requests, "listeners", []):
                with contextlib.suppress(Exception):
                    listener()  # the live display shows "stopped"
            if thread is not None and thread.is_alive():
                server.shutdown()  # returns once the accept loop has ended
            server.server_close()
            connections = dict(open_connections(server))
            for connection in connections:  # wakes handler threads waiting on keep-alive
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            for worker in [thread, *connections.values()]:
                if worker is not None and worker is not threading.current_thread():
                    worker.join(2)

    def __enter__(self) -> CallbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.port if self._server is not None else self._requested_port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Where TaskRouter should call: the public URL once exposed, else loopback."""
        return (self.public_url or self.url).rstrip("/")

    @property
    def assignment_url(self) -> str:
        return self.base_url + ASSIGNMENT_PATH

    @property
    def events_url(self) -> str:
        return self.base_url + EVENTS_PATH

    # -- the log -----------------------------------------------------------------------------

    @property
    def events(self) -> list[CallbackRecord]:
        return self.requests.of_kind("event")

    @property
    def assignments(self) -> list[CallbackRecord]:
        return self.requests.of_kind("assignment")

    def wait_for(
        self, predicate: Callable[[CallbackRecord], bool] | None = None, timeout: float = 10.0
    ) -> CallbackRecord:
        """Block until a logged callback matches ``predicate`` (default: any assignment)."""
        predicate = predicate or (lambda record: record.kind == "assignment")
        record = self.requests.wait_for(predicate, timeout)
        if record is None:
            raise CallbackServerError(
                f"No matching callback reached {self.url} within {timeout:g} s",
                "point the workflow at server.assignment_url (helpers.point_workflow), make "
                "sure a task is pending and a worker is available, and check the sandbox's "
                "debugger log (GET /_sandbox/callbacks) or Twilio's Console debugger",
            )
        return record

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        instruction = getattr(self._instruction, "__name__", None) or repr(self._instruction)
        public = f", public_url={self.public_url!r}" if self.public_url else ""
        return (
            f"<CallbackServer {state} url={self.url!r}{public} instruction={instruction} "
            f"verify_signatures={self.verify_signatures} requests={len(self.requests)} "
            f"refused={len(self.refused)}>"
        )

    def _ipython_display_(self) -> None:
        """A live status (count and last callbacks stay current), not a snapshot."""
        from .widgets.server_status import ServerStatus

        ServerStatus(self).display()

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(r.kind)}</td><td>{escape(r.status)}</td><td>{escape(r.signature)}"
            f"</td><td>{escape(r.params.get('TaskSid') or r.params.get('EventType'))}</td>"
            f"<td>{escape(r.answer)}</td><td>{r.latency_ms:.1f} ms</td></tr>"
            for r in self.requests.snapshot()[-5:]
        )
        head = "<tr><th>kind</th><th>status</th><th>signature</th><th>task/event</th>"
        head += "<th>answer</th><th>latency</th></tr>"
        refused = len(self.refused)
        return (
            f"<div><b>CallbackServer</b> {RUNNING if self.running else STOPPED} "
            f"on <code>{escape(self.url)}</code><br>TaskRouter calls "
            f"<code>{escape(self.assignment_url)}</code><br>"
            f"{len(self.requests)} callback{'' if len(self.requests) == 1 else 's'} received"
            + (f", {refused} unsigned or forged requests refused (server.refused)"
               if refused else "")
            + (f"<table>{head}{rows}</table>" if rows else "")
            + "</div>"
        )  # fmt: skip


RUNNING = '<b style="color:#1a7f37">running</b>'
STOPPED = '<b style="color:#888">stopped</b>'


def running_server(port: int) -> CallbackServer | None:
    """The server this kernel runs on ``port``, if any."""
    with _registry_lock:
        server = _registry.get(("port", port))
    return server if server is not None and server.running else None


def callback_servers() -> list[kernel_servers.ServerEntry]:
    """Every callback server running on this machine, in any kernel (oldest first)."""
    return kernel_servers.entries()


def point_workflow(
    client: Client,
    workspace_sid: str,
    workflow_sid: str,
    url_or_server: str | CallbackServer,
    *,
    events: bool = False,
) -> dict[str, str]:
    """Point the workflow's AssignmentCallbackUrl (and optionally the workspace's
    EventCallbackUrl) at the callback server, through the twilio SDK; returns what was set."""
    if isinstance(url_or_server, CallbackServer):
        base = url_or_server.base_url
    else:
        base = str(url_or_server).rstrip("/")
        for suffix in (ASSIGNMENT_PATH, EVENTS_PATH):
            base = base.removesuffix(suffix)
    from .client import talks_to_sandbox

    live = not talks_to_sandbox(client)
    if live and urlsplit(base).hostname in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
        raise CallbackServerError(
            f"Twilio cannot reach {base}: it is a loopback address on your machine",
            "expose the server first: url = helpers.expose(server), then point the workflow "
            "at the server (or that url)",
        )
    workspace = client.taskrouter.v1.workspaces(workspace_sid)
    urls = {"assignment_callback_url": base + ASSIGNMENT_PATH}
    workspace.workflows(workflow_sid).update(
        assignment_callback_url=urls["assignment_callback_url"]
    )
    if events:
        urls["event_callback_url"] = base + EVENTS_PATH
        workspace.update(event_callback_url=urls["event_callback_url"])
    return urls


def stop_callback_servers(all_kernels: bool = False) -> list[int]:
    """Stop this kernel's callback servers (and, with ``all_kernels``, those other notebooks'
    kernels run); returns the ports that were freed. ``callback_servers()`` lists what is left.
    """
    with _registry_lock:
        servers = list({id(s): s for s in _registry.values() if s.running}.values())
    ports = [server.port for server in servers]
    for server in servers:
        with contextlib.suppress(Exception):
            server.stop()
    if all_kernels:
        for entry in kernel_servers.entries():
            if not entry.this_kernel and kernel_servers.stop_remote(entry):
                ports.append(entry.port)
    return sorted(ports)


atexit.register(stop_callback_servers)


def serve(app: WSGIApp, *, port: int | None = None) -> CallbackServer:
    """Run *your* Flask app in this kernel: ``server = helpers.serve(app)``.

    Re-run safe like ``CallbackServer`` (the re-run replaces the previous server and keeps its
    port); ``server.url``/``.port``/``.assignment_url``, ``server.requests`` (what each callback
    sent and what your route answered) and ``server.stop()``. Expose it with
    ``helpers.expose(server)`` and point the workflow at it with ``helpers.point_workflow``.
    """
    return CallbackServer(app=app, port=port).start()


def auth_token() -> str:
    """The auth token TaskRouter signs callbacks with (the sandbox's, or yours in live mode).

    Keep it out of outputs: use it to build a ``RequestValidator``, never print it.
    """
    return default_auth_token()
