"""Tasks: ``/v1/Workspaces/{WorkspaceSid}/Tasks[/{Sid}]``.

Status changes a client may ask for (``reference/taskrouter.md`` §4.2): ``canceled`` before
assignment, ``wrapping`` after it, ``completed`` from ``assigned`` or ``wrapping``; the others
are TaskRouter's to make. Anything else is a 400 that says which move is allowed.
"""

from __future__ import annotations

from typing import Any

from .. import wire
from ..core import event_rows
from ..errors import BadRequest
from ..expressions import ExpressionError, parse
from ..models import Call, Reservation, Task, TaskQueue, Workflow, json_object, touch
from ..params import MAX_PRIORITY, MAX_TASK_TIMEOUT
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
from .task_channels import find_channel

routes = Routes()
MAX_TIMEOUT = MAX_TASK_TIMEOUT
EARLIEST_START = -2_208_988_800.0  # 1900-01-01T00:00:00Z
DEFAULT_TIMEOUT = 86_400
STATUSES = ("pending", "reserved", "assigned", "canceled", "completed", "wrapping")
CLIENT_MOVES = {
    "canceled": ("pending", "reserved"),
    "wrapping": ("assigned",),
    "completed": ("assigned", "wrapping"),
}


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


def _virtual_start_time(ctx: Context, now: float) -> float | None:
    moment = ctx.params.date("VirtualStartTime")
    if moment is None:
        return None
    if moment > now or moment < EARLIEST_START:
        raise BadRequest("VirtualStartTime must not be in the future nor before 1900")
    return moment


def _channel_sid(ctx: Context, tx: Transaction, workspace_sid: str, ref: str | None) -> str:
    channel = find_channel(tx, workspace_sid, ref or "default")
    if channel is None:
        raise BadRequest(
            f"TaskChannel {ref or 'default'!r} does not exist in this workspace; "
            "pass a TaskChannel sid or unique name such as 'default' or 'voice'"
        )
    return channel.sid


def _workflow(ctx: Context, tx: Transaction, workspace_sid: str, sid: str | None) -> Workflow:
    flows = [f for f in tx.group(Workflow, "workspace_sid", workspace_sid).values()]
    if sid is None:
        if len(flows) == 1:
            return flows[0]  # type: ignore[return-value]
        raise BadRequest(
            "Missing required parameter WorkflowSid in the post body "
            f"(the workspace has {len(flows)} workflows, so it must be named)"
        )
    flow = tx.get(sid, Workflow)
    if flow is None or flow.workspace_sid != workspace_sid:  # type: ignore[attr-defined]
        raise BadRequest(f"WorkflowSid {sid!r} is not a workflow of this workspace")
    return flow  # type: ignore[return-value]


@routes.post("/v1/Workspaces/{WorkspaceSid}/Tasks")
def create_task(ctx: Context, WorkspaceSid: str) -> Response:
    p = ctx.params
    attributes = p.json_object("Attributes") or "{}"
    priority = p.integer("Priority", low=0, high=MAX_PRIORITY)
    timeout = p.integer("Timeout", low=1, high=MAX_TIMEOUT)
    workflow_sid = p.sid("WorkflowSid", "WW")
    routing_target = p.text("RoutingTarget")
    ignore_capacity = p.boolean("IgnoreCapacity")
    queue_sid = p.sid("TaskQueueSid", "WQ")
    now = ctx.now()
    start = _virtual_start_time(ctx, now)
    with ctx.transaction() as tx:
        ws = workspace_of(ctx, WorkspaceSid, tx)
        flow = _workflow(ctx, tx, ws.sid, workflow_sid)
        if queue_sid is not None:
            queue = tx.get(queue_sid, TaskQueue)
            if queue is None or queue.workspace_sid != ws.sid:  # type: ignore[attr-defined]
                raise BadRequest(f"TaskQueueSid {queue_sid!r} is not a queue of this workspace")
        task = Task(
            sid=wire.new_sid("WT"),
            account_sid=ws.account_sid,
            date_created=now,
            date_updated=now,
            workspace_sid=ws.sid,
            attributes=attributes,
            priority=priority or 0,
            timeout=timeout or DEFAULT_TIMEOUT,
            workflow_sid=flow.sid,
            task_channel_sid=_channel_sid(ctx, tx, ws.sid, p.text("TaskChannel")),
            virtual_start_time=start if start is not None else now,
            routing_target=routing_target,
            ignore_capacity=ignore_capacity,
        )
        tx.put(task)
        task = ctx.engine.task_created(tx, task, now)  # emits task.created, then routes
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
        return record.friendly_name if record else None

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

    records = in_workspace(ctx, Task, WorkspaceSid)
    filters = (priority, workflow_sid, workflow_name, queue_sid, queue_name, routing_target,
               has_addons, expression)  # fmt: skip
    if statuses or any(f is not None for f in filters):  # unfiltered: no per-task check at all
        records = [t for t in records if keep(t)]
    records = _order(records, q.text("Ordering"))
    now = ctx.now()
    path = f"{ws_path(WorkspaceSid)}/Tasks"
    return list_response(ctx, "tasks", path, records, lambda t: render(t, store, now))


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
    return ok(render(task, ctx.store, ctx.now()), etag=task.version)


@routes.post("/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}")
def update_task(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    p = ctx.params
    attributes = p.json_object("Attributes")
    status = p.enum("AssignmentStatus", STATUSES)
    reason = p.text("Reason", max_len=4096)
    priority = p.integer("Priority", low=0, high=MAX_PRIORITY)
    now = ctx.now()
    start = _virtual_start_time(ctx, now)
    with ctx.transaction() as tx:
        task = child_of(ctx, Task, WorkspaceSid, Sid, tx)
        check_if_match(ctx, task)
        if status is not None and task.assignment_status in ("canceled", "completed"):
            raise BadRequest(
                f"Task {Sid} is already {task.assignment_status}, a final status; "
                "create a new task instead"
            )
        if status is not None and status != task.assignment_status:
            allowed_from = CLIENT_MOVES.get(status)
            if allowed_from is None:
                raise BadRequest(
                    f"AssignmentStatus {status} is set by TaskRouter, not by a "
                    "client; you can set canceled, wrapping or completed"
                )
            if task.assignment_status not in allowed_from:
                raise BadRequest(
                    f"Task {Sid} is {task.assignment_status}; it can become "
                    f"{status} only from {' or '.join(allowed_from)}"
                )
            if attributes is not None and status in ("wrapping", "completed"):
                raise BadRequest(
                    "Update Attributes and AssignmentStatus in two requests "
                    "when wrapping or completing a task"
                )
            if status in ("canceled", "completed") and not reason:
                raise BadRequest(f"Missing required parameter Reason: say why the task is {status}")
        changes: dict[str, Any] = {}
        if attributes is not None:
            changes["attributes"] = attributes
        if priority is not None:
            changes["priority"] = priority
        if start is not None:
            changes["virtual_start_time"] = start
        if "TaskChannel" in p:
            changes["task_channel_sid"] = _channel_sid(ctx, tx, WorkspaceSid, p.text("TaskChannel"))
        if changes:
            task = tx.put(touch(task, now, **changes))
            event_rows.emit(
                tx,
                now,
                "task.updated",
                task,
                f"Task {Sid} updated",
                event_rows.task_fields(tx, task, now),
            )
        if status is not None and status != task.assignment_status:
            task = ctx.engine.task_status_changed(tx, task, status, reason, now)
        elif attributes is not None or priority is not None:
            task = ctx.engine.task_changed(tx, task, now)
        return ok(render(task, tx, now), etag=task.version)


@routes.delete("/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}")
def delete_task(ctx: Context, WorkspaceSid: str, Sid: str) -> Response:
    now = ctx.now()
    with ctx.transaction() as tx:
        task = child_of(ctx, Task, WorkspaceSid, Sid, tx)
        check_if_match(ctx, task)
        ctx.engine.task_deleted(tx, task, now)
        fields = event_rows.task_fields(tx, task, now)  # before its reservations go: who held it
        holders = []
        for reservation in list(tx.group(Reservation, "task_sid", Sid).values()):
            holders.append(reservation.worker_sid)  # type: ignore[attr-defined]
            tx.delete(reservation)
        for call in tx.group(Call, "task_sid", Sid).values():  # its simulated calls too
            tx.delete(call)
        tx.delete(task)
        ctx.engine.release(tx, holders, now)  # a multitasking worker's slot is free again
        event_rows.emit(tx, now, "task.deleted", task, f"Task {Sid} deleted", fields)
    return no_content()
