"""Activities: ``/v1/Workspaces/{WorkspaceSid}/Activities[/{Sid}]``."""

from __future__ import annotations

from typing import Any

from .. import wire
from ..core import activities
from ..models import Activity
from ..router import Context, Response, Routes, no_content, ok
from .common import child_of, in_workspace, list_response, workspace_of, ws_path

routes = Routes()


def render(activity: Activity) -> dict[str, Any]:
    path = f"{ws_path(activity.workspace_sid)}/Activities/{activity.sid}"
    return {
        "account_sid": activity.account_sid,
        "available": activity.available,
        "date_created": wire.iso(activity.date_created),
        "date_updated": wire.iso(activity.date_updated),
        "friendly_name": activity.friendly_name,
        "sid": activity.sid,
        "workspace_sid": activity.workspace_sid,
        "url": wire.url(path),
        "links": wire.links(path, workspace=ws_path(activity.workspace_sid)),
    }


@routes.post("/v1/Workspaces/{WorkspaceSid}/Activities")
def create_activity(ctx: Context, WorkspaceSid: str) -> Response:
    name = ctx.params.name(required=True)
    assert name is not None
    available = ctx.params.boolean("Available")
    now = ctx.now()
    with ctx.transaction() as tx:
        ws = workspace_of(ctx, WorkspaceSid, tx)
        activity = activities.create_activity(tx, ws, name, bool(available), now)
        return ok(render(activity), 201)


@routes.get("/v1/Workspaces/{WorkspaceSid}/Activities")
def list_activities(ctx: Context, WorkspaceSid: str) -> Response:
    workspace_of(ctx, WorkspaceSid)
    q = ctx.query
    name, available = q.text("FriendlyName"), q.boolean("Available")
    records = [
        a
        for a in in_workspace(ctx, Activity, WorkspaceSid)
        if (name is None or a.friendly_name == name)
        and (available is None or a.available == available)
    ]
    path = f"{ws_path(WorkspaceSid)}/Activities"
    return list_response(ctx, "activities", path, records, render)


@routes.get("/v1/Workspaces/{WorkspaceSid}/Activities/{Sid}")
def fetch_activity(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    return ok(render(child_of(ctx, Activity, WorkspaceSid, Sid)))


@routes.post("/v1/Workspaces/{WorkspaceSid}/Activities/{Sid}")
def update_activity(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    # Only FriendlyName can change: `available` is fixed at creation, as on Twilio.
    name = ctx.params.name()
    now = ctx.now()
    with ctx.transaction() as tx:
        activity = child_of(ctx, Activity, WorkspaceSid, Sid, tx)
        if name is not None:
            activity = activities.rename_activity(tx, activity, name, now)
        return ok(render(activity))


@routes.delete("/v1/Workspaces/{WorkspaceSid}/Activities/{Sid}")
def delete_activity(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    now = ctx.now()
    with ctx.transaction() as tx:
        activity = child_of(ctx, Activity, WorkspaceSid, Sid, tx)
        activities.delete_activity(tx, workspace_of(ctx, WorkspaceSid, tx), activity, now)
    return no_content()
