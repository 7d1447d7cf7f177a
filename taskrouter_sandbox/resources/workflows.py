"""Workflows: ``/v1/Workspaces/{WorkspaceSid}/Workflows[/{Sid}]``."""

from __future__ import annotations

from typing import Any

from .. import wire
from ..core import workflows
from ..models import Workflow
from ..router import Context, Response, Routes, no_content, ok
from ..urls import check_callback_url
from ..workflow_config import RoutingConfig, parse_configuration
from .common import child_of, in_workspace, list_response, workspace_of, ws_path

routes = Routes()
MAX_RESERVATION_TIMEOUT = 86_400


def render(flow: Workflow) -> dict[str, Any]:
    path = f"{ws_path(flow.workspace_sid)}/Workflows/{flow.sid}"
    return {
        "account_sid": flow.account_sid,
        "assignment_callback_url": flow.assignment_callback_url,
        "configuration": flow.configuration,
        "date_created": wire.iso(flow.date_created),
        "date_updated": wire.iso(flow.date_updated),
        "document_content_type": "application/json",
        "fallback_assignment_callback_url": flow.fallback_assignment_callback_url,
        "friendly_name": flow.friendly_name,
        "sid": flow.sid,
        "task_reservation_timeout": flow.task_reservation_timeout,
        "workspace_sid": flow.workspace_sid,
        "url": wire.url(path),
        "links": wire.links(
            path,
            statistics="Statistics",
            real_time_statistics="RealTimeStatistics",
            cumulative_statistics="CumulativeStatistics",
        ),
    }


def _callback_url(ctx: Context, param: str) -> str | None:
    return check_callback_url(ctx.params.text(param), param)


def _settings(ctx: Context) -> tuple[dict[str, Any], RoutingConfig | None]:
    """The request's settings, validated *before* the state lock is taken: parsing a ~1 MB
    Configuration takes a second or two, and all accounts share the lock (issue 19, defect 5).
    What needs the store (do its queues exist?) is :func:`_check_in`'s, under the lock."""
    p = ctx.params
    out: dict[str, Any] = {}
    name = p.name()
    if name is not None:
        out["friendly_name"] = name
    configuration = p.text("Configuration")
    parsed = None
    if configuration is not None:
        parsed = parse_configuration(configuration, lambda sid: True)
        out["configuration"] = configuration
    for param, attr in (
        ("AssignmentCallbackUrl", "assignment_callback_url"),
        ("FallbackAssignmentCallbackUrl", "fallback_assignment_callback_url"),
    ):
        if param in p:
            out[attr] = _callback_url(ctx, param) or None
    timeout = p.integer("TaskReservationTimeout", low=1, high=MAX_RESERVATION_TIMEOUT)
    if timeout is not None:
        out["task_reservation_timeout"] = timeout
    return out, parsed


@routes.post("/v1/Workspaces/{WorkspaceSid}/Workflows")
def create_workflow(ctx: Context, WorkspaceSid: str) -> Response:
    ctx.params.name(required=True)
    ctx.params.text("Configuration", required=True)
    settings, parsed = _settings(ctx)
    now = ctx.now()
    with ctx.transaction() as tx:
        ws = workspace_of(ctx, WorkspaceSid, tx)
        flow = workflows.create_workflow(ctx.engine, tx, ws, now, settings, parsed)
        return ok(render(flow), 201)


@routes.get("/v1/Workspaces/{WorkspaceSid}/Workflows")
def list_workflows(ctx: Context, WorkspaceSid: str) -> Response:
    workspace_of(ctx, WorkspaceSid)
    name = ctx.query.text("FriendlyName")
    records = [
        f
        for f in in_workspace(ctx, Workflow, WorkspaceSid)
        if name is None or f.friendly_name == name
    ]
    return list_response(ctx, "workflows", f"{ws_path(WorkspaceSid)}/Workflows", records, render)


@routes.get("/v1/Workspaces/{WorkspaceSid}/Workflows/{Sid}")
def fetch_workflow(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    return ok(render(child_of(ctx, Workflow, WorkspaceSid, Sid)))


@routes.post("/v1/Workspaces/{WorkspaceSid}/Workflows/{Sid}")
def update_workflow(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    re_evaluate = ctx.params.boolean("ReEvaluateTasks")
    settings, parsed = _settings(ctx)
    now = ctx.now()
    with ctx.transaction() as tx:
        flow = child_of(ctx, Workflow, WorkspaceSid, Sid, tx)
        flow = workflows.update_workflow(
            ctx.engine, tx, flow, now, settings, parsed, bool(re_evaluate)
        )
        return ok(render(flow))


@routes.delete("/v1/Workspaces/{WorkspaceSid}/Workflows/{Sid}")
def delete_workflow(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    now = ctx.now()
    with ctx.transaction() as tx:
        flow = child_of(ctx, Workflow, WorkspaceSid, Sid, tx)
        workflows.delete_workflow(tx, flow, now)
    return no_content()
