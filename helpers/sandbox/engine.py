"""What TaskRouter does on its own when a task or worker changes.

The REST handlers validate a request and record the client's change; they then call in here
so TaskRouter's consequences land in the same transaction: a new task enters its workflow and
is placed in the first matching filter's queue, a finished task closes its open reservations.
"""

from __future__ import annotations

import json
from typing import Any

from . import events, wire
from .errors import BadRequest, Gone
from .models import (
    Activity,
    Reservation,
    Task,
    TaskQueue,
    Worker,
    WorkerChannel,
    Workflow,
    Workspace,
    touch,
)
from .params import Params
from .store import Transaction
from .workflow_config import RoutingConfig, Target, parse_configuration

OPEN_RESERVATIONS = ("pending",)


def configuration(tx: Transaction, flow: Workflow) -> RoutingConfig:
    def queue_exists(sid: str) -> bool:
        return tx.get(sid, "task_queue") is not None

    return parse_configuration(flow.configuration, queue_exists)


def _attributes(task: Task) -> dict[str, Any]:
    try:
        value = json.loads(task.attributes)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def match_target(tx: Transaction, task: Task) -> tuple[str, Target] | None:
    """The first matching filter's first target (or the default filter's), with its name."""
    flow = tx.get(task.workflow_sid or "", "workflow")
    if not isinstance(flow, Workflow):
        return None
    config = configuration(tx, flow)
    doc = _attributes(task)
    for routing_filter in config.filters:
        if routing_filter.expression.evaluate(doc):
            return routing_filter.name, routing_filter.targets[0]
    if config.default is not None:
        return "Default Filter", config.default
    return None


def task_created(tx: Transaction, task: Task, now: float) -> Task:
    events.emit(
        tx,
        now,
        "workflow.entered",
        task,
        f"Task {task.sid} entered Workflow",
        events.task_fields(tx, task, now),
    )
    return _place(tx, task, now)


def _place(tx: Transaction, task: Task, now: float) -> Task:
    matched = match_target(tx, task)
    if matched is None:
        return task
    name, target = matched
    queue = tx.get(target.queue, "task_queue")
    assert isinstance(queue, TaskQueue)
    changes: dict[str, Any] = {"task_queue_sid": queue.sid, "task_queue_entered_date": now}
    if target.priority is not None:
        changes["priority"] = target.priority
    task = tx.put(touch(task, now, **changes))
    fields = events.task_fields(tx, task, now)
    events.emit(
        tx,
        now,
        "workflow.target-matched",
        task,
        f"Task {task.sid} matched filter {name}",
        {**fields, "workflow_filter_name": name, "workflow_filter_target": queue.sid},
    )
    events.emit(
        tx,
        now,
        "task-queue.entered",
        task,
        f"Task {task.sid} entered TaskQueue {queue.friendly_name}",
        fields,
    )
    return offer(tx, task, now)


def task_changed(tx: Transaction, task: Task, now: float) -> Task:
    """Attributes or priority changed: a task still waiting is routed again."""
    if task.assignment_status != "pending":
        return task
    return _place(tx, task, now)


def task_status_changed(
    tx: Transaction, task: Task, status: str, reason: str | None, now: float
) -> Task:
    if status == "canceled":
        _close_reservations(tx, task, "canceled", now)
    task = tx.put(touch(task, now, assignment_status=status, reason=reason))
    fields = {**events.task_fields(tx, task, now)}
    if status == "canceled":
        fields["task_canceled_reason"] = reason
        events.emit(tx, now, "task.canceled", task, f"Task {task.sid} canceled", fields)
    elif status == "completed":
        fields["task_completed_reason"] = reason
        _close_reservations(tx, task, "completed", now, statuses=("accepted", "wrapping"))
        events.emit(tx, now, "task.completed", task, f"Task {task.sid} completed", fields)
    elif status == "wrapping":
        _close_reservations(tx, task, "wrapping", now, statuses=("accepted",))
        events.emit(tx, now, "task.wrapup", task, f"Task {task.sid} wrapping up", fields)
    return task


def task_deleted(tx: Transaction, task: Task, now: float) -> None:
    _close_reservations(tx, task, "canceled", now)


def _close_reservations(
    tx: Transaction,
    task: Task,
    status: str,
    now: float,
    statuses: tuple[str, ...] = OPEN_RESERVATIONS,
) -> None:
    event_type = {
        "canceled": "reservation.canceled",
        "completed": "reservation.completed",
        "wrapping": "reservation.wrapup",
    }[status]
    for reservation in list(tx.group("reservation", "task_sid", task.sid).values()):
        assert isinstance(reservation, Reservation)
        if reservation.reservation_status not in statuses:
            continue
        reservation = tx.put(touch(reservation, now, reservation_status=status))
        worker = tx.get(reservation.worker_sid, "worker")
        data = {**events.task_fields(tx, task, now), "reservation_sid": reservation.sid}
        if isinstance(worker, Worker):
            data.update(events.worker_fields(tx, worker))
        events.emit(
            tx, now, event_type, reservation, f"Reservation {reservation.sid} {status}", data
        )
        ws = tx.get(task.workspace_sid, "workspace")
        previous = reservation.extra.get("previous_activity_sid")
        single = isinstance(ws, Workspace) and not ws.multi_task_enabled
        if status == "canceled" and single and previous and isinstance(worker, Worker):
            move_worker(tx, worker, previous, now)


# -- reservations ---------------------------------------------------------------------------


def _worker_free(tx: Transaction, worker: Worker, task: Task, multi: bool) -> bool:
    activity = tx.get(worker.activity_sid, "activity")
    if not isinstance(activity, Activity) or not activity.available:
        return False
    held = [
        r
        for r in tx.group("reservation", "worker_sid", worker.sid).values()
        if r.reservation_status == "pending"
    ]  # type: ignore[attr-defined]
    if any(r.task_sid == task.sid for r in held):  # type: ignore[attr-defined]
        return False
    if not multi:
        return not held
    channel = next(
        (
            c
            for c in tx.group("worker_channel", "worker_sid", worker.sid).values()
            if c.task_channel_sid == task.task_channel_sid
        ),
        None,
    )  # type: ignore[attr-defined]
    if not isinstance(channel, WorkerChannel) or not channel.available:
        return False
    busy = sum(
        1
        for r in tx.group("reservation", "worker_sid", worker.sid).values()
        if r.reservation_status in ("pending", "accepted")  # type: ignore[attr-defined]
        and _open(tx, r.task_sid, task.task_channel_sid)
    )  # type: ignore[attr-defined]
    return busy < channel.configured_capacity


def _open(tx: Transaction, task_sid: str, channel_sid: str | None) -> bool:
    task = tx.get(task_sid, "task")
    return (
        isinstance(task, Task)
        and task.task_channel_sid == channel_sid
        and task.assignment_status in ("reserved", "assigned", "wrapping")
    )


def offer(tx: Transaction, task: Task, now: float) -> Task:
    """Reserve eligible workers of the task's queue (longest idle first) for a pending task."""
    if task.assignment_status != "pending" or not task.task_queue_sid:
        return task
    queue = tx.get(task.task_queue_sid, "task_queue")
    workspace = tx.get(task.workspace_sid, "workspace")
    if not isinstance(queue, TaskQueue) or not isinstance(workspace, Workspace):
        return task
    from .resources.workers import matches_queue  # here: workers imports the engine's users

    candidates = [
        w
        for w in tx.group("worker", "workspace_sid", task.workspace_sid).values()
        if isinstance(w, Worker)
        and matches_queue(w, queue, tx)
        and _worker_free(tx, w, task, workspace.multi_task_enabled)
    ]
    candidates.sort(key=lambda w: (w.date_status_changed, w.date_created))
    for worker in candidates[: queue.max_reserved_workers]:
        task = _reserve(tx, task, worker, queue, workspace, now)
    return task


def _reserve(
    tx: Transaction, task: Task, worker: Worker, queue: TaskQueue, ws: Workspace, now: float
) -> Task:
    reservation = tx.put(
        Reservation(
            sid=wire.new_sid("WR"),
            account_sid=task.account_sid,
            date_created=now,
            date_updated=now,
            workspace_sid=task.workspace_sid,
            task_sid=task.sid,
            worker_sid=worker.sid,
            extra={"previous_activity_sid": worker.activity_sid},
        )
    )
    task = tx.put(touch(task, now, assignment_status="reserved"))
    data = {
        **events.task_fields(tx, task, now),
        **events.worker_fields(tx, worker),
        "reservation_sid": reservation.sid,
    }
    events.emit(
        tx,
        now,
        "reservation.created",
        reservation,
        f"Reservation {reservation.sid} created for {worker.friendly_name}",
        data,
    )
    if not ws.multi_task_enabled and queue.reservation_activity_sid:
        move_worker(tx, worker, queue.reservation_activity_sid, now)
    return task


def move_worker(tx: Transaction, worker: Worker, activity_sid: str, now: float) -> Worker:
    """TaskRouter moving a worker to another activity, with its worker.activity.update event."""
    current = tx.get(worker.sid, "worker")
    assert isinstance(current, Worker)
    if current.activity_sid == activity_sid:
        return current
    previous = tx.get(current.activity_sid, "activity")
    spent = now - current.date_status_changed
    moved = tx.put(touch(current, now, activity_sid=activity_sid, date_status_changed=now))
    new_activity = tx.get(activity_sid, "activity")
    events.emit(
        tx,
        now,
        "worker.activity.update",
        moved,
        f"Worker {moved.friendly_name} updated to "
        f"{getattr(new_activity, 'friendly_name', activity_sid)} Activity",
        {
            **events.worker_fields(tx, moved),
            "worker_previous_activity_sid": getattr(previous, "sid", None),
            "worker_previous_activity_name": getattr(previous, "friendly_name", None),
            "worker_time_in_previous_activity": int(spent),
            "worker_time_in_previous_activity_ms": int(spent * 1000),
        },
    )
    return moved


def worker_changed(tx: Transaction, worker: Worker, now: float) -> None:
    """A worker may have become available: offer it the waiting tasks it can take."""
    activity = tx.get(worker.activity_sid, "activity")
    if not isinstance(activity, Activity) or not activity.available:
        return
    waiting = [
        t
        for t in tx.group("task", "workspace_sid", worker.workspace_sid).values()
        if isinstance(t, Task) and t.assignment_status == "pending" and t.task_queue_sid
    ]
    waiting.sort(key=lambda t: (-t.priority, t.virtual_start_time, t.date_created))
    for task in waiting:
        offer(tx, task, now)


def update_reservation(
    tx: Transaction,
    reservation: Reservation,
    status: str | None,
    instruction: str | None,
    activity_sid: str | None,
    params: Params,
    now: float,
) -> Reservation:
    if instruction in ("dequeue", "call", "redirect", "conference", "supervise"):
        raise BadRequest(
            f"Instruction {instruction} needs a voice call; the sandbox supports "
            "accept and reject (or ReservationStatus accepted/rejected)"
        )
    wanted = (
        "accepted" if instruction == "accept" else "rejected" if instruction == "reject" else status
    )
    current = reservation.reservation_status
    if wanted == "rescinded" or current == "rescinded":
        raise Gone(f"Reservation {reservation.sid} was rescinded: another worker accepted the task")
    if wanted in ("accepted", "rejected"):
        if current != "pending":
            raise BadRequest(
                f"Reservation {reservation.sid} is {current}; only a pending "
                f"reservation can be {wanted}"
            )
        if wanted == "accepted":
            return accept(tx, reservation, now)
        return reject(tx, reservation, activity_sid, now)
    if wanted in ("wrapping", "completed"):
        allowed = ("accepted",) if wanted == "wrapping" else ("accepted", "wrapping")
        if current not in allowed:
            raise BadRequest(
                f"Reservation {reservation.sid} is {current}; it can become "
                f"{wanted} only from {' or '.join(allowed)}"
            )
        task = tx.get(reservation.task_sid, "task")
        assert isinstance(task, Task)
        if task.assignment_status != wanted:
            task_status_changed(tx, task, wanted, f"reservation {wanted}", now)
        updated = tx.get(reservation.sid, "reservation")
        assert isinstance(updated, Reservation)
        return updated
    raise BadRequest(
        f"ReservationStatus {wanted} is set by TaskRouter; a client may set "
        "accepted, rejected, wrapping or completed"
    )


def accept(tx: Transaction, reservation: Reservation, now: float) -> Reservation:
    task = tx.get(reservation.task_sid, "task")
    worker = tx.get(reservation.worker_sid, "worker")
    assert isinstance(task, Task) and isinstance(worker, Worker)
    reservation = tx.put(touch(reservation, now, reservation_status="accepted"))
    task = tx.put(touch(task, now, assignment_status="assigned"))
    data = {
        **events.task_fields(tx, task, now),
        **events.worker_fields(tx, worker),
        "reservation_sid": reservation.sid,
    }
    events.emit(
        tx,
        now,
        "reservation.accepted",
        reservation,
        f"Reservation {reservation.sid} accepted by {worker.friendly_name}",
        data,
    )
    for other in list(tx.group("reservation", "task_sid", task.sid).values()):
        if other.sid != reservation.sid and other.reservation_status == "pending":  # type: ignore[attr-defined]
            _end_unaccepted(tx, other, "rescinded", None, now)  # type: ignore[arg-type]
    queue = tx.get(task.task_queue_sid or "", "task_queue")
    ws = tx.get(task.workspace_sid, "workspace")
    single = isinstance(ws, Workspace) and not ws.multi_task_enabled
    if single and isinstance(queue, TaskQueue) and queue.assignment_activity_sid:
        move_worker(tx, worker, queue.assignment_activity_sid, now)
    return reservation


def reject(
    tx: Transaction, reservation: Reservation, activity_sid: str | None, now: float
) -> Reservation:
    if activity_sid is not None:
        activity = tx.get(activity_sid, "activity")
        if activity is None or activity.workspace_sid != reservation.workspace_sid:  # type: ignore[attr-defined]
            raise BadRequest(
                f"WorkerActivitySid {activity_sid!r} is not an activity of this workspace"
            )
    reservation = _end_unaccepted(tx, reservation, "rejected", activity_sid, now)
    return reservation


def _end_unaccepted(
    tx: Transaction, reservation: Reservation, status: str, activity_sid: str | None, now: float
) -> Reservation:
    """rejected / timeout / rescinded: the worker moves on; the task waits for someone else."""
    reservation = tx.put(touch(reservation, now, reservation_status=status))
    task = tx.get(reservation.task_sid, "task")
    worker = tx.get(reservation.worker_sid, "worker")
    assert isinstance(task, Task) and isinstance(worker, Worker)
    data = {
        **events.task_fields(tx, task, now),
        **events.worker_fields(tx, worker),
        "reservation_sid": reservation.sid,
    }
    events.emit(
        tx,
        now,
        f"reservation.{status}",
        reservation,
        f"Reservation {reservation.sid} {status}",
        data,
    )
    ws = tx.get(task.workspace_sid, "workspace")
    single = isinstance(ws, Workspace) and not ws.multi_task_enabled
    if status == "rejected":
        target = activity_sid or (
            reservation.extra.get("previous_activity_sid") if single else None
        )
        if target:
            worker = move_worker(tx, worker, target, now)
    elif status == "rescinded" and single:
        previous = reservation.extra.get("previous_activity_sid")
        if previous:
            worker = move_worker(tx, worker, previous, now)
    still_open = any(
        r.reservation_status == "pending"  # type: ignore[attr-defined]
        for r in tx.group("reservation", "task_sid", task.sid).values()
    )
    if task.assignment_status == "reserved" and not still_open:
        task = tx.put(touch(task, now, assignment_status="pending"))
        if status != "rescinded":
            offer(tx, task, now)
    return reservation


def reject_pending(tx: Transaction, worker: Worker, now: float) -> None:
    """RejectPendingReservations=true on a move to an unavailable activity."""
    activity = tx.get(worker.activity_sid, "activity")
    if isinstance(activity, Activity) and activity.available:
        return
    for reservation in list(tx.group("reservation", "worker_sid", worker.sid).values()):
        if isinstance(reservation, Reservation) and reservation.reservation_status == "pending":
            _end_unaccepted(tx, reservation, "rejected", worker.activity_sid, now)
