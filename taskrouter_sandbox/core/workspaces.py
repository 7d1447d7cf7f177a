"""Workspaces and what Twilio gives a new one.

A new workspace gets the Offline/Available/Unavailable activities (Offline as default and
timeout activity), the standard TaskChannels, and with ``Template=FIFO`` a "Sample Queue" and
a "Default Fifo Workflow" routing to it. Deleting one deletes everything it holds.
"""

from __future__ import annotations

import json
from typing import Any

from ..api_errors import BadRequest
from ..models import (
    Activity,
    Call,
    Record,
    Reservation,
    Task,
    TaskChannel,
    TaskQueue,
    Worker,
    WorkerChannel,
    Workflow,
    Workspace,
    touch,
)
from ..store import Transaction
from . import event_rows, records
from .activities import add_activity
from .channels import add_channel

DEFAULT_ACTIVITIES = (("Offline", False), ("Available", True), ("Unavailable", False))
DEFAULT_CHANNELS = (
    ("Default", "default"),
    ("Voice", "voice"),
    ("SMS", "sms"),
    ("Chat", "chat"),
    ("Video", "video"),
    ("Email", "email"),
)
CHILD_KINDS: tuple[type[Record], ...] = (  # everything a workspace holds goes with it
    Call,
    Reservation,
    WorkerChannel,
    Task,
    Worker,
    Workflow,
    TaskQueue,
    TaskChannel,
    Activity,
)
EVENT_FAMILIES = frozenset(
    {
        "activity",
        "reservation",
        "task",
        "task-channel",
        "task-queue",
        "worker",
        "workflow",
        "workspace",
    }
)


def events_filter(value: str | None) -> str | None:
    """A comma-separated EventsFilter, normalised; 400 naming the unknown types."""
    if value is None:
        return None
    types = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in types if not _is_event_type(t)]
    if unknown:
        raise BadRequest(
            f"EventsFilter has unknown event types: {', '.join(unknown)}; "
            "use comma-separated types such as task.created,reservation.accepted"
        )
    return ",".join(types)


def _is_event_type(name: str) -> bool:
    head, _, rest = name.partition(".")
    return head in EVENT_FAMILIES and bool(rest)


def create_workspace(
    tx: Transaction,
    account_sid: str,
    now: float,
    *,
    friendly_name: str,
    template: str = "NONE",
    multi_task_enabled: bool = True,
    prioritize_queue_order: str = "FIFO",
    event_callback_url: str | None = None,
    events_filter: str | None = None,
) -> Workspace:
    """A workspace with Twilio's defaults (and the FIFO template's queue and workflow)."""
    if any(
        w.friendly_name == friendly_name
        for w in tx.group(Workspace, "account_sid", account_sid).values()
    ):
        raise BadRequest(
            f"A workspace named {friendly_name!r} already exists; pick another FriendlyName"
        )
    ws = records.create_workspace(
        tx,
        account_sid,
        now,
        friendly_name=friendly_name,
        event_callback_url=event_callback_url,
        events_filter=events_filter,
        multi_task_enabled=multi_task_enabled,
        prioritize_queue_order=prioritize_queue_order,
    )
    event_rows.emit(tx, now, "workspace.created", ws, f"Workspace {friendly_name} created")
    activities = [
        add_activity(tx, ws, name, available, now) for name, available in DEFAULT_ACTIVITIES
    ]
    for friendly, unique in DEFAULT_CHANNELS:
        add_channel(tx, ws, friendly, unique, now)
    offline = activities[0].sid
    ws = tx.put(touch(ws, now, default_activity_sid=offline, timeout_activity_sid=offline))
    if template == "FIFO":
        _fifo_template(tx, ws, now)
    return ws


def _fifo_template(tx: Transaction, ws: Workspace, now: float) -> None:
    queue = records.create(
        tx, TaskQueue, ws, now, friendly_name="Sample Queue", target_workers="1==1"
    )
    event_rows.emit(
        tx, now, "task-queue.created", queue, "TaskQueue Sample Queue created",
        event_rows.describe(queue),
    )  # fmt: skip
    routing = {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
    flow = records.create(
        tx, Workflow, ws, now, friendly_name="Default Fifo Workflow",
        configuration=json.dumps(routing),
    )  # fmt: skip
    event_rows.emit(
        tx, now, "workflow.created", flow, "Workflow Default Fifo Workflow created",
        event_rows.describe(flow),
    )  # fmt: skip


def update_workspace(
    tx: Transaction, ws: Workspace, now: float, changes: dict[str, Any]
) -> Workspace:
    ws = tx.put(touch(ws, now, **changes))
    event_rows.emit(tx, now, "workspace.updated", ws, f"Workspace {ws.friendly_name} updated")
    return ws


def delete_workspace(tx: Transaction, ws: Workspace) -> None:
    for kind in CHILD_KINDS:
        for record in tx.group(kind, "workspace_sid", ws.sid).values():
            tx.delete(record)
    tx.delete(ws)
