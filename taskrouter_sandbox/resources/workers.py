"""Workers (``/Workers[/{Sid}]``) and their channels (``/Workers/{WorkerSid}/Channels``)."""

from __future__ import annotations

from typing import Any

from .. import wire
from ..api_errors import BadRequest, NotFound
from ..core import event_rows, workers
from ..core.routing import channel_load, in_queue, worker_document
from ..expressions import Expression, ExpressionError, parse
from ..models import Activity, Reservation, TaskChannel, TaskQueue, Worker, WorkerChannel, touch
from ..router import Context, Response, Routes, no_content, ok
from ..store import Transaction
from .common import (
    check_activity,
    check_if_match,
    child_of,
    in_workspace,
    list_response,
    workspace_of,
    ws_path,
)

routes = Routes()
MAX_CAPACITY = 50


def render(worker: Worker, store: Any) -> dict[str, Any]:
    path = f"{ws_path(worker.workspace_sid)}/Workers/{worker.sid}"
    activity = store.get(worker.activity_sid)
    return {
        "account_sid": worker.account_sid,
        "activity_name": activity.friendly_name if activity else None,
        "activity_sid": worker.activity_sid,
        "attributes": worker.attributes,
        "available": bool(activity and activity.available),
        "date_created": wire.iso(worker.date_created),
        "date_status_changed": wire.iso(worker.date_status_changed),
        "date_updated": wire.iso(worker.date_updated),
        "friendly_name": worker.friendly_name,
        "sid": worker.sid,
        "workspace_sid": worker.workspace_sid,
        "url": wire.url(path),
        "links": wire.links(
            path,
            channels="Channels",
            activity=f"{ws_path(worker.workspace_sid)}/Activities/{worker.activity_sid}",
            workspace=ws_path(worker.workspace_sid),
            statistics="Statistics",
            real_time_statistics="RealTimeStatistics",
            cumulative_statistics="CumulativeStatistics",
            worker_statistics="Statistics",
            worker_channels="Channels",
            reservations="Reservations",
        ),
    }


def expression_document(worker: Worker, store: Any) -> dict[str, Any]:
    activity = store.get(worker.activity_sid)
    return worker_document(worker, getattr(activity, "friendly_name", None))


@routes.post("/v1/Workspaces/{WorkspaceSid}/Workers")
def create_worker(ctx: Context, WorkspaceSid: str) -> Response:
    p = ctx.params
    name = p.name(required=True)
    assert name is not None
    attributes = p.json_object("Attributes") or "{}"
    activity_ref = p.text("ActivitySid")
    now = ctx.now()
    with ctx.transaction() as tx:
        ws = workspace_of(ctx, WorkspaceSid, tx)
        activity_sid = activity_ref or ws.default_activity_sid or ""
        check_activity(tx, ws.sid, activity_sid, "ActivitySid")
        worker = workers.create_worker(
            ctx.engine, tx, ws, now, friendly_name=name, attributes=attributes,
            activity_sid=activity_sid,
        )  # fmt: skip
        return ok(render(worker, tx), 201, etag=worker.version)


@routes.get("/v1/Workspaces/{WorkspaceSid}/Workers")
def list_workers(ctx: Context, WorkspaceSid: str) -> Response:
    workspace_of(ctx, WorkspaceSid)
    q = ctx.query
    store = ctx.store
    records = in_workspace(ctx, Worker, WorkspaceSid)
    activity_name, activity_sid = q.text("ActivityName"), q.text("ActivitySid")
    available, name = q.boolean("Available"), q.text("FriendlyName")
    expression = _expression(q.text("TargetWorkersExpression"), "TargetWorkersExpression")
    queue = _queue_filter(ctx, WorkspaceSid)

    def keep(worker: Worker) -> bool:
        activity = store.get(worker.activity_sid, Activity)
        return (
            (activity_sid is None or worker.activity_sid == activity_sid)
            and (
                activity_name is None
                or (activity is not None and activity.friendly_name == activity_name)
            )
            and (available is None or bool(activity and activity.available) == available)
            and (name is None or worker.friendly_name == name)
            and (expression is None or expression.evaluate(expression_document(worker, store)))
            and (queue is None or in_queue(store, worker, queue))
        )

    records = [w for w in records if keep(w)]
    ordering = q.text("Ordering")
    if ordering:
        records = _order(records, ordering)
    path = f"{ws_path(WorkspaceSid)}/Workers"
    return list_response(ctx, "workers", path, records, lambda w: render(w, store))


def _expression(text: str | None, param: str) -> Expression | None:
    if text is None:
        return None
    try:
        return parse(text)
    except ExpressionError as error:
        raise BadRequest(f"{param} is invalid: {error}") from None


def _queue_filter(ctx: Context, workspace_sid: str) -> TaskQueue | None:
    sid, name = ctx.query.text("TaskQueueSid"), ctx.query.text("TaskQueueName")
    if sid is None and name is None:
        return None
    for queue in in_workspace(ctx, TaskQueue, workspace_sid):
        if queue.sid == sid or (sid is None and queue.friendly_name == name):
            return queue
    raise BadRequest(f"TaskQueue {sid or name!r} does not exist in this workspace")


def _order(records: list[Worker], ordering: str) -> list[Worker]:
    for part in reversed(ordering.split(",")):
        field_name, _, direction = part.strip().partition(":")
        key = {
            "DateCreated": "date_created",
            "DateStatusChanged": "date_status_changed",
            "FriendlyName": "friendly_name",
        }.get(field_name)
        if key is None or direction.lower() not in ("", "asc", "desc"):
            raise BadRequest(f"Ordering {part!r} is not supported; use e.g. DateCreated:asc")
        records = sorted(
            records, key=lambda w: getattr(w, key), reverse=direction.lower() == "desc"
        )
    return records


@routes.get("/v1/Workspaces/{WorkspaceSid}/Workers/{Sid}")
def fetch_worker(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    worker = child_of(ctx, Worker, WorkspaceSid, Sid)
    return ok(render(worker, ctx.store), etag=worker.version)


@routes.post("/v1/Workspaces/{WorkspaceSid}/Workers/{Sid}")
def update_worker(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    p = ctx.params
    name = p.name()
    attributes = p.json_object("Attributes")
    activity_sid = p.text("ActivitySid")
    reject_pending = p.boolean("RejectPendingReservations")
    now = ctx.now()
    with ctx.transaction() as tx:
        worker = child_of(ctx, Worker, WorkspaceSid, Sid, tx)
        check_if_match(ctx, worker)
        changes: dict[str, Any] = {}
        if name is not None:
            workers.check_unique_name(tx, WorkspaceSid, name, Sid)
            changes["friendly_name"] = name
        if attributes is not None:
            changes["attributes"] = attributes
        previous: Activity | None = None
        if activity_sid is not None:
            check_activity(tx, WorkspaceSid, activity_sid, "ActivitySid")
            if activity_sid != worker.activity_sid:
                previous = tx.get(worker.activity_sid, Activity)
                changes.update(activity_sid=activity_sid, date_status_changed=now)
        old = worker
        worker = tx.put(touch(worker, now, **changes))
        if previous is not None:
            spent = now - old.date_status_changed
            event_rows.emit(
                tx,
                now,
                "worker.activity.update",
                worker,
                f"Worker {worker.friendly_name} updated to "
                f"{getattr(tx.get(worker.activity_sid), 'friendly_name', None)} Activity",
                {
                    **event_rows.worker_fields(tx, worker),
                    "worker_previous_activity_sid": previous.sid,
                    "worker_previous_activity_name": previous.friendly_name,
                    "worker_time_in_previous_activity": int(spent),
                    "worker_time_in_previous_activity_ms": int(spent * 1000),
                },
            )
        if attributes is not None:
            event_rows.emit(
                tx,
                now,
                "worker.attributes.update",
                worker,
                f"Worker {worker.friendly_name} attributes updated",
                event_rows.worker_fields(tx, worker),
            )
        if reject_pending and previous is not None:
            ctx.engine.reject_pending(tx, worker, now)
        if previous is not None or attributes is not None:
            ctx.engine.worker_changed(tx, worker, now)
        changed = tx.get(Sid, Worker)  # the engine may have reserved (and moved) the worker
        assert changed is not None
        return ok(render(changed, tx), etag=changed.version)


@routes.delete("/v1/Workspaces/{WorkspaceSid}/Workers/{Sid}")
def delete_worker(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    now = ctx.now()
    with ctx.transaction() as tx:
        worker = child_of(ctx, Worker, WorkspaceSid, Sid, tx)
        check_if_match(ctx, worker)
        busy = [
            r
            for r in tx.group(Reservation, "worker_sid", Sid).values()
            if r.reservation_status in ("pending", "accepted")
        ]
        if busy:
            raise BadRequest(
                f"Worker {worker.friendly_name} holds {len(busy)} pending or accepted "
                "reservation(s); complete, reject or cancel them before deleting the worker"
            )
        for channel in tx.group(WorkerChannel, "worker_sid", Sid).values():
            tx.delete(channel)
        for reservation in tx.group(Reservation, "worker_sid", Sid).values():
            tx.delete(reservation)
        tx.delete(worker)
        event_rows.emit(
            tx,
            now,
            "worker.deleted",
            worker,
            f"Worker {worker.friendly_name} deleted",
            event_rows.worker_fields(tx, worker),
        )
    return no_content()


# -- WorkerChannels -----------------------------------------------------------------------


def assigned_tasks(store: Any, channel: WorkerChannel) -> int:
    """Tasks of this channel the worker holds, *reserved ones included*: TaskRouter "will not
    create any reservations after the assigned Tasks for the Worker reaches" the configured
    capacity and sends reservations "until the configured Task Channel capacity is reached"
    (https://www.twilio.com/docs/taskrouter/api/worker-channel), so a pending reservation takes
    a slot. Counted by routing's own function, so ``available_capacity_percentage`` is 0
    exactly when routing treats the channel as full."""
    return channel_load(store, channel.worker_sid).get(channel.task_channel_sid, 0)


def render_channel(channel: WorkerChannel, store: Any) -> dict[str, Any]:
    task_channel = store.get(channel.task_channel_sid)
    assigned = assigned_tasks(store, channel)
    capacity = channel.configured_capacity
    free = max(capacity - assigned, 0)
    return {
        "account_sid": channel.account_sid,
        "assigned_tasks": assigned,
        "available": channel.available,
        "available_capacity_percentage": (free * 100 // capacity) if capacity else 0,
        "configured_capacity": capacity,
        "date_created": wire.iso(channel.date_created),
        "date_updated": wire.iso(channel.date_updated),
        "sid": channel.sid,
        "task_channel_sid": channel.task_channel_sid,
        "task_channel_unique_name": task_channel.unique_name if task_channel else None,
        "worker_sid": channel.worker_sid,
        "workspace_sid": channel.workspace_sid,
        "url": wire.url(
            f"{ws_path(channel.workspace_sid)}/Workers/{channel.worker_sid}/Channels/{channel.sid}"
        ),
    }


def _channel(
    ctx: Context, workspace_sid: str, worker_sid: str, ref: str, tx: Transaction | None = None
) -> WorkerChannel:
    """A worker's channel by its WC sid, its TaskChannel sid or the channel's unique name."""
    child_of(ctx, Worker, workspace_sid, worker_sid, tx)
    source = tx or ctx.store
    for channel in source.group(WorkerChannel, "worker_sid", worker_sid).values():
        task_channel = source.get(channel.task_channel_sid, TaskChannel)
        if ref in (channel.sid, channel.task_channel_sid) or (
            task_channel is not None and task_channel.unique_name == ref
        ):
            return channel
    raise NotFound(f"/v1{ws_path(workspace_sid)}/Workers/{worker_sid}/Channels/{ref}")


@routes.get("/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Channels")
def list_worker_channels(ctx: Context, WorkspaceSid: str, WorkerSid: str) -> Response:
    child_of(ctx, Worker, WorkspaceSid, WorkerSid)
    records = ctx.store.group(WorkerChannel, "worker_sid", WorkerSid).values()
    path = f"{ws_path(WorkspaceSid)}/Workers/{WorkerSid}/Channels"
    return list_response(ctx, "channels", path, records, lambda c: render_channel(c, ctx.store))


@routes.get("/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Channels/{Sid}")
def fetch_worker_channel(ctx: Context, WorkspaceSid: str, WorkerSid: str, Sid: str) -> Response:
    return ok(render_channel(_channel(ctx, WorkspaceSid, WorkerSid, Sid), ctx.store))


@routes.post("/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Channels/{Sid}")
def update_worker_channel(ctx: Context, WorkspaceSid: str, WorkerSid: str, Sid: str) -> Response:
    capacity = ctx.params.integer("Capacity", low=0, high=MAX_CAPACITY)
    available = ctx.params.boolean("Available")
    now = ctx.now()
    with ctx.transaction() as tx:
        channel = _channel(ctx, WorkspaceSid, WorkerSid, Sid, tx)
        changes: dict[str, Any] = {}
        if capacity is not None:
            changes["configured_capacity"] = capacity
        if available is not None:
            changes["available"] = available
        before = channel
        channel = tx.put(touch(channel, now, **changes))
        worker = tx.get(WorkerSid, Worker)
        assert worker is not None  # _channel found it in this transaction
        data = {
            **event_rows.worker_fields(tx, worker),
            "task_channel_sid": channel.task_channel_sid,
            "task_channel_unique_name": getattr(
                tx.get(channel.task_channel_sid), "unique_name", None
            ),
            "worker_channel_task_count": assigned_tasks(tx, channel),
            "worker_channel_available": channel.available,
            "worker_channel_available_capacity": channel.configured_capacity,
            "worker_channel_previous_capacity": before.configured_capacity,
        }
        if capacity is not None and capacity != before.configured_capacity:
            event_rows.emit(
                tx,
                now,
                "worker.capacity.update",
                worker,
                f"Worker {worker.friendly_name} capacity updated",
                data,
            )
        if available is not None and available != before.available:
            event_rows.emit(
                tx,
                now,
                "worker.channel.availability.update",
                worker,
                f"Worker {worker.friendly_name} channel availability updated",
                data,
            )
        more_room = channel.configured_capacity > before.configured_capacity
        if channel.available and (more_room or not before.available):
            ctx.engine.worker_changed(tx, worker, now)  # room again
        return ok(render_channel(_channel(ctx, WorkspaceSid, WorkerSid, Sid, tx), tx))
