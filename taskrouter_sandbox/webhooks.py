"""Which callbacks TaskRouter sends, with what parameters, and what their answers do.

* Assignment callback: one per reservation, to the workflow's ``assignment_callback_url``, with
  the 12 documented parameters; the answer is handled as decision 7 (``docs/decisions.md``)
  says (instruction executed; ``{}`` = decide later; 40000/40001/40005/55555 recorded;
  non-200 or no answer in 5 s -> the fallback URL, then nothing).
* Event callbacks: every event of a workspace with an ``event_callback_url`` (honouring
  ``events_filter``), ``ResourceType`` lowercase, ``Timestamp`` in epoch seconds (decision 8).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .core import instructions
from .core.timers import FaultSink
from .dispatch import Delivery, Dispatcher, Outcome, form_value, pascal
from .models import Record, Reservation, Task, Worker, Workflow, Workspace
from .store import Store

# Runs an instruction answered for a reservation (the core's, in its own transaction);
# raises InstructionError when TaskRouter would refuse it.
Answer = Callable[[str, dict[str, Any]], object]


class Webhooks:
    """Follows committed changes (a store listener) and sends what they call for.

    Wired by its constructor: the ``store`` it reads, the sandbox clock (``now``), each
    account's auth token (``token_for``: callbacks are signed with it), the core's entry point
    for an answered instruction (``answer``) and where background faults go (``on_fault``).
    """

    def __init__(
        self,
        store: Store,
        now: Callable[[], float],
        token_for: Callable[[str], str],
        answer: Answer,
        on_fault: FaultSink,
    ) -> None:
        self.store = store
        self.now = now
        self.token_for = token_for
        self.execute = answer
        self.on_fault = on_fault
        self.dispatcher = Dispatcher(
            self.answer, alive=lambda sid: store.get(sid, Workspace) is not None
        )

    # -- assignment callbacks -------------------------------------------------------------

    def _queue_assignment(self, reservation_sid: str) -> None:
        """A ``reservation.created`` event was committed: post the assignment callback."""
        reservation = self.store.get(reservation_sid, Reservation)
        if reservation is None:
            return
        flow = self.store.get(reservation.workflow_sid or "", Workflow)
        if flow is None or not flow.assignment_callback_url:
            return  # reservations still happen without a callback URL (the quickstart's part 1)
        task = self.store.get(reservation.task_sid, Task)
        worker = self.store.get(reservation.worker_sid, Worker)
        if task is None or worker is None:
            return
        now = self.now()
        params = {
            "AccountSid": reservation.account_sid,
            "WorkspaceSid": reservation.workspace_sid,
            "WorkflowSid": flow.sid,
            "TaskQueueSid": reservation.task_queue_sid or "",
            "WorkerSid": worker.sid,
            "WorkerAttributes": worker.attributes,
            "TaskSid": task.sid,
            "TaskAttributes": task.attributes,
            "TaskAge": str(max(int(now - task.date_created), 0)),
            "TaskPriority": str(task.priority),
            "ReservationSid": reservation.sid,
            "Timestamp": str(int(now)),
        }
        delivery = Delivery(
            kind="assignment",
            workspace_sid=reservation.workspace_sid,
            account_sid=reservation.account_sid,
            url=flow.assignment_callback_url,
            params=params,
            auth_token=self.token_for(reservation.account_sid),
            reservation_sid=reservation.sid,
            fallback_url=flow.fallback_assignment_callback_url,
        )
        self.dispatcher.send_assignment(delivery)

    def answer(self, delivery: Delivery, outcome: Outcome) -> None:
        """Runs on a dispatcher thread: act on an assignment callback's answer."""
        if not outcome.ok:
            reason = outcome.error or f"HTTP {outcome.status} (TaskRouter needs 200)"
            if delivery.kind == "assignment" and delivery.fallback_url:
                self.dispatcher.record(
                    delivery, outcome, _http_code(outcome), f"{reason}; trying the fallback URL"
                )
                fallback = Delivery(
                    **{
                        **delivery.__dict__,
                        "kind": "fallback",
                        "url": delivery.fallback_url,
                        "fallback_url": None,
                    }
                )
                self.dispatcher.send_assignment(fallback)
            else:
                self.dispatcher.record(
                    delivery,
                    outcome,
                    _http_code(outcome),
                    f"{reason}; the reservation stays pending",
                )
            return
        try:
            instruction = instructions.from_answer(
                outcome.status or 0, outcome.content_type, outcome.body
            )
        except instructions.InstructionError as error:
            self.dispatcher.record(delivery, outcome, error.code, error.message)
            return
        if instruction is None:
            self.dispatcher.record(
                delivery,
                outcome,
                40005,
                "no instruction in the answer: accept or reject later via REST",
                level="warning",
            )
            return
        name = str(instruction.get("instruction"))
        try:
            self.execute(delivery.reservation_sid or "", instruction)
        except instructions.InstructionError as error:  # nothing was committed
            self.dispatcher.record(delivery, outcome, error.code, error.message, instruction=name)
            return
        self.dispatcher.record(
            delivery, outcome, None, f"instruction {name} executed", instruction=name
        )

    # -- event callbacks ------------------------------------------------------------------

    def committed(self, puts: list[Record], deletes: list[Record], events: list[Any]) -> None:
        """Store listener (under the lock, after commit): queue the workspace's event callbacks,
        then the assignment callback of every reservation created."""
        for event in events:
            row = event["row"]
            try:  # one event that cannot be turned into a callback must not cost the others
                self._queue_event(row)
            except Exception as error:
                what = f"event {row.get('sid')} could not be queued"
                self.on_fault("event", row.get("resource_sid", ""), what, error)
        for event in events:
            row = event["row"]
            if row["event_type"] != "reservation.created":
                continue
            try:  # committed already: a callback that cannot be queued is recorded, not raised
                self._queue_assignment(row["resource_sid"])
            except Exception as error:
                what = f"the assignment callback of {row['resource_sid']} could not be queued"
                self.on_fault("commit", row["resource_sid"], what, error)
        for record in deletes:
            if isinstance(record, Workspace):
                self.dispatcher.forget(record.sid)  # its callback threads end with it

    def _queue_event(self, row: dict[str, Any]) -> None:
        ws = self.store.get(row["workspace_sid"], Workspace)
        if not isinstance(ws, Workspace) or not ws.event_callback_url:
            return
        if ws.events_filter and row["event_type"] not in ws.events_filter.split(","):
            return
        self.dispatcher.send_event(Delivery(
            kind="event",
            workspace_sid=ws.sid,
            account_sid=ws.account_sid,
            url=ws.event_callback_url,
            params=event_params(row),
            auth_token=self.token_for(ws.account_sid),
            event_type=row["event_type"],
        ))  # fmt: skip


def event_params(row: dict[str, Any]) -> dict[str, str]:
    """An Events-resource row as the form parameters of an event callback."""
    params = {
        "Sid": row["sid"],
        "EventType": row["event_type"],
        "EventDescription": row["description"],
        "ResourceType": row["resource_type"].lower(),
        "ResourceSid": row["resource_sid"],
        "Timestamp": str(row["event_date_ms"] // 1000),
        "TimestampMs": str(row["event_date_ms"]),
    }
    for key, value in row["event_data"].items():
        if value is not None and key != "resource_type":
            params.setdefault(pascal(key), form_value(value))
    return params


def _http_code(outcome: Outcome) -> int:
    return 11205 if outcome.status is None else 11200
