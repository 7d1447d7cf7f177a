"""Activities: create (names unique in a workspace, regardless of case; at most 100), rename
(``available`` is fixed at creation, as on Twilio), delete (refused while anything uses it)."""

from __future__ import annotations

from collections.abc import Iterable

from ..api_errors import BadRequest
from ..models import Activity, TaskQueue, Worker, Workspace, touch
from ..store import Transaction
from . import event_rows, records

MAX_ACTIVITIES = 100


def _unique(existing: Iterable[Activity], name: str, sid: str | None = None) -> None:
    if any(a.friendly_name.lower() == name.lower() and a.sid != sid for a in existing):
        raise BadRequest(f"An activity named {name!r} already exists in this workspace")


def add_activity(
    tx: Transaction, ws: Workspace, name: str, available: bool, now: float
) -> Activity:
    activity = records.create(tx, Activity, ws, now, friendly_name=name, available=available)
    event_rows.emit(
        tx, now, "activity.created", activity, f"Activity {name} created",
        event_rows.describe(activity),
    )  # fmt: skip
    return activity


def create_activity(
    tx: Transaction, ws: Workspace, name: str, available: bool, now: float
) -> Activity:
    existing = list(tx.group(Activity, "workspace_sid", ws.sid).values())
    if len(existing) >= MAX_ACTIVITIES:
        raise BadRequest(f"A workspace holds at most {MAX_ACTIVITIES} activities")
    _unique(existing, name)
    return add_activity(tx, ws, name, available, now)


def rename_activity(tx: Transaction, activity: Activity, name: str, now: float) -> Activity:
    _unique(
        tx.group(Activity, "workspace_sid", activity.workspace_sid).values(), name, activity.sid
    )
    activity = tx.put(touch(activity, now, friendly_name=name))
    event_rows.emit(
        tx, now, "activity.updated", activity, f"Activity {name} updated",
        event_rows.describe(activity),
    )  # fmt: skip
    return activity


def delete_activity(tx: Transaction, ws: Workspace, activity: Activity, now: float) -> None:
    """Refused (400) while it is the workspace's default or timeout activity, a worker holds
    it or a queue names it."""
    sid = activity.sid
    if sid in (ws.default_activity_sid, ws.timeout_activity_sid):
        raise BadRequest(
            f"Activity {activity.friendly_name} is the workspace's default or timeout "
            "activity; point the workspace at another activity first"
        )
    users = [w for w in tx.group(Worker, "workspace_sid", ws.sid).values() if w.activity_sid == sid]
    if users:
        raise BadRequest(
            f"Activity {activity.friendly_name} is held by {len(users)} worker(s); "
            "move them to another activity first"
        )
    queues = [
        q
        for q in tx.group(TaskQueue, "workspace_sid", ws.sid).values()
        if sid in (q.reservation_activity_sid, q.assignment_activity_sid)
    ]
    if queues:
        raise BadRequest(
            f"Activity {activity.friendly_name} is used by TaskQueue "
            f"{queues[0].friendly_name}; change the queue first"
        )
    tx.delete(activity)
    event_rows.emit(
        tx, now, "activity.deleted", activity, f"Activity {activity.friendly_name} deleted",
        event_rows.describe(activity),
    )  # fmt: skip
