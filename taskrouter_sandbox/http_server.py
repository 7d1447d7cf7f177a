"""The HTTP front door: a threaded socket server that speaks HTTP/1.1 keep-alive.

Kept on the standard library on purpose, and lean: the request head is read by
``http_head`` (not ``http.server``'s ``email``-based parser), the answer goes out in one
``sendall``, and nothing else runs per request but auth, the body and the router. The SDK sees
exactly what it would see from Twilio. TCP_NODELAY is set; without it Nagle plus delayed ACK
add ~40 ms to every call (``docs/decisions.md``, engineering rules).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import socketserver
import sys
import threading
from functools import lru_cache
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .api_errors import ApiError, BadRequest, PayloadTooLarge, Unauthorized
from .http_head import Refusal, read_headers, request_line
from .params import bounded_int
from .router import Request, Response
from .wire import encode_json

if TYPE_CHECKING:
    from .app import Sandbox

log = logging.getLogger("taskrouter_sandbox")
MAX_BODY = 2 * 1024 * 1024  # a workflow configuration may be ~1 MB
# A connection that sends nothing (between keep-alive requests, or mid-request: a partial
# request line, headers or body) for this long is closed, so stray connections of a room
# cannot hold threads forever. The SDK's pool reconnects transparently.
IDLE_TIMEOUT = 30.0
# At most this many connections are served at once (one thread each); more are answered
# 503 with Retry-After at once and closed, instead of piling up threads.
MAX_CONNECTIONS = 256
REASONS = {status.value: status.phrase for status in HTTPStatus}
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class Handler(socketserver.StreamRequestHandler):
    """One connection: requests in order until either side closes or it idles out.

    Every method reaches the router (unknown ones get Twilio's 405, not http.server's 501);
    HEAD answers the headers without the body."""

    disable_nagle_algorithm = True
    sandbox: Sandbox  # set on the subclass made by make_server
    timeout = IDLE_TIMEOUT  # socket timeout: every read and write of the connection
    close_connection = True
    command = ""  # the current request's method ("" before its request line is read)
    path = ""  # the current request's target

    def handle(self) -> None:
        self.close_connection = False
        while not self.close_connection:
            self._handle_one()

    def _handle_one(self) -> None:
        self.command = self.path = ""
        try:
            first = self.rfile.readline(65537)
            if not first:  # the client closed
                self.close_connection = True
                return
            line = request_line(first)
            if line is None:  # an empty line: nothing to answer, and the head is void
                self.close_connection = True
                return
            self.command, self.path, version = line
            headers = read_headers(self.rfile)
        except Refusal as refusal:  # http.server's own refusals, in the envelope too
            self.close_connection = True
            code = BadRequest.code if refusal.status == 400 else 20000 + refusal.status
            error = ApiError(refusal.reason, code=code, status=refusal.status)
            self._write(Response(refusal.status, error.body()))
            return
        except (TimeoutError, ConnectionError):  # idle, or half a head, for too long
            self.close_connection = True
            return
        connection = headers.get("connection", "").lower()
        self.close_connection = connection == "close" or (
            version < (1, 1) and connection != "keep-alive"
        )
        self._handle(self.command, headers, version)

    def _handle(self, method: str, headers: dict[str, str], version: tuple[int, int]) -> None:
        try:
            request = self._read_request(method, headers, version)
            response = self.sandbox.handle(request)
        except ApiError as error:
            response = Response(error.status, error.body())
            if error.status == 401 and self.path.startswith("/_sandbox/workshop"):
                # the facilitator's browser asks for the credential (Basic auth's challenge)
                response.headers["WWW-Authenticate"] = 'Basic realm="TaskRouter workshop"'
        except TimeoutError:  # the body stopped arriving: give the thread back
            self.close_connection = True
            response = Response(408, ApiError(
                f"The request body did not arrive within {self.timeout:g} s",
                code=20408, status=408,
            ).body())  # fmt: skip
        except Exception:  # a bug must still answer in Twilio's envelope, never hang
            log.exception("unhandled error for %s %s", method, self.path)
            response = Response(500, ApiError("Internal sandbox error; see its log").body())
        self._write(response)

    def _read_request(
        self, method: str, headers: dict[str, str], version: tuple[int, int]
    ) -> Request:
        if self.path.startswith("/"):  # origin form, what every client sends
            path, _, query = self.path.partition("#")[0].partition("?")
        else:  # absolute form (http://host/path) or nonsense: the library's reading
            parts = urlsplit(self.path)
            path, query = parts.path, parts.query
        account_sid = ""
        if not path.startswith("/_sandbox/health"):
            # Credentials first, from the headers alone: a stranger's body is never read,
            # nor parsed (and the connection closes, since its body stays unread).
            try:
                account_sid = self._authenticate(headers.get("authorization", ""))
            except Unauthorized:
                self.close_connection = True
                raise
        if headers.get("transfer-encoding"):
            self.close_connection = True  # the unread body must not be taken for a request
            raise ApiError(
                "Transfer-Encoding is not supported; send the body with a Content-Length",
                code=20411,
                status=411,
            )
        try:  # present but empty: 400
            length = bounded_int(headers.get("content-length", "0"), "Content-Length", low=0)
        except BadRequest:
            self.close_connection = True
            raise
        if length > MAX_BODY:
            self.close_connection = True
            raise PayloadTooLarge(f"Request body over {MAX_BODY} bytes")
        body = b""
        if length > 0:
            if headers.get("expect", "").lower() == "100-continue" and version >= (1, 1):
                self.connection.sendall(CONTINUE)  # curl waits for it before a large body
            body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            raise BadRequest(
                f"The body ended after {len(body)} of the {length} bytes its Content-Length says"
            )
        form: dict[str, list[str]] = {}
        if body and "json" not in headers.get("content-type", ""):
            form = _parse_form(body, "post body")
        return Request(
            method=method,
            path=path,
            query=_parse_form(query.encode("latin-1"), "query string"),
            form=form,
            headers=headers,
            raw_body=body,
            account_sid=account_sid,
        )

    def _authenticate(self, header: str) -> str:
        credentials = _basic_credentials(header)
        if credentials is None:
            raise Unauthorized()
        user, password = credentials
        expected = self.sandbox.accounts.get(user)  # looked up every time: seats come and go
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            raise Unauthorized()
        return user

    def _write(self, response: Response) -> None:
        if response.body is None:
            body = b""
        elif isinstance(response.body, bytes):  # a page (the workshop's): its own Content-Type
            body = response.body
        else:
            body = encode_json(response.body).encode()
        head = f"HTTP/1.1 {response.status} {REASONS.get(response.status, '')}\r\n"
        head += f"Content-Length: {len(body)}\r\n"
        if response.body is not None and "Content-Type" not in response.headers:
            head += "Content-Type: application/json; charset=utf-8\r\n"
        for name, value in response.headers.items():
            head += f"{name}: {value}\r\n"
        if self.close_connection:
            head += "Connection: close\r\n"
        if self.command == "HEAD":
            body = b""  # the answer's headers, never its body
        # Headers and body in one write: no Nagle/delayed-ACK stall even without NODELAY.
        self.connection.sendall((head + "\r\n").encode("latin-1") + body)


@lru_cache(maxsize=1024)
def _basic_credentials(header: str) -> tuple[str, str] | None:
    """(user, password) of a Basic ``Authorization`` value, or None. Cached: a client sends
    the same value on every call; the password is still compared on every request."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def _parse_form(data: bytes, where: str) -> dict[str, list[str]]:
    if not data:
        return {}
    try:
        text = data.decode("ascii")
        return parse_qs(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except UnicodeError:
        raise BadRequest(
            f"The {where} is not valid form encoding: percent-encode UTF-8 text"
        ) from None


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    max_connections = MAX_CONNECTIONS

    def server_activate(self) -> None:
        self._slots = threading.BoundedSemaphore(self.max_connections)
        super().server_activate()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: Any) -> None:
        """Every thread is taken: 503 in Twilio's envelope, at once, and close."""
        body = json.dumps(ApiError(
            f"The sandbox serves {self.max_connections} connections at most; retry shortly",
            code=20503, status=503,
        ).body()).encode()  # fmt: skip
        head = (
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        )
        try:
            request.settimeout(1.0)
            request.sendall(head.encode("latin-1") + body)
        except OSError:
            pass
        self.shutdown_request(request)


def make_server(
    sandbox: Sandbox,
    host: str,
    port: int,
    *,
    idle_timeout: float = IDLE_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> SandboxHTTPServer:
    handler = type("BoundHandler", (Handler,), {"sandbox": sandbox, "timeout": idle_timeout})
    server_class = type("BoundServer", (SandboxHTTPServer,), {"max_connections": max_connections})
    server: SandboxHTTPServer = server_class((host, port), handler)
    return server


def serve_in_thread(server: SandboxHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="sandbox-http", daemon=True)
    thread.start()
    return thread


def warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
