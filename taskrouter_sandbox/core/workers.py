"""Workers and their channels: create (a WorkerChannel per TaskChannel), update (name,
attributes, activity; channel capacity and availability) and delete, with their events; a
worker that may take work after a change is routed at once."""

from __future__ import annotations

from typing import Any

from ..api_errors import BadRequest
from ..models import (
    Activity,
    Reservation,
    TaskChannel,
    Worker,
    WorkerChannel,
    Workspace,
    touch,
)
from ..store import Store, Transaction
from . import event_rows, records
from .engine import Engine
from .routing import channel_load


def add_worker_channel(
    tx: Transaction, worker: Worker, channel: TaskChannel, now: float
) -> WorkerChannel:
    return records.create(
        tx, WorkerChannel, worker, now, worker_sid=worker.sid, task_channel_sid=channel.sid
    )


def check_unique_name(
    tx: Transaction, workspace_sid: str, name: str, sid: str | None = None
) -> None:
    for other in tx.group(Worker, "workspace_sid", workspace_sid).values():
        if other.friendly_name.lower() == name.lower() and other.sid != sid:
            raise BadRequest(
                f"A worker named {other.friendly_name!r} already exists in this workspace "
                "(names are unique regardless of case)"
            )


def create_worker(
    engine: Engine, tx: Transaction, ws: Workspace, now: float, *, friendly_name: str,
    attributes: str, activity_sid: str,
) -> Worker:  # fmt: skip
    """A worker (its activity checked by the caller) with a channel per TaskChannel; one
    created straight into an available activity is offered waiting work at once."""
    check_unique_name(tx, ws.sid, friendly_name)
    worker = records.create(
        tx, Worker, ws, now, friendly_name=friendly_name, attributes=attributes,
        activity_sid=activity_sid, date_status_changed=now,
    )  # fmt: skip
    for channel in tx.group(TaskChannel, "workspace_sid", ws.sid).values():
        add_worker_channel(tx, worker, channel, now)
    event_rows.emit(
        tx, now, "worker.created", worker, f"Worker {friendly_name} created",
        event_rows.worker_fields(tx, worker),
    )  # fmt: skip
    engine.worker_changed(tx, worker, now)
    created = tx.get(worker.sid, Worker)  # the engine may have reserved (and moved) it
    assert created is not None
    return created


def update_worker(
    engine: Engine, tx: Transaction, worker: Worker, now: float, *,
    friendly_name: str | None = None, attributes: str | None = None,
    activity_sid: str | None = None, reject_pending: bool = False,
) -> Worker:  # fmt: skip
    """Name, attributes and activity (``ActivitySid``: one of the workspace) with their
    events; a worker that may take work now is routed, and ``reject_pending`` with a move to
    an unavailable activity rejects its pending reservations."""
    changes: dict[str, Any] = {}
    if friendly_name is not None:
        check_unique_name(tx, worker.workspace_sid, friendly_name, worker.sid)
        changes["friendly_name"] = friendly_name
    if attributes is not None:
        changes["attributes"] = attributes
    previous: Activity | None = None
    if activity_sid is not None:
        records.check_activity(tx, worker.workspace_sid, activity_sid, "ActivitySid")
        if activity_sid != worker.activity_sid:
            previous = tx.get(worker.activity_sid, Activity)
            changes.update(activity_sid=activity_sid, date_status_changed=now)
    old = worker
    worker = tx.put(touch(worker, now, **changes))
    if previous is not None:
        spent = now - old.date_status_changed
        event_rows.emit(
            tx, now, "worker.activity.update", worker,
            f"Worker {worker.friendly_name} updated to "
            f"{getattr(tx.get(worker.activity_sid), 'friendly_name', None)} Activity",
            {
                **event_rows.worker_fields(tx, worker),
                "worker_previous_activity_sid": previous.sid,
                "worker_previous_activity_name": previous.friendly_name,
                "worker_time_in_previous_activity": int(spent),
                "worker_time_in_previous_activity_ms": int(spent * 1000),
            },
        )  # fmt: skip
    if attributes is not None:
        event_rows.emit(
            tx, now, "worker.attributes.update", worker,
            f"Worker {worker.friendly_name} attributes updated",
            event_rows.worker_fields(tx, worker),
        )  # fmt: skip
    if reject_pending and previous is not None:
        engine.reject_pending(tx, worker, now)
    if previous is not None or attributes is not None:
        engine.worker_changed(tx, worker, now)
    changed = tx.get(worker.sid, Worker)  # the engine may have reserved (and moved) the worker
    assert changed is not None
    return changed


def delete_worker(tx: Transaction, worker: Worker, now: float) -> None:
    """Refused (400) while it holds a pending or accepted reservation."""
    busy = [
        r
        for r in tx.group(Reservation, "worker_sid", worker.sid).values()
        if r.reservation_status in ("pending", "accepted")
    ]
    if busy:
        raise BadRequest(
            f"Worker {worker.friendly_name} holds {len(busy)} pending or accepted "
            "reservation(s); complete, reject or cancel them before deleting the worker"
        )
    for channel in tx.group(WorkerChannel, "worker_sid", worker.sid).values():
        tx.delete(channel)
    for reservation in tx.group(Reservation, "worker_sid", worker.sid).values():
        tx.delete(reservation)
    tx.delete(worker)
    event_rows.emit(
        tx, now, "worker.deleted", worker, f"Worker {worker.friendly_name} deleted",
        event_rows.worker_fields(tx, worker),
    )  # fmt: skip


def assigned_tasks(reader: Store | Transaction, channel: WorkerChannel) -> int:
    """Tasks of this channel the worker holds, *reserved ones included*: TaskRouter "will not
    create any reservations after the assigned Tasks for the Worker reaches" the configured
    capacity and sends reservations "until the configured Task Channel capacity is reached"
    (https://www.twilio.com/docs/taskrouter/api/worker-channel), so a pending reservation takes
    a slot. Counted by routing's own function, so ``available_capacity_percentage`` is 0
    exactly when routing treats the channel as full."""
    return channel_load(reader, channel.worker_sid).get(channel.task_channel_sid, 0)


def update_channel(
    engine: Engine, tx: Transaction, channel: WorkerChannel, now: float, changes: dict[str, Any]
) -> WorkerChannel:
    """Capacity or availability of a worker's channel, with their events; more room routes."""
    before = channel
    channel = tx.put(touch(channel, now, **changes))
    worker = tx.get(channel.worker_sid, Worker)
    assert worker is not None  # a channel goes with its worker
    data = {
        **event_rows.worker_fields(tx, worker),
        "task_channel_sid": channel.task_channel_sid,
        "task_channel_unique_name": getattr(tx.get(channel.task_channel_sid), "unique_name", None),
        "worker_channel_task_count": assigned_tasks(tx, channel),
        "worker_channel_available": channel.available,
        "worker_channel_available_capacity": channel.configured_capacity,
        "worker_channel_previous_capacity": before.configured_capacity,
    }
    if channel.configured_capacity != before.configured_capacity:
        event_rows.emit(
            tx, now, "worker.capacity.update", worker,
            f"Worker {worker.friendly_name} capacity updated", data,
        )  # fmt: skip
    if channel.available != before.available:
        event_rows.emit(
            tx, now, "worker.channel.availability.update", worker,
            f"Worker {worker.friendly_name} channel availability updated", data,
        )  # fmt: skip
    more_room = channel.configured_capacity > before.configured_capacity
    if channel.available and (more_room or not before.available):
        engine.worker_changed(tx, worker, now)  # room again
    return channel
