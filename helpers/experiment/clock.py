"""The sandbox's clock, read and moved through its public control plane.

The sandbox's time is the wall clock plus an offset that ``POST /_sandbox/clock`` increases
(``GET /_sandbox/clock`` reports it). The driver reads the offset once, then keeps it itself:
it is the only one moving the clock during a run, and the sandbox runs on this machine, so
``time.time() + offset`` is the sandbox's "now" without a request.

A move is not sent on its own: :meth:`SandboxClock.advance_to` records where the sandbox must
be, and the driver's next SDK call carries it in the ``X-Sandbox-Advance`` header
(:meth:`SandboxClock.header`), which the sandbox applies — timers fired, in due order — before
it handles the call, exactly as a ``POST /_sandbox/clock`` sent just before. Almost every event
of a day is a clock move followed by a call, so this saves a request per event. A move no call
follows (the end of the day) is sent by :meth:`SandboxClock.flush`, on one keep-alive
connection.
"""

from __future__ import annotations

import base64
import http.client
import json
import time
import urllib.parse
from typing import Any

from twilio.rest import Client

from ..client import talks_to_sandbox
from ..errors import KitError, SandboxError

ADVANCE_HEADER = "X-Sandbox-Advance"
LIVE_HINT = (
    "run it in sandbox mode (the default: unset TASKROUTER_MODE, or pass helpers.connect() "
    "without live settings); to try the same workflow on Twilio, create it there with "
    "Design.configuration_for() and send real traffic"
)


class SandboxClock:
    def __init__(self, client: Client) -> None:
        http_client = getattr(client, "http_client", None)
        if http_client is None or not talks_to_sandbox(client):
            message = (
                "A simulated day runs only on the sandbox's clock: Twilio's clock "
                "cannot jump, and the driver would create real tasks"
            )
            raise KitError(message, LIVE_HINT)
        parts = urllib.parse.urlsplit(http_client.target)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        token = base64.b64encode(f"{client.username}:{client.password}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}",
                         "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
        self._connection: http.client.HTTPConnection | None = None
        self._target: float | None = None  # where the sandbox must be by the next request
        self.requests = 0  # moves sent on their own (flush)
        self.offset = float(self._call("GET", "/_sandbox/clock")["offset"])

    def _call(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        body = urllib.parse.urlencode(form) if form is not None else None
        for attempt in (1, 2):  # a keep-alive connection the server closed: reconnect once
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self._host, self._port, timeout=60)
            try:
                self._connection.request(method, path, body=body, headers=self._headers)
                response = self._connection.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.status != 200:
                raise SandboxError(f"The sandbox refused {method} {path}: {data.decode()[:300]}",
                                   "is it the sandbox's main account? restart the "
                                   "sandbox if it is stuck")  # fmt: skip
            return json.loads(data or b"null")
        raise AssertionError("unreachable")

    def now(self) -> float:
        """The sandbox's time, once the moves already sent have reached it."""
        return time.time() + self.offset

    def advance_to(self, when: float, force: bool = False) -> None:
        """The sandbox must be at ``when`` (epoch seconds) by the next request, unless it is
        already there. ``force``: move even when there is nothing to move (an advance of 0), to
        fire the timers that are due now before that request."""
        if force or when - self.now() > 0.0005:
            self._target = when if self._target is None else max(self._target, when)

    def header(self) -> dict[str, str]:
        """The pending move as a header for the request about to be sent (empty if none);
        from here on the move counts as made."""
        if self._target is None:
            return {}
        delta = max(self._target - self.now(), 0.0)
        self._target = None
        self.offset += delta
        return {ADVANCE_HEADER: f"{delta:.6f}"}

    def flush(self) -> bool:
        """Send a pending move on its own ``POST /_sandbox/clock``; True if one was sent."""
        if self._target is None:
            return False
        delta = max(self._target - self.now(), 0.0)
        self._call("POST", "/_sandbox/clock", {"Advance": f"{delta:.6f}"})
        self._target = None
        self.offset += delta
        self.requests += 1
        return True

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
