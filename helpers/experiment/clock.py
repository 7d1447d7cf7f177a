"""The sandbox's clock, read and moved through its public control plane.

The sandbox's time is the wall clock plus an offset that ``POST /_sandbox/clock`` increases
(``GET /_sandbox/clock`` reports it). The driver reads the offset once, then keeps it itself:
it is the only one moving the clock during a run, and the sandbox runs on this machine, so
``time.time() + offset`` is the sandbox's "now" without a request. One keep-alive connection
carries every advance (a new TCP connection per event would cost more than the event).
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
        return time.time() + self.offset

    def advance_to(self, when: float, force: bool = False) -> bool:
        """Move the sandbox to ``when`` (epoch seconds) unless it is already there; fires
        every timer that falls due before it returns. ``force``: ask even when there is nothing
        to move (``Advance=0``), to fire the timers that are due now."""
        delta = max(when - self.now(), 0.0)
        if delta <= 0.0005 and not force:
            return False
        self._call("POST", "/_sandbox/clock", {"Advance": f"{delta:.6f}"})
        self.offset += delta
        return True

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
