"""The bridge's own loopback server: one path, ``/v1/wschannels``, as on Twilio's.

* ``GET`` with ``Upgrade: websocket`` and ``?token=…`` opens the worker's event stream
  (``init`` first, then events and a blank heartbeat every 15 s); a refused token is answered
  before the upgrade with 401 (expired) or 403 (anything else), so the browser's WebSocket
  fails and the SDK emits ``error`` + ``disconnected``, then retries with backoff.
* ``POST`` carries the SDK's REST calls (:mod:`.calls`).
* ``OPTIONS``: CORS preflight, since the worker page is served from another origin (the
  learner's Flask app) and the SDK sends the non-simple headers ``apiVersion``/``clientVersion``.

A WSGI app on werkzeug's threaded server, with ``simple-websocket`` (over ``wsproto``) for the
WebSocket protocol: one thread per connection, which only sends.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request
from simple_websocket import ConnectionClosed, Server
from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler, make_server

from . import calls, tokens
from .hub import Hub

if TYPE_CHECKING:
    from ..app import Sandbox

PATH = "/v1/wschannels"
MAX_BODY = 1 << 20  # an SDK call is a few kB; attributes are capped far below this
CLOSE_WAIT = 1.0  # seconds to wait for the client to answer our close frame
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "apiVersion, clientVersion, If-Match, Content-Type",
    "Access-Control-Max-Age": "600",
}


class QuietHandler(WSGIRequestHandler):
    """No request log: the WebSocket URL carries the worker's token."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class UpgradeDone(Response):
    """Returned after a WebSocket ends: the socket is gone, so werkzeug must write nothing
    (werkzeug's server treats ConnectionError as a dropped client, as flask-sock relies on)."""

    def __call__(self, environ: Any, start_response: Any) -> Any:
        raise ConnectionError("WebSocket closed")


def _end(ws: Server, environ: dict[str, Any]) -> None:
    """Close the WebSocket, then the TCP connection: werkzeug would otherwise keep the socket
    open, waiting for another HTTP request on it, and the client would wait for the close."""
    with contextlib.suppress(ConnectionClosed, OSError):
        ws.close()
        ws.thread.join(CLOSE_WAIT)  # the client's close frame, answered by simple-websocket
    with contextlib.suppress(OSError):
        environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status, CORS_HEADERS, mimetype="application/json")


def create_wsgi_app(sandbox: Sandbox, hub: Hub) -> Flask:
    app = Flask("taskrouter_sandbox.event_bridge")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY  # werkzeug answers 413 beyond it

    @app.route(PATH, methods=["GET", "POST", "OPTIONS"])
    def wschannels() -> Response:
        if request.method == "OPTIONS":
            return Response(status=204, headers=CORS_HEADERS)
        if request.method == "GET":
            return _json(400, {"message": "Open this URL as a WebSocket (?token=...)"})
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            return _json(200, calls.handle(sandbox, request.get_data(), headers))
        except calls.BridgeError as error:
            return _json(error.status, error.body())

    # werkzeug routes WebSocket handshakes only to rules marked websocket=True
    @app.route(PATH, methods=["GET"], websocket=True, endpoint="events")
    def events() -> Response:
        try:
            grant = tokens.verify(sandbox, request.args.get("token"))
        except tokens.TokenRefused as refused:
            return _json(refused.status, {"message": refused.message, "status": refused.status})
        close_existing = request.args.get("closeExistingSessions") == "true"
        ws = Server(request.environ, ping_interval=None)
        connection = hub.connect(grant, close_existing)
        try:
            connection.pump(ws.send, alive=lambda: bool(ws.connected))
        except ConnectionClosed:
            pass
        finally:
            hub.disconnect(connection)
            _end(ws, request.environ)
        return UpgradeDone()

    return app


class EventBridge:
    """The running bridge: its hub, its server thread and its two URLs for the SDK."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> None:
        self.hub = Hub(sandbox)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server: BaseWSGIServer = make_server(
            host, port, create_wsgi_app(sandbox, self.hub), threaded=True,
            request_handler=QuietHandler,
        )  # fmt: skip
        if isinstance(self._server, ThreadedWSGIServer):  # threads must not outlive the bridge
            self._server.daemon_threads = True
        self.host, self.port = host, int(self._server.server_port)
        sandbox.store.subscribe(self.hub.committed)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="event-bridge", daemon=True
        )

    @property
    def eb_server(self) -> str:
        return f"http://{self.host}:{self.port}{PATH}"

    @property
    def ws_server(self) -> str:
        return f"ws://{self.host}:{self.port}{PATH}"

    def start(self) -> EventBridge:
        self._thread.start()
        return self

    def close(self) -> None:
        self.hub.drop()
        self._server.shutdown()
        self._server.server_close()
