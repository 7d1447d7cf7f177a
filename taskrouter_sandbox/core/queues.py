"""TaskQueues: create, update (a new ``TargetWorkers`` re-offers its waiting tasks), delete."""

from __future__ import annotations

import json
from typing import Any

from ..api_errors import BadRequest
from ..models import Task, TaskQueue, Workflow, Workspace, touch
from ..store import Transaction
from . import event_rows, records
from .engine import Engine

MAX_QUEUES = 5000  # Twilio's TaskQueues-per-workspace limit (taskrouter/limits)
ACTIVITY_SETTINGS = (
    ("ReservationActivitySid", "reservation_activity_sid"),
    ("AssignmentActivitySid", "assignment_activity_sid"),
)


def _check_activities(tx: Transaction, workspace_sid: str, settings: dict[str, Any]) -> None:
    for param, attr in ACTIVITY_SETTINGS:
        if settings.get(attr) is not None:
            records.check_activity(tx, workspace_sid, settings[attr], param)


def _check_unique(tx: Transaction, workspace_sid: str, name: str | None, sid: str | None) -> None:
    if name is None:
        return
    for queue in tx.group(TaskQueue, "workspace_sid", workspace_sid).values():
        if queue.friendly_name == name and queue.sid != sid:
            raise BadRequest(f"A TaskQueue named {name!r} already exists in this workspace")


def create_queue(tx: Transaction, ws: Workspace, now: float, settings: dict[str, Any]) -> TaskQueue:
    """A queue (``friendly_name`` required; activities of this workspace; a name of its own)."""
    _check_activities(tx, ws.sid, settings)
    if len(tx.group(TaskQueue, "workspace_sid", ws.sid)) >= MAX_QUEUES:
        raise BadRequest(f"A workspace holds at most {MAX_QUEUES} TaskQueues")
    _check_unique(tx, ws.sid, settings["friendly_name"], None)
    queue = records.create(tx, TaskQueue, ws, now, **{"target_workers": "1==1", **settings})
    event_rows.emit(
        tx, now, "task-queue.created", queue, f"TaskQueue {queue.friendly_name} created",
        event_rows.describe(queue),
    )  # fmt: skip
    return queue


def update_queue(
    engine: Engine, tx: Transaction, queue: TaskQueue, now: float, settings: dict[str, Any]
) -> TaskQueue:
    _check_activities(tx, queue.workspace_sid, settings)
    _check_unique(tx, queue.workspace_sid, settings.get("friendly_name"), queue.sid)
    old_target = queue.target_workers
    queue = tx.put(touch(queue, now, **settings))
    if queue.target_workers != old_target:
        event_rows.emit(
            tx, now, "task-queue.expression.updated", queue,
            f"TaskQueue {queue.friendly_name} expression updated", event_rows.describe(queue),
        )  # fmt: skip
    engine.queue_changed(tx, queue, now)
    return queue


def delete_queue(tx: Transaction, queue: TaskQueue, now: float) -> None:
    """Refused (400) while a workflow names it or it holds waiting tasks."""
    for flow in tx.group(Workflow, "workspace_sid", queue.workspace_sid).values():
        if queue.sid in json.dumps(json.loads(flow.configuration)):
            raise BadRequest(
                f"TaskQueue {queue.friendly_name} is used by Workflow "
                f"{flow.friendly_name}; remove it from the workflow first"
            )
    waiting = [
        t
        for t in tx.group(Task, "workspace_sid", queue.workspace_sid).values()
        if t.task_queue_sid == queue.sid and t.assignment_status in ("pending", "reserved")
    ]
    if waiting:
        raise BadRequest(
            f"TaskQueue {queue.friendly_name} still holds {len(waiting)} "
            "pending task(s); cancel or move them first"
        )
    tx.delete(queue)
    event_rows.emit(
        tx, now, "task-queue.deleted", queue, f"TaskQueue {queue.friendly_name} deleted",
        event_rows.describe(queue),
    )  # fmt: skip
