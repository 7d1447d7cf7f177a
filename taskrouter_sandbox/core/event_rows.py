"""Building TaskRouter events: one row per state change, kept for the Events resource.

``event_data`` uses Twilio's snake_case field names (``task_sid``, ``worker_activity_name``
…); the event callback (engine) sends the same fields in PascalCase. Which fields each event
type carries, and the Twilio source for them, is declared in ``event_catalog.py`` (and
``docs/taskrouter-events.md`` is generated from it).
"""

from __future__ import annotations

from typing import Any

from .. import wire
from ..models import (
    Activity,
    Record,
    Reservation,
    Task,
    TaskChannel,
    TaskQueue,
    Worker,
    WorkerChannel,
    Workflow,
    Workspace,
)
from ..store import Transaction

RESOURCE_TYPES = {
    "workspace": "Workspace",
    "activity": "Activity",
    "worker": "Worker",
    "task_queue": "TaskQueue",
    "workflow": "Workflow",
    "task": "Task",
    "task_channel": "TaskChannel",
    "reservation": "Reservation",
    "worker_channel": "Worker",
}
RESOURCE_PATHS = {
    "workspace": "",
    "activity": "/Activities/{sid}",
    "worker": "/Workers/{sid}",
    "task_queue": "/TaskQueues/{sid}",
    "workflow": "/Workflows/{sid}",
    "task": "/Tasks/{sid}",
    "task_channel": "/TaskChannels/{sid}",
}


def resource_url(record: Record) -> str:
    if isinstance(record, Reservation):
        return wire.url(
            f"/Workspaces/{record.workspace}/Tasks/{record.task_sid}/Reservations/{record.sid}"
        )
    if isinstance(record, WorkerChannel):
        return wire.url(
            f"/Workspaces/{record.workspace}/Workers/{record.worker_sid}/Channels/{record.sid}"
        )
    return wire.url(
        f"/Workspaces/{record.workspace}" + RESOURCE_PATHS[record.kind].format(sid=record.sid)
    )


def emit(
    tx: Transaction,
    now: float,
    event_type: str,
    resource: Record,
    description: str,
    data: dict[str, Any] | None = None,
    *,
    actor: Record | None = None,
    source_ip: str | None = None,
) -> None:
    workspace = tx.get(resource.workspace, Workspace)
    assert isinstance(workspace, Workspace)
    event_data: dict[str, Any] = {
        "workspace_sid": workspace.sid,
        "workspace_name": workspace.friendly_name,
        "account_sid": workspace.account_sid,
        "resource_type": RESOURCE_TYPES[resource.kind].lower(),
        "resource_sid": resource.sid,
    }
    event_data.update(data or {})
    sid = wire.new_sid("EV")
    actor_type, actor_sid, actor_url = "account", workspace.account_sid, None
    if actor is not None:
        actor_type, actor_sid = RESOURCE_TYPES[actor.kind].lower(), actor.sid
        actor_url = resource_url(actor)
    row = {
        "account_sid": workspace.account_sid,
        "actor_sid": actor_sid,
        "actor_type": actor_type,
        "actor_url": actor_url,
        "description": description,
        "event_data": event_data,
        "event_date": wire.iso(now),
        "event_date_ms": int(now * 1000),
        "event_type": event_type,
        "resource_sid": resource.sid,
        "resource_type": RESOURCE_TYPES[resource.kind],
        "resource_url": resource_url(resource),
        "sid": sid,
        "source": "twilio" if actor is not None else "api",
        "source_ip_address": source_ip,
        "url": wire.url(f"/Workspaces/{workspace.sid}/Events/{sid}"),
        "workspace_sid": workspace.sid,
    }
    index = {
        "sid": sid,
        "workspace_sid": workspace.sid,
        "event_date": now,
        "event_type": event_type,
        "task_sid": event_data.get("task_sid"),
        "worker_sid": event_data.get("worker_sid"),
        "reservation_sid": event_data.get("reservation_sid"),
        "task_queue_sid": event_data.get("task_queue_sid"),
        "workflow_sid": event_data.get("workflow_sid"),
        "task_channel": event_data.get("task_channel_unique_name"),
    }
    tx.emit(row, index)


def _name(tx: Transaction, sid: str | None) -> str | None:
    record = tx.get(sid) if sid else None
    return getattr(record, "friendly_name", None) if record else None


HOLDING = ("accepted", "wrapping", "completed")  # reservation statuses of a worker's task


def task_fields(tx: Transaction, task: Task, now: float) -> dict[str, Any]:
    """A task event's fields: the task, the queue it is in (``TaskQueue*``) and, while a worker
    holds it (accepted, wrapping, completed), that worker (``Worker*``), as Twilio's recorded
    task events carry them (see ``docs/taskrouter-events.md``)."""
    channel = tx.get(task.task_channel_sid) if task.task_channel_sid else None
    queue = tx.get(task.task_queue_sid) if task.task_queue_sid else None
    holder: dict[str, Any] = {}
    for reservation in tx.group(Reservation, "task_sid", task.sid).values():
        if getattr(reservation, "reservation_status", None) in HOLDING:
            worker = tx.get(reservation.worker_sid, Worker)
            if isinstance(worker, Worker):
                holder = worker_fields(tx, worker)
    return {
        **holder,
        "task_sid": task.sid,
        "task_attributes": task.attributes,
        "task_age": int(now - task.date_created),
        "task_priority": task.priority,
        "task_assignment_status": task.assignment_status,
        "task_version": task.version,
        "task_date_created": int(task.date_created),
        "task_queue_sid": task.task_queue_sid,
        "task_queue_name": _name(tx, task.task_queue_sid),
        "task_queue_target_expression": getattr(queue, "target_workers", None),
        "task_queue_entered_date": (
            int(task.task_queue_entered_date) if task.task_queue_entered_date else None
        ),
        "workflow_sid": task.workflow_sid,
        "workflow_name": _name(tx, task.workflow_sid),
        "task_channel_sid": task.task_channel_sid,
        "task_channel_unique_name": getattr(channel, "unique_name", None),
    }


def worker_fields(tx: Transaction, worker: Worker) -> dict[str, Any]:
    return {
        "worker_sid": worker.sid,
        "worker_name": worker.friendly_name,
        "worker_attributes": worker.attributes,
        "worker_activity_sid": worker.activity_sid,
        "worker_activity_name": _name(tx, worker.activity_sid),
        "worker_version": worker.version,
    }


def describe(record: Record) -> dict[str, Any]:
    """Field data for the simple resources (activity, queue, workflow, channel)."""
    if isinstance(record, Activity):
        return {
            "activity_sid": record.sid,
            "activity_name": record.friendly_name,
            "activity_available": record.available,
        }
    if isinstance(record, TaskQueue):
        return {
            "task_queue_sid": record.sid,
            "task_queue_name": record.friendly_name,
            "task_queue_target_expression": record.target_workers,
        }
    if isinstance(record, Workflow):
        return {"workflow_sid": record.sid, "workflow_name": record.friendly_name}
    if isinstance(record, TaskChannel):
        return {
            "task_channel_sid": record.sid,
            "task_channel_name": record.friendly_name,
            "task_channel_unique_name": record.unique_name,
            "task_channel_optimized_routing": record.channel_optimized_routing,
        }
    return {}
