"""Workspaces: ``/v1/Workspaces`` and ``/v1/Workspaces/{Sid}``.

A new workspace gets what Twilio gives one: the Offline/Available/Unavailable activities
(Offline as default and timeout activity), the standard TaskChannels, and with
``Template=FIFO`` a "Sample Queue" and a "Default Fifo Workflow" routing to it.
"""

from __future__ import annotations

import json
from typing import Any

from .. import wire
from ..core import event_rows
from ..errors import BadRequest
from ..models import (
    Activity,
    Call,
    Record,
    Reservation,
    Task,
    TaskChannel,
    TaskQueue,
    Worker,
    WorkerChannel,
    Workflow,
    Workspace,
    touch,
)
from ..router import Context, Response, Routes, no_content, ok
from ..store import Transaction
from ..urls import check_callback_url
from .common import check_activity, list_response, workspace_of, ws_path
from .workers import new_worker_channel

routes = Routes()

DEFAULT_ACTIVITIES = (("Offline", False), ("Available", True), ("Unavailable", False))
DEFAULT_CHANNELS = (
    ("Default", "default"),
    ("Voice", "voice"),
    ("SMS", "sms"),
    ("Chat", "chat"),
    ("Video", "video"),
    ("Email", "email"),
)
CHILD_KINDS: tuple[type[Record], ...] = (  # everything a workspace holds goes with it
    Call,
    Reservation,
    WorkerChannel,
    Task,
    Worker,
    Workflow,
    TaskQueue,
    TaskChannel,
    Activity,
)
EVENTS_FILTER_MAX = 4096


def render(ws: Workspace, store: Any) -> dict[str, Any]:
    path = ws_path(ws.sid)
    default = store.get(ws.default_activity_sid) if ws.default_activity_sid else None
    timeout = store.get(ws.timeout_activity_sid) if ws.timeout_activity_sid else None
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
    value = ctx.params.text("EventsFilter", max_len=EVENTS_FILTER_MAX)
    if value is None:
        return None
    types = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in types if not _is_event_type(t)]
    if unknown:
        raise BadRequest(
            f"EventsFilter has unknown event types: {', '.join(unknown)}; "
            "use comma-separated types such as task.created,reservation.accepted"
        )
    return ",".join(types)


def _is_event_type(name: str) -> bool:
    head, _, rest = name.partition(".")
    return head in {
        "activity",
        "reservation",
        "task",
        "task-channel",
        "task-queue",
        "worker",
        "workflow",
        "workspace",
    } and bool(rest)


@routes.post("/v1/Workspaces")
def create_workspace(ctx: Context) -> Response:
    p = ctx.params
    name = p.name(required=True)
    assert name is not None
    template = p.enum("Template", ("NONE", "FIFO"), fold=True) or "NONE"
    multi = p.boolean("MultiTaskEnabled")
    order = p.enum("PrioritizeQueueOrder", ("FIFO", "LIFO")) or "FIFO"
    callback = check_callback_url(p.text("EventCallbackUrl"), "EventCallbackUrl") or None
    filter_ = _events_filter(ctx)
    now = ctx.now()
    account = ctx.request.account_sid
    with ctx.transaction() as tx:
        if any(
            w.friendly_name == name for w in tx.group(Workspace, "account_sid", account).values()
        ):
            raise BadRequest(
                f"A workspace named {name!r} already exists; pick another FriendlyName"
            )
        ws = Workspace(
            sid=wire.new_sid("WS"),
            account_sid=account,
            date_created=now,
            date_updated=now,
            friendly_name=name,
            event_callback_url=callback,
            events_filter=filter_,
            multi_task_enabled=True if multi is None else multi,
            prioritize_queue_order=order,
        )
        tx.put(ws)
        event_rows.emit(tx, now, "workspace.created", ws, f"Workspace {name} created")
        activities = [add_activity(tx, ws, n, a, now) for n, a in DEFAULT_ACTIVITIES]
        for friendly, unique in DEFAULT_CHANNELS:
            add_channel(tx, ws, friendly, unique, now)
        ws = tx.put(
            touch(
                ws,
                now,
                default_activity_sid=activities[0].sid,
                timeout_activity_sid=activities[0].sid,
            )
        )
        if template == "FIFO":
            queue = TaskQueue(
                sid=wire.new_sid("WQ"),
                account_sid=account,
                date_created=now,
                date_updated=now,
                workspace_sid=ws.sid,
                friendly_name="Sample Queue",
                target_workers="1==1",
            )
            tx.put(queue)
            event_rows.emit(
                tx,
                now,
                "task-queue.created",
                queue,
                "TaskQueue Sample Queue created",
                event_rows.describe(queue),
            )
            flow = Workflow(
                sid=wire.new_sid("WW"),
                account_sid=account,
                date_created=now,
                date_updated=now,
                workspace_sid=ws.sid,
                friendly_name="Default Fifo Workflow",
                configuration=json.dumps(
                    {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
                ),
            )
            tx.put(flow)
            event_rows.emit(
                tx,
                now,
                "workflow.created",
                flow,
                "Workflow Default Fifo Workflow created",
                event_rows.describe(flow),
            )
        return ok(render(ws, tx), 201)


def add_activity(
    tx: Transaction, ws: Workspace, name: str, available: bool, now: float
) -> Activity:
    activity = Activity(
        sid=wire.new_sid("WA"),
        account_sid=ws.account_sid,
        date_created=now,
        date_updated=now,
        workspace_sid=ws.sid,
        friendly_name=name,
        available=available,
    )
    tx.put(activity)
    event_rows.emit(
        tx,
        now,
        "activity.created",
        activity,
        f"Activity {name} created",
        event_rows.describe(activity),
    )
    return activity


def add_channel(
    tx: Transaction,
    ws: Workspace,
    friendly: str,
    unique: str,
    now: float,
    optimized: bool | None = None,
) -> TaskChannel:
    channel = TaskChannel(
        sid=wire.new_sid("TC"),
        account_sid=ws.account_sid,
        date_created=now,
        date_updated=now,
        workspace_sid=ws.sid,
        friendly_name=friendly,
        unique_name=unique,
        channel_optimized_routing=optimized,
    )
    tx.put(channel)
    for worker in tx.group(Worker, "workspace_sid", ws.sid).values():
        new_worker_channel(tx, worker, channel, now)  # type: ignore[arg-type]
    event_rows.emit(
        tx,
        now,
        "task-channel.created",
        channel,
        f"TaskChannel {unique} created",
        event_rows.describe(channel),
    )
    return channel


@routes.get("/v1/Workspaces")
def list_workspaces(ctx: Context) -> Response:
    name = ctx.query.text("FriendlyName")
    records = ctx.store.group(Workspace, "account_sid", ctx.request.account_sid).values()
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
        ws = tx.put(touch(ws, now, **changes))
        event_rows.emit(tx, now, "workspace.updated", ws, f"Workspace {ws.friendly_name} updated")
        return ok(render(ws, tx))


@routes.delete("/v1/Workspaces/{Sid}")
def delete_workspace(ctx: Context, Sid: str) -> Response:
    with ctx.transaction() as tx:
        ws = workspace_of(ctx, Sid, tx)
        for kind in CHILD_KINDS:
            for record in tx.group(kind, "workspace_sid", ws.sid).values():
                tx.delete(record)
        tx.delete(ws)
    return no_content()
