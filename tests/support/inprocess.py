"""A sandbox running in the test's own process (the package's :class:`InProcessSandbox`: its
real HTTP server on a free loopback port, driven by the real twilio SDK), plus a callback
receiver and the debugger views the fault-injection tests read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from twilio.rest import Client

from taskrouter_sandbox.app import Sandbox
from taskrouter_sandbox.dispatch import SANDBOX_FAULT
from taskrouter_sandbox.sdk import sandbox_client
from taskrouter_sandbox.testing import InProcessSandbox
from tests.support.receiver import Receiver


@dataclass
class InProcess(InProcessSandbox):
    receiver: Receiver = field(init=False)

    def __post_init__(self) -> None:
        self.receiver = Receiver(self.auth_token)

    def close(self) -> None:
        self.receiver.close()
        super().close()

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox itself (its core, store, webhooks) for planting faults."""
        return self.app

    def debugger(self) -> list[dict[str, Any]]:
        return self.app.callback_log(self.account_sid)

    def faults(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.debugger()
            if e["code"] == SANDBOX_FAULT and (kind is None or e["kind"] == kind)
        ]

    def client_for(self, account_sid: str, auth_token: str) -> Client:
        return sandbox_client(self.url, account_sid, auth_token)
