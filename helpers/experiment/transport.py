"""A lighter transport for the driver's SDK calls: one keep-alive ``http.client`` connection.

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
        self._connection: http.client.HTTPConnection | None = None

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
        body = None
        if data:
            body = urllib.parse.urlencode(
                {k: v for k, v in data.items() if v is not None}, doseq=True
            )
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self._headers_for_next is not None:
            sent.update(self._headers_for_next())  # once: a resend carries the same move
        self.requests += 1
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=timeout or self._timeout
                )
            try:
                self._connection.request(method.upper(), path, body=body, headers=sent)
                answer = self._connection.getresponse()
                text = answer.read().decode("utf-8")
            except STALE:
                self.close()
                if attempt == 2:
                    raise
                continue
            except (http.client.HTTPException, OSError):
                self.close()
                raise
            response = Response(answer.status, text, dict(answer.getheaders()))
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
