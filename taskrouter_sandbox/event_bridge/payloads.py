"""Records in the shapes the JS SDK reads from the event bridge.

The bridge's JSON is the REST resource's with three differences the SDK's descriptors rely on
(``lib/descriptors/*.js`` in twilio-taskrouter 2.1.1): dates are epoch **seconds** (the SDK
multiplies by 1000), every record carries its ``version``, and a reservation embeds its whole
task (``ReservationDescriptor`` requires ``task``, ``reservation_timeout``, ``version``; the
task needs ``queue_name``/``queue_sid``/``workflow_name`` besides the REST fields).
"""

from __future__ import annotations

from typing import Any

from ..models import Activity, Reservation, Task, Worker, WorkerChannel, Workflow
from ..resources import activities, tasks, workers

DATE_FIELDS = ("date_created", "date_updated")


def _epochs(payload: dict[str, Any], record: Any, *extra: str) -> dict[str, Any]:
    for name in (*DATE_FIELDS, *extra):
        value = getattr(record, name, None)
        payload[name] = None if value is None else int(value)
    payload.pop("url", None)
    payload.pop("links", None)
    return payload


def worker(record: Worker, store: Any) -> dict[str, Any]:
    payload = _epochs(workers.render(record, store), record, "date_status_changed")
    payload["version"] = str(record.version)
    return payload


def activity(record: Activity) -> dict[str, Any]:
    return _epochs(activities.render(record), record)


def channel(record: WorkerChannel, store: Any) -> dict[str, Any]:
    payload = _epochs(workers.render_channel(record, store), record)
    payload["last_reserved_time"] = _last_reserved_ms(record, store)
    return payload


def task(record: Task, store: Any, now: float) -> dict[str, Any]:
    payload = _epochs(tasks.render(record, store, now), record, "virtual_start_time")
    payload["queue_sid"] = payload["task_queue_sid"]
    payload["queue_name"] = payload["task_queue_friendly_name"]
    payload["workflow_name"] = payload["workflow_friendly_name"]
    payload["version"] = str(record.version)
    return payload


def reservation(record: Reservation, store: Any, now: float) -> dict[str, Any]:
    """The reservation with its task, as in ``reservation.*`` events and the v2 list."""
    held = store.get(record.task_sid, Task)
    holder = store.get(record.worker_sid, Worker)
    return {
        "account_sid": record.account_sid,
        "date_created": int(record.date_created),
        "date_updated": int(record.date_updated),
        "reservation_status": record.reservation_status,
        "reservation_timeout": _timeout(record, store, now),
        "sid": record.sid,
        "task_sid": record.task_sid,
        "task": task(held, store, now) if isinstance(held, Task) else None,
        "worker_name": holder.friendly_name if isinstance(holder, Worker) else None,
        "worker_sid": record.worker_sid,
        "workspace_sid": record.workspace_sid,
        "version": str(record.version),
    }


def _timeout(record: Reservation, store: Any, now: float) -> int:
    """Seconds the worker has left to answer (the workflow's timeout before it is pending)."""
    if record.timeout_at is not None and record.reservation_status == "pending":
        return max(int(record.timeout_at - now), 0)
    flow = store.get(record.workflow_sid or "", Workflow)
    return flow.task_reservation_timeout if isinstance(flow, Workflow) else 120


def _last_reserved_ms(record: WorkerChannel, store: Any) -> int | None:
    """When the worker last got a reservation on this channel (ms), or None."""
    latest = None
    for held in store.group(Reservation, "worker_sid", record.worker_sid).values():
        owner = store.get(held.task_sid, Task)
        if isinstance(owner, Task) and owner.task_channel_sid == record.task_channel_sid:
            latest = max(latest or 0.0, held.date_created)
    return None if latest is None else int(latest * 1000)
