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
import itertools
import socket
import threading
from collections.abc import Iterator
from http import HTTPStatus
from io import BufferedIOBase
from typing import Any, Protocol, cast

from werkzeug.serving import WSGIRequestHandler

MAX_KEPT_BODY = 1 << 20  # a bigger body (never a callback) closes the connection after it
MAX_HEADER_LINE, MAX_HEADERS = 65536, 100  # http.client's limits


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
    _head_sent = False

    def setup(self) -> None:
        super().setup()
        open_connections(self.server)[self.connection] = threading.current_thread()

    def finish(self) -> None:
        open_connections(self.server).pop(self.connection, None)
        with contextlib.suppress(OSError):
            super().finish()

    def parse_request(self) -> bool:
        """``http.server``'s parsing, with the headers read without the ``email`` package.

        ``http.client.parse_headers`` runs every request's header block through the email
        parser, a third of what a callback costs the kernel apart from the app. For an
        ordinary ``METHOD target HTTP/1.x`` line the block is read here into the same
        ``HTTPMessage`` (names and values as the email parser stores them, folded lines
        joined the same way); anything unusual goes to ``http.server`` unchanged.
        """
        words = self.raw_requestline.split()
        if len(words) != 3 or words[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
            return bool(super().parse_request())
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.command, self.path, self.request_version = self.requestline.split()
        self.close_connection = self.request_version != "HTTP/1.1"
        if self.path.startswith("//"):  # gh-87389, as http.server does
            self.path = "/" + self.path.lstrip("/")
        headers = self.headers = self.MessageClass()
        fields: list[tuple[str, str]] = headers._headers  # what msg[name] = value appends to
        while True:
            line = self.rfile.readline(MAX_HEADER_LINE + 1)
            if len(line) > MAX_HEADER_LINE:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            if len(fields) >= MAX_HEADERS:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers")
                return False
            text = line.decode("iso-8859-1")
            if text[0] in " \t" and fields:  # a folded line continues the previous value
                name, value = fields[-1]
                fields[-1] = (name, value + "\r\n" + text.rstrip("\r\n"))
                continue
            name, colon, value = text.partition(":")
            if colon:
                fields.append((name, value.lstrip(" \t").rstrip("\r\n")))
        connection = headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if (
            headers.get("Expect", "").lower() == "100-continue"
            and self.request_version == "HTTP/1.1"
        ):
            return bool(self.handle_expect_100())
        return True

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
            self._serve_kept()
            # the body's rest may already sit in the stream's buffer, where it would become
            # the next "request": read what the application left of it
            while body.left > 0 and body.read(1 << 16):
                pass
        except OSError:
            self.close_connection = True
        finally:
            self.rfile = connection_stream

    def _serve_kept(self) -> None:
        """One request on a kept-alive connection: the application's answer in one write.

        werkzeug's own ``run_wsgi`` sends the head and the body in two writes (two wake-ups
        of the caller) and, after every response, polls the socket through a new selector to
        drain it; here the body is bounded by ``_BodyView``, so there is nothing to drain.
        A response without ``Content-Length`` that is not a list (a stream) is sent chunked,
        chunk by chunk, as werkzeug would.
        """
        environ = self.environ = self.make_environ()
        answer: list[Any] = []  # [status, headers] once start_response was called
        written: list[bytes] = []  # bytes given to the legacy write() callable

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if exc_info and self._head_sent:
                raise exc_info[1].with_traceback(exc_info[2])
            answer[:] = [status, headers]
            return written.append

        self._head_sent = False
        try:
            result = self.server.app(environ, start_response)
            try:
                if isinstance(result, (list, tuple)):
                    self._send_whole(environ, answer, [*written, *result])
                else:  # a generator app calls start_response by the time of its first chunk
                    rest = iter(result)
                    first = [*written, *itertools.islice(rest, 1)]
                    if _has_length(answer):
                        self._send_whole(environ, answer, [*first, *rest])
                    else:
                        self._send_chunked(environ, answer, itertools.chain(first, rest))
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            # the learner's app raised (Flask answers its own errors; a bare WSGI app may not):
            # 500, as werkzeug answers, unless part of the answer is already on the wire
            if self._head_sent:
                self.close_connection = True
            else:
                body = b"Internal Server Error"
                headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
                self._send_whole(environ, ["500 INTERNAL SERVER ERROR", headers], [body])

    def _head(self, status: str, headers: list[tuple[str, str]], extra: str) -> bytes:
        lines = [f"{self.protocol_version} {status}\r\nServer: {self.version_string()}\r\n"
                 f"Date: {self.date_time_string()}\r\n"]  # fmt: skip
        for key, value in headers:
            lines.append(f"{key}: {value}\r\n")
            if key.lower() == "connection" and value.lower() == "close":
                self.close_connection = True  # the application asked for it
        lines.append(extra)
        lines.append("\r\n")
        self._head_sent = True
        return "".join(lines).encode("latin-1")

    def _send_whole(self, environ: dict[str, Any], answer: list[Any], chunks: list[bytes]) -> None:
        """Head and body in one ``sendall``; Content-Length added when the app gave none."""
        if not answer:
            raise AssertionError("the application never called start_response")
        status, headers = answer
        body = b"".join(chunks)
        code = int(status.split(None, 1)[0])
        bodiless = environ["REQUEST_METHOD"] == "HEAD" or 100 <= code < 200 or code in (204, 304)
        extra = "" if bodiless or _has_length(answer) else f"Content-Length: {len(body)}\r\n"
        self.connection.sendall(self._head(status, headers, extra) + (b"" if bodiless else body))

    def _send_chunked(
        self, environ: dict[str, Any], answer: list[Any], chunks: Iterator[bytes]
    ) -> None:
        if not answer:
            raise AssertionError("the application never called start_response")
        send = self.connection.sendall
        status, headers = answer
        code = int(status.split(None, 1)[0])
        if environ["REQUEST_METHOD"] == "HEAD" or 100 <= code < 200 or code in (204, 304):
            for _ in chunks:  # a stream without a body to send: run it, send the head only
                pass
            send(self._head(status, headers, ""))
            return
        for data in chunks:
            if not self._head_sent:
                send(self._head(status, headers, "Transfer-Encoding: chunked\r\n"))
            if data:
                send(b"%x\r\n%b\r\n" % (len(data), data))
        if not self._head_sent:
            send(self._head(status, headers, "Transfer-Encoding: chunked\r\n"))
        send(b"0\r\n\r\n")

    def log(self, type: str, message: str, *args: Any) -> None:
        """Silenced: werkzeug's request log must not land in notebook cells."""


def _has_length(answer: list[Any]) -> bool:
    return bool(answer) and any(key.lower() == "content-length" for key, _ in answer[1])
