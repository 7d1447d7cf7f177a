"""Workers: creation with a WorkerChannel per TaskChannel, routed at once when available."""

from __future__ import annotations

from ..api_errors import BadRequest
from ..models import TaskChannel, Worker, WorkerChannel, Workspace
from ..store import Transaction
from . import event_rows, records
from .engine import Engine


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
