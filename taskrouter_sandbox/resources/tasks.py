"""Tasks: ``/v1/Workspaces/{WorkspaceSid}/Tasks[/{Sid}]``: parse, call :mod:`..core.tasks`
(validation, events, routing), render; listing and its filters are read-only and stay here."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Any

from .. import wire
from ..api_errors import BadRequest
from ..core import tasks
from ..core.tasks import STATUSES
from ..expressions import ExpressionError, parse
from ..models import Task, json_object
from ..params import MAX_PRIORITY, MAX_TASK_TIMEOUT
from ..router import Context, Response, Routes, no_content, ok
from .common import check_if_match, child_of, workspace_of, ws_path
from .fragments import Fragments, encode_record, json_page, split_around

routes = Routes()
MAX_TIMEOUT = MAX_TASK_TIMEOUT
_texts = Fragments()  # tasks' JSON without their age (the one field that moves with time)


def render(task: Task, store: Any, now: float) -> dict[str, Any]:
    path = f"{ws_path(task.workspace_sid)}/Tasks/{task.sid}"
    queue = store.get(task.task_queue_sid) if task.task_queue_sid else None
    flow = store.get(task.workflow_sid) if task.workflow_sid else None
    channel = store.get(task.task_channel_sid) if task.task_channel_sid else None
    return {
        "account_sid": task.account_sid,
        "age": max(int(now - task.date_created), 0),
        "assignment_status": task.assignment_status,
        "attributes": task.attributes,
        "addons": task.addons,
        "date_created": wire.iso(task.date_created),
        "date_updated": wire.iso(task.date_updated),
        "task_queue_entered_date": wire.iso(task.task_queue_entered_date),
        "priority": task.priority,
        "reason": task.reason,
        "sid": task.sid,
        "task_queue_sid": task.task_queue_sid,
        "task_queue_friendly_name": queue.friendly_name if queue else None,
        "task_channel_sid": task.task_channel_sid,
        "task_channel_unique_name": channel.unique_name if channel else None,
        "timeout": task.timeout,
        "workflow_sid": task.workflow_sid,
        "workflow_friendly_name": flow.friendly_name if flow else None,
        "workspace_sid": task.workspace_sid,
        "url": wire.url(path),
        "links": wire.links(
            path,
            task_queue=f"{ws_path(task.workspace_sid)}/TaskQueues/{task.task_queue_sid}",
            workflow=f"{ws_path(task.workspace_sid)}/Workflows/{task.workflow_sid}",
            workspace=ws_path(task.workspace_sid),
            reservations="Reservations",
        ),
        "virtual_start_time": wire.iso(task.virtual_start_time),
        "ignore_capacity": task.ignore_capacity,
        "routing_target": task.routing_target,
    }


def render_text(task: Task, store: Any, now: float) -> str:
    """``render``'s JSON text, kept per task object while its queue, workflow and channel
    records (whose names it shows) are the same objects; the age spliced in."""
    get = store.get
    others = (
        get(task.task_queue_sid) if task.task_queue_sid else None,
        get(task.workflow_sid) if task.workflow_sid else None,
        get(task.task_channel_sid) if task.task_channel_sid else None,
    )
    return _text(task, others, store, now)


def page_texts(chunk: Iterable[Task], store: Any, now: float) -> list[str]:
    """``render_text`` of a page's tasks. They mostly share a queue, workflow and channel:
    those are looked up once per page, not once per task."""
    seen: dict[tuple[str | None, str | None, str | None], tuple[Any, Any, Any]] = {}
    texts = []
    for task in chunk:
        sids = (task.task_queue_sid, task.workflow_sid, task.task_channel_sid)
        others = seen.get(sids)
        if others is None:
            others = seen[sids] = (
                store.get(sids[0]) if sids[0] else None,
                store.get(sids[1]) if sids[1] else None,
                store.get(sids[2]) if sids[2] else None,
            )
        texts.append(_text(task, others, store, now))
    return texts


def _text(task: Task, others: tuple[Any, Any, Any], store: Any, now: float) -> str:
    text = _texts.get(task, others, lambda: split_around(render(task, store, now), "age"))
    if text is None:  # first seen: encoded whole, as before
        return encode_record(render(task, store, now))
    return f"{text[0]}{max(int(now - task.date_created), 0)}{text[1]}"


def _virtual_start_time(ctx: Context, now: float) -> float | None:
    return tasks.check_start(ctx.params.date("VirtualStartTime"), now)


@routes.post("/v1/Workspaces/{WorkspaceSid}/Tasks")
def create_task(ctx: Context, WorkspaceSid: str) -> Response:
    p = ctx.params
    fields: dict[str, Any] = {
        "attributes": p.json_object("Attributes") or "{}",
        "priority": p.integer("Priority", low=0, high=MAX_PRIORITY),
        "timeout": p.integer("Timeout", low=1, high=MAX_TIMEOUT),
        "workflow_sid": p.sid("WorkflowSid", "WW"),
        "routing_target": p.text("RoutingTarget"),
        "ignore_capacity": p.boolean("IgnoreCapacity"),
        "task_queue_sid": p.sid("TaskQueueSid", "WQ"),
    }
    now = ctx.now()
    fields["virtual_start_time"] = _virtual_start_time(ctx, now)
    fields["task_channel"] = p.text("TaskChannel")
    with ctx.transaction() as tx:
        ws = workspace_of(ctx, WorkspaceSid, tx)
        task = tasks.create_task(ctx.engine, tx, ws, now, **fields)
        return ok(render(task, tx, now), 201, etag=task.version)


@routes.get("/v1/Workspaces/{WorkspaceSid}/Tasks")
def list_tasks(ctx: Context, WorkspaceSid: str) -> Response:
    workspace_of(ctx, WorkspaceSid)
    q = ctx.query
    store = ctx.store
    statuses = q.text_list("AssignmentStatus")
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise BadRequest(f"AssignmentStatus {bad[0]!r} is not one of {', '.join(STATUSES)}")
    priority = q.integer("Priority", low=0)
    workflow_sid, workflow_name = q.text("WorkflowSid"), q.text("WorkflowName")
    queue_sid, queue_name = q.text("TaskQueueSid"), q.text("TaskQueueName")
    routing_target = q.text("RoutingTarget")
    has_addons = q.boolean("HasAddons")
    expression_text = q.text("EvaluateTaskAttributes")
    expression = None
    if expression_text is not None:
        try:
            expression = parse(expression_text)
        except ExpressionError as error:
            raise BadRequest(f"EvaluateTaskAttributes is invalid: {error}") from None

    def name_of(sid: str | None) -> str | None:
        record = store.get(sid) if sid else None
        return getattr(record, "friendly_name", None)

    def keep(task: Task) -> bool:
        return (
            (not statuses or task.assignment_status in statuses)
            and (priority is None or task.priority == priority)
            and (workflow_sid is None or task.workflow_sid == workflow_sid)
            and (workflow_name is None or name_of(task.workflow_sid) == workflow_name)
            and (queue_sid is None or task.task_queue_sid == queue_sid)
            and (queue_name is None or name_of(task.task_queue_sid) == queue_name)
            and (routing_target is None or task.routing_target == routing_target)
            and (has_addons is None or (task.addons not in ("{}", "")) == has_addons)
            and (expression is None or expression.evaluate(json_object(task.attributes)))
        )

    bucket = store.group(Task, "workspace_sid", WorkspaceSid)
    filters = (priority, workflow_sid, workflow_name, queue_sid, queue_name, routing_target,
               has_addons, expression)  # fmt: skip
    ordering = q.text("Ordering")
    records = None
    if statuses or ordering or any(f is not None for f in filters):
        records = _order([t for t in bucket.values() if keep(t)], ordering)
    size, offset = q.paging()
    if records is None:  # unfiltered: the page straight from the bucket, no check or copy
        total, chunk = len(bucket), list(islice(bucket.values(), offset, offset + size))
    else:
        total, chunk = len(records), records[offset : offset + size]
    now = ctx.now()
    texts = page_texts(chunk, store, now)
    return json_page(ctx, "tasks", f"{ws_path(WorkspaceSid)}/Tasks", texts, total, offset, size)


def _order(records: list[Task], ordering: str | None) -> list[Task]:
    if not ordering:
        return records
    keys = {
        "DateCreated": "date_created",
        "Priority": "priority",
        "VirtualStartTime": "virtual_start_time",
    }
    parts = [part.strip().partition(":") for part in ordering.split(",")]
    names = {name for name, _, _ in parts}
    if {"DateCreated", "VirtualStartTime"} <= names:
        raise BadRequest("Ordering cannot combine DateCreated and VirtualStartTime")
    for name, _, direction in reversed(parts):
        if name not in keys or direction.lower() not in ("", "asc", "desc"):
            raise BadRequest(
                f"Ordering {name}:{direction} is not supported; use DateCreated, Priority or "
                "VirtualStartTime with :asc or :desc, e.g. Priority:desc,DateCreated:asc"
            )
        records = sorted(
            records, key=lambda t: getattr(t, keys[name]), reverse=direction.lower() == "desc"
        )
    return records


@routes.get("/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}")
def fetch_task(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    task = child_of(ctx, Task, WorkspaceSid, Sid)
    return ok(render_text(task, ctx.store, ctx.now()).encode(), etag=task.version)


@routes.post("/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}")
def update_task(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    p = ctx.params
    attributes = p.json_object("Attributes")
    status = p.enum("AssignmentStatus", STATUSES)
    reason = p.text("Reason", max_len=4096)
    priority = p.integer("Priority", low=0, high=MAX_PRIORITY)
    now = ctx.now()
    update = tasks.TaskUpdate(
        attributes=attributes,
        assignment_status=status,
        reason=reason,
        priority=priority,
        virtual_start_time=_virtual_start_time(ctx, now),
        change_channel="TaskChannel" in p,
        task_channel=p.text("TaskChannel"),
    )
    with ctx.transaction() as tx:
        task = child_of(ctx, Task, WorkspaceSid, Sid, tx)
        check_if_match(ctx, task)
        task = tasks.update_task(ctx.engine, tx, task, now, update)
        return ok(render(task, tx, now), etag=task.version)


@routes.delete("/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}")
def delete_task(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    now = ctx.now()
    with ctx.transaction() as tx:
        task = child_of(ctx, Task, WorkspaceSid, Sid, tx)
        check_if_match(ctx, task)
        tasks.delete_task(ctx.engine, tx, task, now)
    return no_content()
