"""The room: its seats, their progress, and resetting one seat or all of them.

Hooks into the core, all narrow: the seats are the sandbox's extra accounts
(``SandboxConfig.extra_accounts``); :class:`Progress` is a store listener; a seat is reset by
deleting its workspaces through the REST handler (``Sandbox.handle``, as the seat), the same
path ``DELETE /v1/Workspaces/WS…`` takes, and by clearing its debugger log entries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..models import Workspace
from ..router import Request
from .progress import MILESTONES, Progress
from .seats import Seat

if TYPE_CHECKING:
    from ..app import Sandbox

LAST_ERRORS = 3


@dataclass
class Room:
    sandbox: Sandbox
    seats: list[Seat]
    progress: Progress = field(init=False)

    def __post_init__(self) -> None:
        self.progress = Progress({seat.account_sid for seat in self.seats})
        self.sandbox.store.subscribe(self.progress.committed)

    def seat(self, number: int) -> Seat | None:
        return self.seats[number - 1] if 1 <= number <= len(self.seats) else None

    def seat_of(self, account_sid: str) -> Seat | None:
        return next((s for s in self.seats if s.account_sid == account_sid), None)

    # -- reading ----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Every seat's milestones, workspaces and last debugger errors (no token, ever)."""
        return {
            "milestones": [{"key": key, "label": label} for key, label in MILESTONES],
            "seats": [self._seat_status(seat) for seat in self.seats],
            "generated": time.time(),
        }

    def _seat_status(self, seat: Seat) -> dict[str, Any]:
        log = self.sandbox.callback_log(seat.account_sid)
        errors = [e for e in log if e["code"]][-LAST_ERRORS:]
        workspaces = self._workspaces(seat.account_sid)
        return {
            "number": seat.number,
            "account_sid": seat.account_sid,
            "workspaces": [ws.friendly_name for ws in workspaces],
            "milestones": self.progress.milestones(
                seat.account_sid, log, self._connected_workers, self._worker_account
            ),
            "errors": [
                {"date": e["date"], "code": e["code"], "message": e["message"]} for e in errors
            ],
        }

    def _workspaces(self, account_sid: str) -> list[Workspace]:
        return [ws for ws in self.sandbox.store.all(Workspace) if ws.account_sid == account_sid]

    def _connected_workers(self) -> set[str]:
        bridge = getattr(self.sandbox, "event_bridge", None)
        return set(bridge.hub.connected()) if bridge is not None else set()

    def _worker_account(self, worker_sid: str) -> str | None:
        record = self.sandbox.store.get(worker_sid)
        return record.account_sid if record is not None else None

    # -- resetting --------------------------------------------------------------------------

    def reset_seat(self, seat: Seat) -> int:
        """Delete the seat's workspaces (and all in them), its log entries and milestones."""
        deleted = 0
        for ws in self._workspaces(seat.account_sid):
            request = Request("DELETE", f"/v1/Workspaces/{ws.sid}", {}, {}, {}, seat.account_sid)
            if self.sandbox.handle(request).status == 204:
                deleted += 1
        self.sandbox.webhooks.dispatcher.clear_account(seat.account_sid)
        self.progress.forget(seat.account_sid)
        return deleted

    def reset_all(self) -> None:
        self.sandbox.reset()  # forgets every seat's milestones too (Sandbox.reset)
