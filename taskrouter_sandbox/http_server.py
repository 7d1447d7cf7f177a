"""The HTTP front door: a threaded ``http.server`` that speaks HTTP/1.1 keep-alive.

Kept on the standard library on purpose: it adds ~0.1 ms per request where a framework adds
more, and the SDK sees exactly what it would see from Twilio. TCP_NODELAY is set; without it
Nagle plus delayed ACK add ~40 ms to every call (``docs/decisions.md``, engineering rules).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .api_errors import ApiError, BadRequest, PayloadTooLarge, Unauthorized
from .params import bounded_int
from .router import Request, Response

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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "TaskRouterSandbox/1"
    sandbox: Sandbox  # set on the subclass made by make_server
    timeout = IDLE_TIMEOUT  # socket timeout: every read and write of the connection

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def __getattr__(self, name: str) -> Any:
        """Any other method (PATCH, HEAD, OPTIONS, made-up ones) reaches the router too, which
        answers 405 (or 404, 401) in Twilio's envelope instead of http.server's 501 page."""
        if name.startswith("do_"):
            return lambda: self._handle(name[3:])
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, 414, 431, 505) in the envelope too."""
        self.close_connection = True
        reason = message or self.responses.get(code, ("Bad request",))[0]
        twilio_code = BadRequest.code if code == 400 else 20000 + code  # 20414, 20431, 20505
        self._write(Response(code, ApiError(reason, code=twilio_code, status=code).body()))

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _handle(self, method: str) -> None:
        try:
            request = self._read_request(method)
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

    def _read_request(self, method: str) -> Request:
        parts = urlsplit(self.path)
        account_sid = ""
        if not parts.path.startswith("/_sandbox/health"):
            # Credentials first, from the headers alone: a stranger's body is never read,
            # nor parsed (and the connection closes, since its body stays unread).
            try:
                account_sid = self._authenticate(self.headers.get("Authorization", ""))
            except Unauthorized:
                self.close_connection = True
                raise
        length_header = self.headers.get("Content-Length", "0")  # present but empty: 400
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # the unread body must not be taken for a request
            raise ApiError(
                "Transfer-Encoding is not supported; send the body with a Content-Length",
                code=20411,
                status=411,
            )
        try:
            length = bounded_int(length_header, "Content-Length", low=0)
        except BadRequest:
            self.close_connection = True
            raise
        if length > MAX_BODY:
            self.close_connection = True
            raise PayloadTooLarge(f"Request body over {MAX_BODY} bytes")
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:
            self.close_connection = True
            raise BadRequest(
                f"The body ended after {len(body)} of the {length} bytes its Content-Length says"
            )
        headers = {k.lower(): v for k, v in self.headers.items()}
        form: dict[str, list[str]] = {}
        content_type = headers.get("content-type", "")
        if body and "json" not in content_type:
            form = _parse_form(body, "post body")
        request = Request(
            method=method,
            path=parts.path,
            query=_parse_form(parts.query.encode("latin-1"), "query string"),
            form=form,
            headers=headers,
            raw_body=body,
            account_sid=account_sid,
        )
        return request

    def _authenticate(self, header: str) -> str:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise Unauthorized()
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized() from None
        expected = self.sandbox.accounts.get(user)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            raise Unauthorized()
        return user

    def _write(self, response: Response) -> None:
        if response.body is None:
            body = b""
        elif isinstance(response.body, bytes):  # a page (the workshop's): its own Content-Type
            body = response.body
        else:
            body = json.dumps(response.body, separators=(", ", ": ")).encode()
        head = [f"HTTP/1.1 {response.status} {self.responses.get(response.status, ('',))[0]}"]
        head.append(f"Content-Length: {len(body)}")
        if response.body is not None and "Content-Type" not in response.headers:
            head.append("Content-Type: application/json; charset=utf-8")
        head.extend(f"{k}: {v}" for k, v in response.headers.items())
        if self.close_connection:
            head.append("Connection: close")
        if getattr(self, "command", None) == "HEAD":
            body = b""  # the answer's headers, never its body
        # Headers and body in one write: no Nagle/delayed-ACK stall even without NODELAY.
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        self.wfile.flush()


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
