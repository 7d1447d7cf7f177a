"""TaskChannels: ``/v1/Workspaces/{WorkspaceSid}/TaskChannels[/{Sid}]``.

A channel is addressed by sid or by unique name (``voice``) wherever Twilio allows it.
"""

from __future__ import annotations

import re
from typing import Any

from .. import wire
from ..api_errors import BadRequest, NotFound
from ..core import channels
from ..core.channels import find_channel
from ..models import TaskChannel
from ..router import Context, Response, Routes, no_content, ok
from ..store import Transaction
from .common import in_workspace, list_response, workspace_of, ws_path

routes = Routes()
UNIQUE_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def render(channel: TaskChannel) -> dict[str, Any]:
    path = f"{ws_path(channel.workspace_sid)}/TaskChannels/{channel.sid}"
    return {
        "account_sid": channel.account_sid,
        "date_created": wire.iso(channel.date_created),
        "date_updated": wire.iso(channel.date_updated),
        "friendly_name": channel.friendly_name,
        "sid": channel.sid,
        "unique_name": channel.unique_name,
        "workspace_sid": channel.workspace_sid,
        "channel_optimized_routing": channel.channel_optimized_routing,
        "url": wire.url(path),
        "links": wire.links(path, workspace=ws_path(channel.workspace_sid)),
    }


def _check_names(friendly: str | None, unique: str | None) -> None:
    for label, value in (("FriendlyName", friendly), ("UniqueName", unique)):
        if value is not None and "-" in value:
            raise BadRequest(
                f"{label} {value!r} contains a hyphen; TaskRouter does not allow "
                "hyphens in channel names (use an underscore)"
            )
    if unique is not None and not UNIQUE_NAME.match(unique):
        raise BadRequest(f"UniqueName {unique!r} may only hold letters, digits and underscores")


@routes.post("/v1/Workspaces/{WorkspaceSid}/TaskChannels")
def create_task_channel(ctx: Context, WorkspaceSid: str) -> Response:
    p = ctx.params
    friendly = p.name(required=True)
    unique = p.name("UniqueName", required=True)
    assert friendly is not None and unique is not None
    _check_names(friendly, unique)
    optimized = p.boolean("ChannelOptimizedRouting")
    now = ctx.now()
    with ctx.transaction() as tx:
        ws = workspace_of(ctx, WorkspaceSid, tx)
        channel = channels.create_channel(tx, ws, friendly, unique, now, optimized)
        return ok(render(channel), 201)


@routes.get("/v1/Workspaces/{WorkspaceSid}/TaskChannels")
def list_task_channels(ctx: Context, WorkspaceSid: str) -> Response:
    workspace_of(ctx, WorkspaceSid)
    path = f"{ws_path(WorkspaceSid)}/TaskChannels"
    return list_response(
        ctx, "channels", path, in_workspace(ctx, TaskChannel, WorkspaceSid), render
    )


def _lookup(
    ctx: Context, workspace_sid: str, sid: str, tx: Transaction | None = None
) -> TaskChannel:
    workspace_of(ctx, workspace_sid, tx)
    channel = find_channel(tx or ctx.store, workspace_sid, sid)
    if channel is None:
        raise NotFound(f"/v1{ws_path(workspace_sid)}/TaskChannels/{sid}")
    return channel


@routes.get("/v1/Workspaces/{WorkspaceSid}/TaskChannels/{Sid}")
def fetch_task_channel(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    return ok(render(_lookup(ctx, WorkspaceSid, Sid)))


@routes.post("/v1/Workspaces/{WorkspaceSid}/TaskChannels/{Sid}")
def update_task_channel(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    p = ctx.params
    friendly = p.name()
    _check_names(friendly, None)
    optimized = p.boolean("ChannelOptimizedRouting")
    now = ctx.now()
    with ctx.transaction() as tx:
        channel = _lookup(ctx, WorkspaceSid, Sid, tx)
        changes: dict[str, Any] = {}
        if friendly is not None:
            changes["friendly_name"] = friendly
        if optimized is not None:
            changes["channel_optimized_routing"] = optimized
        channel = channels.update_channel(tx, channel, now, changes)
        return ok(render(channel))


@routes.delete("/v1/Workspaces/{WorkspaceSid}/TaskChannels/{Sid}")
def delete_task_channel(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    now = ctx.now()
    with ctx.transaction() as tx:
        channel = _lookup(ctx, WorkspaceSid, Sid, tx)
        channels.delete_channel(tx, channel, now)
    return no_content()
