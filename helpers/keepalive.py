"""werkzeug's request handler, with HTTP/1.1 keep-alive put back for the callback server.

werkzeug 3.1's development server answers ``Connection: close`` to every request: after the
response it drains "whatever is left" from the socket, which on a kept-alive connection would
swallow the next request. So every callback the sandbox (or Twilio, through the tunnel) sends
costs a TCP connect, an accept and a new handler thread: about 2 ms of CPU in the kernel per
callback, most of the callback server's cost.

:class:`KeepAliveHandler` keeps the connection open when it is safe to: the request is
HTTP/1.1 without ``Connection: close`` and has a small ``Content-Length`` body (every
TaskRouter callback). During the request the handler's ``rfile`` is a view that ends at the
body's last byte, so neither the application nor werkzeug's drain can read past it, and what
the application left of the body is read (and dropped) before the next request line.
Anything else (a chunked or large body, an HTTP/1.0 client) is answered the way werkzeug
always did, with ``Connection: close``.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
from io import BufferedIOBase
from typing import Any, Protocol, cast

from werkzeug.serving import WSGIRequestHandler

MAX_KEPT_BODY = 1 << 20  # a bigger body (never a callback) closes the connection after it


class _BodyView(io.RawIOBase):
    """Reads from the connection up to the end of the current request's body, then b""."""

    def __init__(self, stream: BufferedIOBase, length: int) -> None:
        super().__init__()
        self._stream = stream
        self.left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self.left)
        if wanted <= 0:
            return 0
        count = self._stream.readinto(view[:wanted])
        self.left = self.left - count if count else 0
        return count

    def readline(self, size: int | None = -1) -> bytes:
        wanted = self.left if size is None or size < 0 else min(size, self.left)
        if wanted <= 0:
            return b""
        data = self._stream.readline(wanted)
        self.left = self.left - len(data) if data else 0
        return data


class _Tracked(Protocol):
    """The server, with the open connections ``CallbackServer.stop()`` must close."""

    kit_connections: dict[socket.socket, threading.Thread]


def open_connections(server: object) -> dict[socket.socket, threading.Thread]:
    """The server's open connections (kept-alive ones included) and their handler threads."""
    tracked = cast(_Tracked, server)
    if not hasattr(tracked, "kit_connections"):
        tracked.kit_connections = {}
    return tracked.kit_connections


class KeepAliveHandler(WSGIRequestHandler):
    """Quiet, Nagle-free, keep-alive, and tracked so ``stop()`` can close idle connections."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # StreamRequestHandler sets TCP_NODELAY
    timeout = 60  # an idle kept-alive connection's thread ends after a minute anyway
    _keep_alive = False

    def setup(self) -> None:
        super().setup()
        open_connections(self.server)[self.connection] = threading.current_thread()

    def finish(self) -> None:
        open_connections(self.server).pop(self.connection, None)
        with contextlib.suppress(OSError):
            super().finish()

    def run_wsgi(self) -> None:
        length = self.headers.get("Content-Length", "0").strip() or "0"
        self._keep_alive = (
            not self.close_connection  # HTTP/1.1 without "Connection: close" (parse_request)
            and "Transfer-Encoding" not in self.headers
            and length.isdigit()
            and int(length) <= MAX_KEPT_BODY
        )
        if not self._keep_alive:
            super().run_wsgi()  # werkzeug's own way: Connection: close, drain everything
            return
        connection_stream = self.rfile
        body = _BodyView(connection_stream, int(length))
        self.rfile = cast(BufferedIOBase, body)
        try:
            super().run_wsgi()
            # werkzeug's drain only reads when the *socket* is readable; the body's rest may
            # already sit in the stream's buffer, where it would become the next "request"
            while body.left > 0 and body.read(1 << 16):
                pass
        except OSError:
            self.close_connection = True
        finally:
            self.rfile = connection_stream

    def send_header(self, keyword: str, value: str) -> None:
        if self._keep_alive and keyword.lower() == "connection" and value.lower() == "close":
            return  # werkzeug's forced close: this connection stays open
        super().send_header(keyword, value)

    def log(self, type: str, message: str, *args: Any) -> None:
        """Silenced: werkzeug's request log must not land in notebook cells."""
