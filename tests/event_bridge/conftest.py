"""Fixtures for the event bridge: the quickstart workspace, a worker's token, a WebSocket."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import TaskRouterGrant
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as websocket_connect

from helpers.quickstart import Quickstart, ensure_quickstart
from taskrouter_sandbox.testing import SandboxProcess


@dataclass
class Bridge:
    eb_server: str
    ws_server: str
    sandbox: SandboxProcess

    def token(self, qs: Quickstart, worker: str = "Alice", ttl: int = 3600,
              secret: str | None = None) -> str:  # fmt: skip
        """Made the way a learner makes it (helpers.worker_token does the same)."""
        key = secret or self.sandbox.auth_token
        account = self.sandbox.account_sid
        token = AccessToken(account, account, key, identity=worker, ttl=ttl)
        token.add_grant(TaskRouterGrant(workspace_sid=qs.workspace_sid,
                                        worker_sid=qs.workers[worker], role="worker"))  # fmt: skip
        return str(token.to_jwt())

    def call(self, token: str, url: str, method: str = "GET", params: dict | None = None,
             api_version: str = "v1") -> tuple[int, dict[str, Any]]:  # fmt: skip
        """One request as ``util/Request.js`` sends it: a JSON POST to ebServer."""
        body = json.dumps({"url": url, "method": method, "params": params or {}, "token": token})
        request = urllib.request.Request(
            self.eb_server, body.encode(), method="POST",
            headers={"apiVersion": api_version, "clientVersion": "2.1.1",
                     "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


@dataclass
class Stream:
    """A WebSocket to the bridge (the ``websockets`` library's client, another implementation
    than the server's), read on a thread into a queue of parsed messages."""

    ws: ClientConnection
    messages: queue.Queue[dict[str, Any] | str] = field(default_factory=queue.Queue)
    closed: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        try:
            for data in self.ws:
                assert isinstance(data, str), "the bridge sends text frames"
                self.messages.put(json.loads(data) if data.strip() else data)
        except ConnectionClosed:
            pass
        except Exception as error:  # a bug in the test's reader must show, not hang
            self.messages.put(f"reader failed: {error!r}")
        finally:
            self.closed.set()

    def next(self, event_type: str | None = None, timeout: float = 15.0) -> dict[str, Any]:
        """The next message (of ``event_type``, skipping others); fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {event_type or 'message'} within {timeout} s")
            message = self.messages.get(timeout=left)
            assert not str(message).startswith("reader failed"), message
            if isinstance(message, dict) and event_type in (None, message["event_type"]):
                return message

    def types(self, count: int, timeout: float = 15.0) -> list[str]:
        return [self.next(timeout=timeout)["event_type"] for _ in range(count)]


@pytest.fixture
def bridge(sandbox: SandboxProcess) -> Bridge:
    urls = sandbox.control("GET", "/_sandbox/event-bridge")
    return Bridge(urls["eb_server"], urls["ws_server"], sandbox)


@pytest.fixture
def qs(client: Any) -> Quickstart:
    return ensure_quickstart(client)


@pytest.fixture
def open_stream(bridge: Bridge) -> Iterator[Any]:
    streams: list[Stream] = []

    def open_(token: str, **query: str) -> Stream:
        extra = "".join(f"&{k}={v}" for k, v in query.items())
        ws = websocket_connect(
            f"{bridge.ws_server}?token={token}{extra}", open_timeout=10, legacy=True
        )
        stream = Stream(ws)
        threading.Thread(target=stream.run, daemon=True).start()
        streams.append(stream)
        return stream

    yield open_
    for stream in streams:
        with contextlib.suppress(ConnectionClosed):
            stream.ws.close()
