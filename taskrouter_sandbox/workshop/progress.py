"""Each seat's progress through the notebooks, derived from what the sandbox saw.

Nothing is self-reported: a store listener (called after each commit, like the event
bridge's) watches the records a seat's requests and callbacks produce, and the debugger log
(``Dispatcher.entries``) tells how a reservation was answered and whether event callbacks
arrived. A seat's milestones:

======================  ===========================================================
``workspace``           a workspace with a workflow and a worker (notebook 00)
``assigned_rest``       a reservation accepted by a REST update (notebook 01); one
                        accepted by the assignment callback counts only after 0.5 s without
                        the callback's log entry naming it (the log entry follows the commit)
``assigned_callback``   the assignment callback answered ``accept`` (notebook 02)
``reject_reached``      after a worker rejected a task, another worker got it (03)
``events``              an event callback answered 2xx (04)
``phone_dequeued``      a simulated call dequeued to a worker's phone (05)
``worker_page``         a worker of the seat connected to the event bridge (06)
======================  ===========================================================

Milestones stay once reached, until the seat (or the room) is reset.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..models import Call, Record, Reservation, Worker, Workflow

MILESTONES = (
    ("workspace", "Workspace built"),
    ("assigned_rest", "Task assigned via REST"),
    ("assigned_callback", "Task assigned via callback"),
    ("reject_reached", "Reject reached Bob"),
    ("events", "Events received"),
    ("phone_dequeued", "Phone task dequeued"),
    ("worker_page", "Worker page connected"),
)
CALLBACK_GRACE = 0.5  # seconds: the callback's log entry is written just after its commit


class _Seen:
    def __init__(self) -> None:
        self.reached: set[str] = set()
        self.workflows: set[str] = set()  # workspace sids with a workflow
        self.workers: set[str] = set()  # workspace sids with a worker
        self.accepted: dict[str, float] = {}  # reservation sid -> monotonic time seen
        self.rejected: dict[str, set[str]] = {}  # task sid -> workers who rejected it


class Progress:
    """Per-account milestones; ``committed`` is a store listener."""

    def __init__(self, accounts: set[str]) -> None:
        self.accounts = accounts  # only seats are followed
        self._lock = threading.Lock()
        self._seen: dict[str, _Seen] = {}

    def committed(self, puts: list[Record], deletes: list[Record], events: list[Any]) -> None:
        now = time.monotonic()
        with self._lock:
            for record in puts:
                if record.account_sid in self.accounts:
                    self._observe(self._seen.setdefault(record.account_sid, _Seen()), record, now)

    @staticmethod
    def _observe(seen: _Seen, record: Record, now: float) -> None:
        if isinstance(record, Workflow):
            seen.workflows.add(record.workspace_sid)
        elif isinstance(record, Worker):
            seen.workers.add(record.workspace_sid)
        elif isinstance(record, Reservation):
            status = record.reservation_status
            if status == "accepted" and "assigned_rest" not in seen.reached:  # bounded memory
                seen.accepted.setdefault(record.sid, now)
            elif status == "rejected" and "reject_reached" not in seen.reached:
                seen.rejected.setdefault(record.task_sid, set()).add(record.worker_sid)
            elif status == "pending":
                refused_by = seen.rejected.get(record.task_sid, set())
                if refused_by and record.worker_sid not in refused_by:
                    seen.reached.add("reject_reached")
        elif isinstance(record, Call) and record.instruction == "dequeue":
            seen.reached.add("phone_dequeued")
        if seen.workflows & seen.workers:
            seen.reached.add("workspace")

    def forget(self, account_sid: str | None = None) -> None:
        """A seat (or, with None, every seat) was reset: its milestones start again."""
        with self._lock:
            if account_sid is None:
                self._seen.clear()
            else:
                self._seen.pop(account_sid, None)

    def milestones(
        self,
        account_sid: str,
        log: list[dict[str, Any]],
        connected_workers: Callable[[], set[str]],
        worker_account: Callable[[str], str | None],
    ) -> dict[str, bool]:
        """The seat's milestones now, adding what its debugger log and the bridge show."""
        now = time.monotonic()
        by_callback = {
            entry["reservation_sid"]
            for entry in log
            if entry["kind"] in ("assignment", "fallback")
            and entry["instruction"] == "accept"
            and not entry["code"]
        }
        with self._lock:
            seen = self._seen.setdefault(account_sid, _Seen())
            if by_callback:
                seen.reached.add("assigned_callback")
            for sid in by_callback:  # classified: an old log entry may later leave the log
                seen.accepted.pop(sid, None)
            if any(
                sid not in by_callback and now - at >= CALLBACK_GRACE
                for sid, at in seen.accepted.items()
            ):
                seen.reached.add("assigned_rest")
                seen.accepted.clear()
            if any(e["kind"] == "event" and 200 <= (e["status"] or 0) < 300 for e in log):
                seen.reached.add("events")
            if "worker_page" not in seen.reached and any(
                worker_account(sid) == account_sid for sid in connected_workers()
            ):
                seen.reached.add("worker_page")
            return {key: key in seen.reached for key, _ in MILESTONES}
