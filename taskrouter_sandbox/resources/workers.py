"""Workers (``/Workers[/{Sid}]``) and their channels (``/Workers/{WorkerSid}/Channels``)."""

from __future__ import annotations

from typing import Any

from .. import wire
from ..api_errors import BadRequest, NotFound
from ..core import workers
from ..core.records import check_activity
from ..core.routing import in_queue, worker_document
from ..core.workers import assigned_tasks
from ..expressions import Expression, ExpressionError, parse
from ..models import Activity, TaskChannel, TaskQueue, Worker, WorkerChannel
from ..router import Context, Response, Routes, no_content, ok
from ..store import Transaction
from .common import (
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
        changed = workers.update_worker(
            ctx.engine, tx, worker, now, friendly_name=name, attributes=attributes,
            activity_sid=activity_sid, reject_pending=bool(reject_pending),
        )  # fmt: skip
        return ok(render(changed, tx), etag=changed.version)


@routes.delete("/v1/Workspaces/{WorkspaceSid}/Workers/{Sid}")
def delete_worker(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    now = ctx.now()
    with ctx.transaction() as tx:
        worker = child_of(ctx, Worker, WorkspaceSid, Sid, tx)
        check_if_match(ctx, worker)
        workers.delete_worker(tx, worker, now)
    return no_content()


# -- WorkerChannels -----------------------------------------------------------------------


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
        workers.update_channel(ctx.engine, tx, channel, now, changes)
        return ok(render_channel(_channel(ctx, WorkspaceSid, WorkerSid, Sid, tx), tx))
