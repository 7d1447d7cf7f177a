"""TaskQueues: ``/v1/Workspaces/{WorkspaceSid}/TaskQueues[/{Sid}]``."""

from __future__ import annotations

from typing import Any

from .. import wire
from ..api_errors import BadRequest
from ..core import queues
from ..core.routing import in_queue
from ..expressions import ExpressionError, parse
from ..models import TaskQueue, Worker
from ..router import Context, Response, Routes, no_content, ok
from .common import (
    child_of,
    in_workspace,
    list_response,
    workspace_of,
    ws_path,
)

routes = Routes()
MAX_RESERVED_WORKERS = 50
TARGET_WORKERS_MAX = 4096


def render(queue: TaskQueue, store: Any) -> dict[str, Any]:
    path = f"{ws_path(queue.workspace_sid)}/TaskQueues/{queue.sid}"
    reservation = (
        store.get(queue.reservation_activity_sid) if queue.reservation_activity_sid else None
    )
    assignment = store.get(queue.assignment_activity_sid) if queue.assignment_activity_sid else None
    activities = f"{ws_path(queue.workspace_sid)}/Activities"
    return {
        "account_sid": queue.account_sid,
        "assignment_activity_sid": queue.assignment_activity_sid,
        "assignment_activity_name": assignment.friendly_name if assignment else None,
        "date_created": wire.iso(queue.date_created),
        "date_updated": wire.iso(queue.date_updated),
        "friendly_name": queue.friendly_name,
        "max_reserved_workers": queue.max_reserved_workers,
        "reservation_activity_sid": queue.reservation_activity_sid,
        "reservation_activity_name": reservation.friendly_name if reservation else None,
        "sid": queue.sid,
        "target_workers": queue.target_workers,
        "task_order": queue.task_order,
        "url": wire.url(path),
        "workspace_sid": queue.workspace_sid,
        "links": wire.links(
            path,
            assignment_activity=f"{activities}/{queue.assignment_activity_sid}",
            reservation_activity=f"{activities}/{queue.reservation_activity_sid}",
            workspace=ws_path(queue.workspace_sid),
            statistics="Statistics",
            real_time_statistics="RealTimeStatistics",
            cumulative_statistics="CumulativeStatistics",
            list_statistics=f"{ws_path(queue.workspace_sid)}/TaskQueues/Statistics",
            bulk_real_time_statistics=f"{ws_path(queue.workspace_sid)}/TaskQueues/RealTimeStatistics",
        ),
    }


def _settings(ctx: Context) -> dict[str, Any]:
    """The parameters given, parsed; the core checks them against the workspace."""
    p = ctx.params
    out: dict[str, Any] = {}
    name = p.name()
    if name is not None:
        out["friendly_name"] = name
    target = p.text("TargetWorkers", max_len=TARGET_WORKERS_MAX)
    if target is not None:
        try:
            parse(target)
        except ExpressionError as error:
            raise BadRequest(f"TargetWorkers is invalid: {error}") from None
        out["target_workers"] = target
    reserved = p.integer("MaxReservedWorkers", low=1, high=MAX_RESERVED_WORKERS)
    if reserved is not None:
        out["max_reserved_workers"] = reserved
    order = p.enum("TaskOrder", ("FIFO", "LIFO"))
    if order is not None:
        out["task_order"] = order
    for param, attr in (
        ("ReservationActivitySid", "reservation_activity_sid"),
        ("AssignmentActivitySid", "assignment_activity_sid"),
    ):
        sid = p.text(param)
        if sid is not None:
            out[attr] = sid
    return out


@routes.post("/v1/Workspaces/{WorkspaceSid}/TaskQueues")
def create_task_queue(ctx: Context, WorkspaceSid: str) -> Response:
    ctx.params.name(required=True)
    now = ctx.now()
    with ctx.transaction() as tx:
        ws = workspace_of(ctx, WorkspaceSid, tx)
        queue = queues.create_queue(tx, ws, now, _settings(ctx))
        return ok(render(queue, tx), 201)


@routes.get("/v1/Workspaces/{WorkspaceSid}/TaskQueues")
def list_task_queues(ctx: Context, WorkspaceSid: str) -> Response:
    workspace_of(ctx, WorkspaceSid)
    q = ctx.query
    store = ctx.store
    records = in_workspace(ctx, TaskQueue, WorkspaceSid)
    name = q.text("FriendlyName")
    if name is not None:
        records = [r for r in records if r.friendly_name == name]
    worker_sid = q.text("WorkerSid")
    if worker_sid is not None:
        worker = store.get(worker_sid, Worker)
        if worker is None or worker.workspace_sid != WorkspaceSid:
            raise BadRequest(f"WorkerSid {worker_sid!r} is not a worker of this workspace")
        records = [r for r in records if in_queue(store, worker, r)]
    evaluate = q.json_object("EvaluateWorkerAttributes")
    if evaluate is not None:
        probe = Worker(sid="", account_sid="", date_created=0, date_updated=0, attributes=evaluate)
        records = [r for r in records if in_queue(store, probe, r)]
    ordering = q.text("Ordering")
    if ordering:
        field_name, _, direction = ordering.partition(":")
        key = {"DateCreated": "date_created", "FriendlyName": "friendly_name"}.get(field_name)
        if key is None or direction.lower() not in ("", "asc", "desc"):
            raise BadRequest(f"Ordering {ordering!r} is not supported; use e.g. DateCreated:asc")
        records.sort(key=lambda r: getattr(r, key), reverse=direction.lower() == "desc")
    path = f"{ws_path(WorkspaceSid)}/TaskQueues"
    return list_response(ctx, "task_queues", path, records, lambda r: render(r, store))


@routes.get("/v1/Workspaces/{WorkspaceSid}/TaskQueues/{Sid}")
def fetch_task_queue(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    return ok(render(child_of(ctx, TaskQueue, WorkspaceSid, Sid), ctx.store))


@routes.post("/v1/Workspaces/{WorkspaceSid}/TaskQueues/{Sid}")
def update_task_queue(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    now = ctx.now()
    with ctx.transaction() as tx:
        queue = child_of(ctx, TaskQueue, WorkspaceSid, Sid, tx)
        queue = queues.update_queue(ctx.engine, tx, queue, now, _settings(ctx))
        return ok(render(queue, tx))


@routes.delete("/v1/Workspaces/{WorkspaceSid}/TaskQueues/{Sid}")
def delete_task_queue(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    now = ctx.now()
    with ctx.transaction() as tx:
        queue = child_of(ctx, TaskQueue, WorkspaceSid, Sid, tx)
        queues.delete_queue(tx, queue, now)
    return no_content()
