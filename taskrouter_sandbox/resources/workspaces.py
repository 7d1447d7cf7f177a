"""Workspaces: ``/v1/Workspaces`` and ``/v1/Workspaces/{Sid}``: parse, call
:mod:`..core.workspaces` (what a new workspace gets, what deleting one removes), render."""

from __future__ import annotations

from typing import Any

from .. import wire
from ..core import workspaces
from ..core.records import check_activity
from ..models import Activity, Workspace
from ..router import Context, Response, Routes, no_content, ok
from ..store import Store, Transaction
from ..urls import check_callback_url
from .common import list_response, workspace_of, ws_path

routes = Routes()
EVENTS_FILTER_MAX = 4096


def render(ws: Workspace, store: Store | Transaction) -> dict[str, Any]:
    path = ws_path(ws.sid)
    default = store.get(ws.default_activity_sid, Activity) if ws.default_activity_sid else None
    timeout = store.get(ws.timeout_activity_sid, Activity) if ws.timeout_activity_sid else None
    return {
        "account_sid": ws.account_sid,
        "date_created": wire.iso(ws.date_created),
        "date_updated": wire.iso(ws.date_updated),
        "default_activity_name": default.friendly_name if default else None,
        "default_activity_sid": ws.default_activity_sid,
        "event_callback_url": ws.event_callback_url,
        "events_filter": ws.events_filter,
        "friendly_name": ws.friendly_name,
        "multi_task_enabled": ws.multi_task_enabled,
        "sid": ws.sid,
        "timeout_activity_name": timeout.friendly_name if timeout else None,
        "timeout_activity_sid": ws.timeout_activity_sid,
        "prioritize_queue_order": ws.prioritize_queue_order,
        "url": wire.url(path),
        "links": wire.links(
            path,
            activities="Activities",
            statistics="Statistics",
            real_time_statistics="RealTimeStatistics",
            cumulative_statistics="CumulativeStatistics",
            task_queues="TaskQueues",
            tasks="Tasks",
            workers="Workers",
            workflows="Workflows",
            task_channels="TaskChannels",
            events="Events",
        ),
    }


def _events_filter(ctx: Context) -> str | None:
    return workspaces.events_filter(ctx.params.text("EventsFilter", max_len=EVENTS_FILTER_MAX))


@routes.post("/v1/Workspaces")
def create_workspace(ctx: Context) -> Response:
    p = ctx.params
    name = p.name(required=True)
    assert name is not None
    template = p.enum("Template", ("NONE", "FIFO"), fold=True) or "NONE"
    multi = p.boolean("MultiTaskEnabled")
    order = p.enum("PrioritizeQueueOrder", ("FIFO", "LIFO")) or "FIFO"
    callback = check_callback_url(p.text("EventCallbackUrl"), "EventCallbackUrl") or None
    options: dict[str, Any] = {
        "friendly_name": name,
        "template": template,
        "multi_task_enabled": True if multi is None else multi,
        "prioritize_queue_order": order,
        "event_callback_url": callback,
        "events_filter": _events_filter(ctx),
    }
    with ctx.transaction() as tx:
        ws = workspaces.create_workspace(tx, ctx.request.account_sid, ctx.now(), **options)
        return ok(render(ws, tx), 201)


@routes.get("/v1/Workspaces")
def list_workspaces(ctx: Context) -> Response:
    name = ctx.query.text("FriendlyName")
    records = list(ctx.store.group(Workspace, "account_sid", ctx.request.account_sid).values())
    if name is not None:
        records = [w for w in records if w.friendly_name == name]
    return list_response(ctx, "workspaces", "/Workspaces", records, lambda w: render(w, ctx.store))


@routes.get("/v1/Workspaces/{Sid}")
def fetch_workspace(ctx: Context, Sid: str) -> Response:
    return ok(render(workspace_of(ctx, Sid), ctx.store))


@routes.post("/v1/Workspaces/{Sid}")
def update_workspace(ctx: Context, Sid: str) -> Response:
    p = ctx.params
    now = ctx.now()
    with ctx.transaction() as tx:
        ws = workspace_of(ctx, Sid, tx)
        changes: dict[str, Any] = {}
        name = p.name()
        if name is not None:
            changes["friendly_name"] = name
        for param, attr in (
            ("DefaultActivitySid", "default_activity_sid"),
            ("TimeoutActivitySid", "timeout_activity_sid"),
        ):
            sid = p.text(param)
            if sid is not None:
                changes[attr] = check_activity(tx, ws.sid, sid, param).sid
        if "EventCallbackUrl" in p:
            url = check_callback_url(p.text("EventCallbackUrl"), "EventCallbackUrl")
            changes["event_callback_url"] = url or None
        if "EventsFilter" in p:
            changes["events_filter"] = _events_filter(ctx)
        multi = p.boolean("MultiTaskEnabled")
        if multi is not None:
            changes["multi_task_enabled"] = multi
        order = p.enum("PrioritizeQueueOrder", ("FIFO", "LIFO"))
        if order is not None:
            changes["prioritize_queue_order"] = order
        ws = workspaces.update_workspace(tx, ws, now, changes)
        return ok(render(ws, tx))


@routes.delete("/v1/Workspaces/{Sid}")
def delete_workspace(ctx: Context, Sid: str) -> Response:
    with ctx.transaction() as tx:
        workspaces.delete_workspace(tx, workspace_of(ctx, Sid, tx))
    return no_content()
