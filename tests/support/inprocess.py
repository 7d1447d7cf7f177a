"""A sandbox running in the test's own process: its real HTTP server on a free loopback port,
driven by the real twilio SDK, with its internals at hand for fault injection."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from twilio.rest import Client

from helpers.client import ISOLATED_ENV, SandboxHttpClient
from taskrouter_sandbox.app import Sandbox, SandboxConfig, create_app
from taskrouter_sandbox.dispatch import SANDBOX_FAULT
from taskrouter_sandbox.server import make_server, serve_in_thread
from tests.support.receiver import Receiver


@dataclass
class InProcess:
    sandbox: Sandbox
    url: str
    receiver: Receiver

    def client(self) -> Client:
        config = self.sandbox.config
        return Client(
            config.account_sid,
            config.auth_token,
            http_client=SandboxHttpClient(self.url),
            environment=ISOLATED_ENV,
        )

    def debugger(self) -> list[dict[str, Any]]:
        return self.sandbox.callback_log(self.sandbox.config.account_sid)

    def faults(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.debugger()
            if e["code"] == SANDBOX_FAULT and (kind is None or e["kind"] == kind)
        ]

    def client_for(self, account_sid: str, auth_token: str) -> Client:
        return Client(
            account_sid,
            auth_token,
            http_client=SandboxHttpClient(self.url),
            environment=ISOLATED_ENV,
        )

    @classmethod
    @contextlib.contextmanager
    def running(cls, **config: Any) -> Iterator[InProcess]:
        settings = SandboxConfig(
            "AC" + secrets.token_hex(16), secrets.token_hex(16), port=0, **config
        )
        sandbox = create_app(settings)
        server = make_server(sandbox, "127.0.0.1", 0)
        serve_in_thread(server)
        sandbox.start_timers()
        receiver = Receiver(settings.auth_token)
        try:
            yield cls(sandbox, f"http://127.0.0.1:{server.server_address[1]}", receiver)
        finally:
            receiver.close()
            server.shutdown()
            server.server_close()
            sandbox.close()
