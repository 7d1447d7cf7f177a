"""Tasks: create, update (attributes, priority, channel, status), delete.

Status changes a client may ask for (Twilio's task lifecycle,
https://www.twilio.com/docs/taskrouter/lifecycle-task-state): ``canceled`` before assignment,
``wrapping`` after it, ``completed`` from ``assigned`` or ``wrapping``; the others are
TaskRouter's to make. Anything else is a 400 that says which move is allowed.

:func:`create_task` is the one way a task comes into being (REST, or a caller's ``<Enqueue>``
in a voice extension): it emits ``task.created`` and routes the task in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..api_errors import BadRequest
from ..models import Call, Reservation, Task, TaskQueue, Workflow, Workspace, touch
from ..store import Transaction
from . import event_rows, records
from .channels import find_channel
from .engine import Engine

EARLIEST_START = -2_208_988_800.0  # 1900-01-01T00:00:00Z
DEFAULT_TIMEOUT = 86_400
STATUSES = ("pending", "reserved", "assigned", "canceled", "completed", "wrapping")
CLIENT_MOVES = {
    "canceled": ("pending", "reserved"),
    "wrapping": ("assigned",),
    "completed": ("assigned", "wrapping"),
}


def check_start(moment: float | None, now: float) -> float | None:
    """A VirtualStartTime: not in the future, not before 1900."""
    if moment is not None and (moment > now or moment < EARLIEST_START):
        raise BadRequest("VirtualStartTime must not be in the future nor before 1900")
    return moment


def channel_sid(tx: Transaction, workspace_sid: str, ref: str | None) -> str:
    channel = find_channel(tx, workspace_sid, ref or "default")
    if channel is None:
        raise BadRequest(
            f"TaskChannel {ref or 'default'!r} does not exist in this workspace; "
            "pass a TaskChannel sid or unique name such as 'default' or 'voice'"
        )
    return channel.sid


def _workflow(tx: Transaction, workspace_sid: str, sid: str | None) -> Workflow:
    flows = list(tx.group(Workflow, "workspace_sid", workspace_sid).values())
    if sid is None:
        if len(flows) == 1:
            return flows[0]
        raise BadRequest(
            "Missing required parameter WorkflowSid in the post body "
            f"(the workspace has {len(flows)} workflows, so it must be named)"
        )
    flow = tx.get(sid, Workflow)
    if flow is None or flow.workspace_sid != workspace_sid:
        raise BadRequest(f"WorkflowSid {sid!r} is not a workflow of this workspace")
    return flow


def create_task(
    engine: Engine,
    tx: Transaction,
    ws: Workspace,
    now: float,
    *,
    attributes: str = "{}",
    priority: int | None = None,
    timeout: int | None = None,
    workflow_sid: str | None = None,
    task_queue_sid: str | None = None,
    task_channel: str | None = None,
    virtual_start_time: float | None = None,
    routing_target: str | None = None,
    ignore_capacity: bool | None = None,
) -> Task:
    """A new task in its workflow: ``task.created``, then routed (maybe reserved at once)."""
    flow = _workflow(tx, ws.sid, workflow_sid)
    if task_queue_sid is not None:
        queue = tx.get(task_queue_sid, TaskQueue)
        if queue is None or queue.workspace_sid != ws.sid:
            raise BadRequest(f"TaskQueueSid {task_queue_sid!r} is not a queue of this workspace")
    start = check_start(virtual_start_time, now)
    task = records.create(
        tx,
        Task,
        ws,
        now,
        attributes=attributes,
        priority=priority or 0,
        timeout=timeout or DEFAULT_TIMEOUT,
        workflow_sid=flow.sid,
        task_channel_sid=channel_sid(tx, ws.sid, task_channel),
        virtual_start_time=start if start is not None else now,
        routing_target=routing_target,
        ignore_capacity=ignore_capacity,
    )
    return engine.task_created(tx, task, now)  # emits task.created, then routes


@dataclass(frozen=True)
class TaskUpdate:
    """What a client asked to change (None: leave as it is)."""

    attributes: str | None = None
    assignment_status: str | None = None
    reason: str | None = None
    priority: int | None = None
    virtual_start_time: float | None = None
    change_channel: bool = False  # TaskChannel was given (``task_channel`` may be None)
    task_channel: str | None = None


def update_task(
    engine: Engine, tx: Transaction, task: Task, now: float, update: TaskUpdate
) -> Task:
    status, attributes = update.assignment_status, update.attributes
    start = check_start(update.virtual_start_time, now)
    if status is not None:
        _check_move(task, status, update)
    changes: dict[str, Any] = {}
    if attributes is not None:
        changes["attributes"] = attributes
    if update.priority is not None:
        changes["priority"] = update.priority
    if start is not None:
        changes["virtual_start_time"] = start
    if update.change_channel:
        changes["task_channel_sid"] = channel_sid(tx, task.workspace_sid, update.task_channel)
    if changes:
        task = tx.put(touch(task, now, **changes))
        event_rows.emit(
            tx, now, "task.updated", task, f"Task {task.sid} updated",
            event_rows.task_fields(tx, task, now),
        )  # fmt: skip
    if status is not None and status != task.assignment_status:
        return engine.task_status_changed(tx, task, status, update.reason, now)
    if attributes is not None or update.priority is not None:
        return engine.task_changed(tx, task, now)
    return task


def _check_move(task: Task, status: str, update: TaskUpdate) -> None:
    if task.assignment_status in ("canceled", "completed"):
        raise BadRequest(
            f"Task {task.sid} is already {task.assignment_status}, a final status; "
            "create a new task instead"
        )
    if status == task.assignment_status:
        return
    allowed_from = CLIENT_MOVES.get(status)
    if allowed_from is None:
        raise BadRequest(
            f"AssignmentStatus {status} is set by TaskRouter, not by a "
            "client; you can set canceled, wrapping or completed"
        )
    if task.assignment_status not in allowed_from:
        raise BadRequest(
            f"Task {task.sid} is {task.assignment_status}; it can become "
            f"{status} only from {' or '.join(allowed_from)}"
        )
    if update.attributes is not None and status in ("wrapping", "completed"):
        raise BadRequest(
            "Update Attributes and AssignmentStatus in two requests "
            "when wrapping or completing a task"
        )
    if status in ("canceled", "completed") and not update.reason:
        raise BadRequest(f"Missing required parameter Reason: say why the task is {status}")


def delete_task(engine: Engine, tx: Transaction, task: Task, now: float) -> None:
    """The task, its reservations and simulated calls go; a worker holding it has room again."""
    engine.task_deleted(tx, task, now)
    fields = event_rows.task_fields(tx, task, now)  # before its reservations go: who held it
    holders = []
    for reservation in list(tx.group(Reservation, "task_sid", task.sid).values()):
        holders.append(reservation.worker_sid)
        tx.delete(reservation)
    for call in tx.group(Call, "task_sid", task.sid).values():
        tx.delete(call)
    tx.delete(task)
    engine.release(tx, holders, now)  # a multitasking worker's slot is free again
    event_rows.emit(tx, now, "task.deleted", task, f"Task {task.sid} deleted", fields)
