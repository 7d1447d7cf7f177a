"""A lighter transport for the driver's SDK calls: one keep-alive HTTP/1.1 connection.

The driver makes tens of thousands of SDK calls in a row. The SDK sends each through its
``http_client``; the kit's :class:`~helpers.client.SandboxHttpClient` uses ``requests``, whose
session machinery costs about 1 ms of CPU per call, more than the sandbox spends answering it
(see ``bench/findings.md``). This client implements the same SDK interface (``HttpClient.request``
returning a ``twilio.http.response.Response``) over a single persistent connection, so
everything above it — the SDK's resources, parameters, parsing and errors — stays the real SDK.
It rewrites URLs with the kit's client, so a non-TaskRouter host is refused the same way.
``headers_for_next`` (the driver's clock) may add headers to each request: a pending clock
move travels that way (``X-Sandbox-Advance``, see ``clock.py``). ``requests`` counts the calls.
"""

from __future__ import annotations

import base64
import http.client
import logging
import socket
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from ..client import ISOLATED_ENV, talks_to_sandbox

if TYPE_CHECKING:
    from taskrouter_sandbox.sdk import SandboxHttpClient

# A keep-alive connection the server has closed fails before the request is read: safe to send
# once more. Anything else (a timeout, a reset mid-answer) is raised, never retried.
Headers = Callable[[], dict[str, str]]  # extra headers for the next request
STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
MAX_LINE, MAX_HEADERS = 65_536, 100  # as http.client bounds an answer's head


class Connection:
    """One keep-alive HTTP/1.1 connection to the sandbox, written and read by hand.

    ``http.client`` costs the driver about as much CPU per call as the SDK's own work: it
    parses each answer's headers with the ``email`` package and writes a request's head and
    body separately (two segments: the server's thread wakes for the head, then waits for the
    body). The sandbox always answers with a ``Content-Length``, so a request is one write and
    an answer is a status line, header lines and that many bytes.
    """

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self._socket = socket.create_connection((host, port), timeout=timeout)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = self._socket.makefile("rb")
        self.host = f"{host}:{port}"

    def exchange(self, head: str, body: bytes) -> tuple[int, dict[str, str], bytes, bool]:
        """Send one request; (status, headers, body, the server closes the connection)."""
        self._socket.sendall(head.encode("latin-1") + body)
        status_line = self._reader.readline(MAX_LINE)
        if not status_line:  # closed while idle, before reading the request
            raise http.client.RemoteDisconnected("the sandbox closed the connection")
        version, status, *_ = status_line.split(None, 2)
        if not version.startswith(b"HTTP/1.") or not status.isdigit():
            raise http.client.BadStatusLine(repr(status_line))
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            line = self._reader.readline(MAX_LINE)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip()] = value.strip()
        else:
            raise http.client.HTTPException("the sandbox sent too many header lines")
        lower = {k.lower(): v for k, v in headers.items()}
        length = int(lower.get("content-length", "0"))
        data = self._reader.read(length)
        if len(data) < length:
            raise http.client.IncompleteRead(data, length - len(data))
        return int(status), headers, data, lower.get("connection", "").lower() == "close"

    def close(self) -> None:
        self._reader.close()
        self._socket.close()


class KeepAliveHttpClient(HttpClient):  # type: ignore[misc]  # twilio is untyped
    def __init__(self, sandbox: SandboxHttpClient, timeout: float = 60.0,
                 headers_for_next: Headers | None = None) -> None:  # fmt: skip
        super().__init__(logging.getLogger("twilio.http_client"), False)
        self._sandbox = sandbox
        self._headers_for_next = headers_for_next
        self.requests = 0
        target = urllib.parse.urlsplit(sandbox.target)
        self._host, self._port = target.hostname or "127.0.0.1", target.port or 80
        self._timeout = timeout
        self._connection: Connection | None = None

    def request(self, method: str, url: str, params: Any = None, data: Any = None,
                headers: Any = None, auth: Any = None, timeout: Any = None,
                allow_redirects: bool = False) -> Response:  # fmt: skip
        parts = urllib.parse.urlsplit(self._sandbox.local_url(url))
        query = urllib.parse.urlencode(
            {k: v for k, v in (params or {}).items() if v is not None}, doseq=True
        )
        path = parts.path + (f"?{query}" if query else "")
        sent = dict(headers or {})
        if auth:
            sent["Authorization"] = (
                "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            )
        body = b""
        if data:
            body = urllib.parse.urlencode(
                {k: v for k, v in data.items() if v is not None}, doseq=True
            ).encode("ascii")  # urlencode's output is ASCII
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self._headers_for_next is not None:
            sent.update(self._headers_for_next())  # once: a resend carries the same move
        self.requests += 1
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = Connection(self._host, self._port, timeout or self._timeout)
            lines = [f"{method.upper()} {path} HTTP/1.1", f"Host: {self._connection.host}",
                     "Accept-Encoding: identity", f"Content-Length: {len(body)}",
                     *(f"{k}: {v}" for k, v in sent.items())]  # fmt: skip
            try:
                status, answer_headers, answer, closing = self._connection.exchange(
                    "\r\n".join(lines) + "\r\n\r\n", body
                )
            except STALE:
                self.close()
                if attempt == 2:
                    raise
                continue
            except (http.client.HTTPException, OSError, ValueError):
                self.close()
                raise
            if closing:
                self.close()
            response = Response(status, answer.decode("utf-8"), answer_headers)
            self.last_response = response
            return response
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def driver_client(client: Client, headers_for_next: Headers | None = None) -> Client:
    """A client for the same sandbox and account as ``client``, on the keep-alive transport."""
    assert talks_to_sandbox(client)
    from .. import client as kit_client

    # The kit's adapter (its errors say how to fix them in the kit's words) for the same URL,
    # whichever sandbox client came in (the kit's, or the pytest plugin's).
    mapper = kit_client.SandboxHttpClient(client.http_client.target)
    return Client(client.username, client.password,
                  http_client=KeepAliveHttpClient(mapper, headers_for_next=headers_for_next),
                  environment=ISOLATED_ENV)  # fmt: skip
