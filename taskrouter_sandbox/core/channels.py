"""TaskChannels: create (a WorkerChannel on every worker), update, delete (refused while open
tasks use it; its WorkerChannels go with it), and finding one by sid or unique name."""

from __future__ import annotations

from typing import Any

from ..api_errors import BadRequest
from ..models import Task, TaskChannel, Worker, WorkerChannel, Workspace, touch
from ..store import Store, Transaction
from . import event_rows, records
from .workers import add_worker_channel


def find_channel(reader: Store | Transaction, workspace_sid: str, ref: str) -> TaskChannel | None:
    """A TaskChannel of the workspace by sid or unique name."""
    record = reader.get(ref, TaskChannel)
    if record is not None and record.workspace_sid == workspace_sid:
        return record
    for channel in reader.group(TaskChannel, "workspace_sid", workspace_sid).values():
        if channel.unique_name == ref:
            return channel
    return None


def add_channel(
    tx: Transaction,
    ws: Workspace,
    friendly: str,
    unique: str,
    now: float,
    optimized: bool | None = None,
) -> TaskChannel:
    """A TaskChannel, and its WorkerChannel on every worker of the workspace."""
    channel = records.create(
        tx, TaskChannel, ws, now, friendly_name=friendly, unique_name=unique,
        channel_optimized_routing=optimized,
    )  # fmt: skip
    for worker in tx.group(Worker, "workspace_sid", ws.sid).values():
        add_worker_channel(tx, worker, channel, now)
    event_rows.emit(
        tx, now, "task-channel.created", channel, f"TaskChannel {unique} created",
        event_rows.describe(channel),
    )  # fmt: skip
    return channel


def create_channel(
    tx: Transaction, ws: Workspace, friendly: str, unique: str, now: float,
    optimized: bool | None,
) -> TaskChannel:  # fmt: skip
    channels = tx.group(TaskChannel, "workspace_sid", ws.sid).values()
    if any(c.unique_name == unique for c in channels):
        raise BadRequest(f"A TaskChannel with UniqueName {unique!r} already exists")
    return add_channel(tx, ws, friendly, unique, now, optimized)


def update_channel(
    tx: Transaction, channel: TaskChannel, now: float, changes: dict[str, Any]
) -> TaskChannel:
    channel = tx.put(touch(channel, now, **changes))
    event_rows.emit(
        tx, now, "task-channel.updated", channel, f"TaskChannel {channel.unique_name} updated",
        event_rows.describe(channel),
    )  # fmt: skip
    return channel


def delete_channel(tx: Transaction, channel: TaskChannel, now: float) -> None:
    live = [
        t
        for t in tx.group(Task, "workspace_sid", channel.workspace_sid).values()
        if t.task_channel_sid == channel.sid
        and t.assignment_status not in ("completed", "canceled")
    ]
    if live:
        raise BadRequest(
            f"TaskChannel {channel.unique_name} still has {len(live)} open "
            "task(s); complete or cancel them first"
        )
    for wc in tx.group(WorkerChannel, "workspace_sid", channel.workspace_sid).values():
        if wc.task_channel_sid == channel.sid:
            tx.delete(wc)
    tx.delete(channel)
    event_rows.emit(
        tx, now, "task-channel.deleted", channel, f"TaskChannel {channel.unique_name} deleted",
        event_rows.describe(channel),
    )  # fmt: skip
