"""Activities: ``/v1/Workspaces/{WorkspaceSid}/Activities[/{Sid}]``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import wire
from ..api_errors import BadRequest
from ..core import event_rows
from ..core.workspaces import add_activity
from ..models import Activity, TaskQueue, Worker, touch
from ..router import Context, Response, Routes, no_content, ok
from .common import child_of, in_workspace, list_response, workspace_of, ws_path

routes = Routes()
MAX_ACTIVITIES = 100


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


def _unique(existing: Iterable[Activity], name: str, sid: str | None = None) -> None:
    if any(a.friendly_name.lower() == name.lower() and a.sid != sid for a in existing):
        raise BadRequest(f"An activity named {name!r} already exists in this workspace")


@routes.post("/v1/Workspaces/{WorkspaceSid}/Activities")
def create_activity(ctx: Context, WorkspaceSid: str) -> Response:
    name = ctx.params.name(required=True)
    assert name is not None
    available = ctx.params.boolean("Available")
    now = ctx.now()
    with ctx.transaction() as tx:
        ws = workspace_of(ctx, WorkspaceSid, tx)
        existing: list[Activity] = list(tx.group(Activity, "workspace_sid", ws.sid).values())
        if len(existing) >= MAX_ACTIVITIES:
            raise BadRequest(f"A workspace holds at most {MAX_ACTIVITIES} activities")
        _unique(existing, name)
        activity = add_activity(tx, ws, name, bool(available), now)
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
            _unique(tx.group(Activity, "workspace_sid", WorkspaceSid).values(), name, Sid)
            activity = tx.put(touch(activity, now, friendly_name=name))
            event_rows.emit(
                tx,
                now,
                "activity.updated",
                activity,
                f"Activity {name} updated",
                event_rows.describe(activity),
            )
        return ok(render(activity))


@routes.delete("/v1/Workspaces/{WorkspaceSid}/Activities/{Sid}")
def delete_activity(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    now = ctx.now()
    with ctx.transaction() as tx:
        activity = child_of(ctx, Activity, WorkspaceSid, Sid, tx)
        ws = workspace_of(ctx, WorkspaceSid, tx)
        if Sid in (ws.default_activity_sid, ws.timeout_activity_sid):
            raise BadRequest(
                f"Activity {activity.friendly_name} is the workspace's default or timeout "
                "activity; point the workspace at another activity first"
            )
        users = [
            w
            for w in tx.group(Worker, "workspace_sid", WorkspaceSid).values()
            if w.activity_sid == Sid
        ]
        if users:
            raise BadRequest(
                f"Activity {activity.friendly_name} is held by {len(users)} worker(s); "
                "move them to another activity first"
            )
        queues = [
            q
            for q in tx.group(TaskQueue, "workspace_sid", WorkspaceSid).values()
            if Sid in (q.reservation_activity_sid, q.assignment_activity_sid)
        ]
        if queues:
            raise BadRequest(
                f"Activity {activity.friendly_name} is used by TaskQueue "
                f"{queues[0].friendly_name}; change the queue first"
            )
        tx.delete(activity)
        event_rows.emit(
            tx,
            now,
            "activity.deleted",
            activity,
            f"Activity {activity.friendly_name} deleted",
            event_rows.describe(activity),
        )
    return no_content()
