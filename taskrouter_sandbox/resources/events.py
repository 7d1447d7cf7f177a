"""The Events resource: ``/v1/Workspaces/{WorkspaceSid}/Events[/{Sid}]`` (read only)."""

from __future__ import annotations

import json
from typing import Any

from .. import wire
from ..api_errors import NotFound
from ..router import Context, Response, Routes, ok
from .common import workspace_of, ws_path

routes = Routes()
DEFAULT_MINUTES = 15
FILTERS = {
    "EventType": "event_type",
    "ReservationSid": "reservation_sid",
    "TaskQueueSid": "task_queue_sid",
    "TaskSid": "task_sid",
    "WorkerSid": "worker_sid",
    "WorkflowSid": "workflow_sid",
    "TaskChannel": "task_channel",
    "Sid": "sid",
}


@routes.get("/v1/Workspaces/{WorkspaceSid}/Events")
def list_events(ctx: Context, WorkspaceSid: str) -> Response:
    workspace_of(ctx, WorkspaceSid)
    now = ctx.now()
    start = ctx.query.date("StartDate", day_only=True)
    end = ctx.query.date("EndDate", day_only=True)
    minutes = ctx.query.integer("Minutes", low=1, high=43_200)
    if start is None:
        start = (end or now) - 60 * (minutes or DEFAULT_MINUTES)
    where = ["workspace_sid = ?", "event_date >= ?"]
    params: list[Any] = [WorkspaceSid, start]
    if end is not None:
        where.append("event_date <= ?")
        params.append(end)
    for param, column in FILTERS.items():
        value = ctx.query.text(param)
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    # One page (and one row more, to know whether a next page exists) read in SQL: decoding
    # every matching event for each page made reading a day's events quadratic. The stored
    # rows are the events' JSON already: spliced into the page as they are, not decoded and
    # encoded again (a day's events are tens of thousands).
    size, offset = ctx.query.paging()
    rows = ctx.store.query_event_texts(" AND ".join(where), params, limit=size + 1, offset=offset)
    page = wire.page("events", f"{ws_path(WorkspaceSid)}/Events", [],
                     offset + len(rows), size, offset, ctx.request.query)  # fmt: skip
    body = f'{{"events": [{",".join(rows[:size])}], "meta": {json.dumps(page["meta"])}}}'
    return Response(200, body.encode())


@routes.get("/v1/Workspaces/{WorkspaceSid}/Events/{Sid}")
def fetch_event(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    workspace_of(ctx, WorkspaceSid)
    rows = ctx.store.query_events("workspace_sid = ? AND sid = ?", (WorkspaceSid, Sid))
    if not rows:
        raise NotFound(f"/v1{ws_path(WorkspaceSid)}/Events/{Sid}")
    return ok(rows[0])
