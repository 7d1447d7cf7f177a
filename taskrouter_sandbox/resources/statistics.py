"""Statistics of workspaces, task queues, workers and workflows (all 14 endpoints).

Real-time figures are those of the current records (the task figures kept on commit by
``task_tally.TaskTally``; counted from the records when a TaskChannel narrows them):

* ``tasks_by_status`` counts every stored task of the scope under all six statuses (completed
  and canceled tasks count until deleted) and ``total_tasks`` is their sum;
  ``tasks_by_priority`` counts open tasks (pending, reserved, assigned, wrapping);
  ``longest_task_waiting_*`` is the oldest pending or reserved task (by creation, like the
  task's ``age``); ``longest_relative_task_*_in_queue`` goes by ``task_queue_entered_date``.
* ``total_available_workers`` counts eligible workers whose activity is available (and, with
  TaskChannel, whose channel is available).

Cumulative figures count the workspace's events in [start, end]: ``StartDate`` or
(``EndDate`` or now) minus ``Minutes`` (15), up to ``EndDate`` or now. Wait durations are the
``task_age`` of ``reservation.accepted`` / ``task.canceled`` events, and the time in the queue is
that same age less the time spent before entering the queue (one time base: it can never exceed
the time since creation); ``split_by_wait_time``
puts a wait <= threshold ``below`` and a longer one ``above``. ``activity_durations`` clips
each stint (from ``worker.activity.update``) to the window and adds every worker's current
stint up to min(end, now): one pass over the workers, so it stays cheap. A stint that both
began before a past EndDate window and ended after it is not seen.

The bulk POST takes Twilio's documented JSON ``{"queueSids": [...]}`` (at most 50; see
``_bulk_request`` for the other shapes accepted).

No handler takes the store lock: records are immutable and group buckets copy-on-write (the
rule is in ``store.py``), and every event query is bounded by the (workspace_sid, event_date)
index.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import wire
from ..api_errors import BadRequest, NotFound
from ..core.channels import find_channel
from ..core.routing import in_queue
from ..models import (
    Activity,
    Task,
    TaskChannel,
    TaskQueue,
    Worker,
    WorkerChannel,
    Workflow,
    Workspace,
)
from ..params import bounded_int
from ..router import Context, Response, Routes, ok
from ..task_tally import STATUSES, longest, oldest_waiting
from .common import child_of, in_workspace, list_response, workspace_of, ws_path

routes = Routes()
DEFAULT_MINUTES = 15
MAX_MINUTES = 43_200  # Twilio keeps 30 days of statistics
MAX_BULK = 50
MAX_SPLITS = 10  # SplitByWaitTime thresholds in one query
MAX_SPLIT = 30 * 86_400  # seconds: the statistics window is 30 days at most
OPEN = STATUSES[:4]
RESERVATION_COUNTS = {
    "reservation.created": "reservations_created",
    "reservation.accepted": "reservations_accepted",
    "reservation.rejected": "reservations_rejected",
    "reservation.timeout": "reservations_timed_out",
    "reservation.canceled": "reservations_canceled",
    "reservation.rescinded": "reservations_rescinded",
}
TASK_COUNTS = {
    "task.created": "tasks_created",
    "task.canceled": "tasks_canceled",
    "task.completed": "tasks_completed",
    "task.deleted": "tasks_deleted",
    "task-queue.moved": "tasks_moved",
    "workflow.timeout": "tasks_timed_out_in_workflow",
}
ENTERED = {"queue": "task-queue.entered", "workflow": "workflow.entered"}
TASK_EVENTS = (*RESERVATION_COUNTS, *TASK_COUNTS, *ENTERED.values())
ACTIVITY_UPDATE = "worker.activity.update"
RELATIVE_KEYS = ("longest_relative_task_age_in_queue", "longest_relative_task_sid_in_queue")
# The event_data fields the cumulative figures read: SQLite extracts just these (store.py).
TASK_FIELDS = ("task_age", "task_queue_entered_date", "task_date_created", "task_queue_sid")
WORKER_FIELDS = (
    "worker_sid",
    "worker_previous_activity_sid",
    "worker_time_in_previous_activity_ms",
)
BULK_SID_KEYS = ("queueSids", "QueueSids", "TaskQueueSids", "task_queue_sids")
BASE_KEYS = (
    "avg_task_acceptance_time", "start_time", "end_time", *RESERVATION_COUNTS.values(),
    "split_by_wait_time", "wait_duration_until_accepted", "wait_duration_until_canceled",
    "tasks_canceled", "tasks_completed", "tasks_deleted", "tasks_moved",
)  # fmt: skip
CUMULATIVE_KEYS = {
    "workspace": (*BASE_KEYS, "tasks_created", "tasks_timed_out_in_workflow"),
    "queue": (*BASE_KEYS, "tasks_entered", "wait_duration_in_queue_until_accepted"),
    "workflow": (*BASE_KEYS, "tasks_entered", "tasks_timed_out_in_workflow"),
}


@dataclass(frozen=True)
class Query:
    """The parameters every statistics endpoint shares, checked once."""

    now: float
    start: float
    end: float
    channel: TaskChannel | None
    splits: list[int] | None


# -- parameters ------------------------------------------------------------------------------


def _date(ctx: Context, name: str) -> float | None:
    moment = ctx.query.date(name)
    if moment is None:
        return None
    if moment < 0:  # the window is echoed as start_time/end_time: 4-digit years only
        raise BadRequest(f"{name} must not be before 1970-01-01T00:00:00Z, got {wire.iso(moment)}")
    return moment


def _channel(ctx: Context, workspace_sid: str, ref: str | None) -> TaskChannel | None:
    if ref is None:
        return None
    channel = find_channel(ctx.store, workspace_sid, ref)
    if channel is None:
        raise BadRequest(
            f"TaskChannel {ref!r} does not exist in this workspace; pass a TaskChannel sid or "
            "unique name such as 'default' or 'voice'"
        )
    return channel


def _splits(ctx: Context) -> list[int] | None:
    raw = ctx.query.text("SplitByWaitTime")
    if raw is None:
        return None
    parts = [part.strip() for part in raw.split(",")]
    if len(parts) > MAX_SPLITS:
        raise BadRequest(f"SplitByWaitTime takes at most {MAX_SPLITS} thresholds, got {len(parts)}")
    return sorted({bounded_int(part, "SplitByWaitTime", low=0, high=MAX_SPLIT) for part in parts})


def _query(ctx: Context, workspace_sid: str, cumulative: bool = True) -> Query:
    now = ctx.now()
    channel = _channel(ctx, workspace_sid, ctx.query.text("TaskChannel"))
    if not cumulative:
        return Query(now, now, now, channel, None)
    minutes = ctx.query.integer("Minutes", low=1, high=MAX_MINUTES) or DEFAULT_MINUTES
    start, end = _date(ctx, "StartDate"), _date(ctx, "EndDate")
    end = now if end is None else end
    start = max(end - 60 * minutes, 0.0) if start is None else start
    if start > end:
        raise BadRequest(f"StartDate {wire.iso(start)} is after EndDate {wire.iso(end)}")
    return Query(now, start, end, channel, _splits(ctx))


# -- real-time figures -------------------------------------------------------------------------


def _tasks(ctx: Context, workspace_sid: str, q: Query) -> list[Task]:
    tasks = in_workspace(ctx, Task, workspace_sid)
    return [t for t in tasks if q.channel is None or t.task_channel_sid == q.channel.sid]


def _task_realtime(tasks: list[Task], now: float, relative: bool = False) -> dict[str, Any]:
    """The figures of ``tasks``, counted from the records (a TaskChannel-filtered query)."""
    by_status = dict.fromkeys(STATUSES, 0)
    by_status.update(Counter(t.assignment_status for t in tasks))
    priorities = Counter(t.priority for t in tasks if t.assignment_status in OPEN)
    figures = {
        "tasks_by_status": by_status,
        "tasks_by_priority": {str(p): priorities[p] for p in sorted(priorities)},
        "total_tasks": len(tasks),
        **longest(oldest_waiting(tasks, "date_created"), now, "longest_task_waiting_{}"),
    }
    if relative:
        oldest = oldest_waiting(tasks, "task_queue_entered_date")
        figures.update(longest(oldest, now, "longest_relative_task_{}_in_queue"))
    return figures


def _scope_realtime(
    ctx: Context, ws_sid: str, q: Query, kind: str, sid: str, relative: bool = False
) -> dict[str, Any]:
    """A scope's task figures: kept on commit by the sandbox's :class:`TaskTally`, or counted
    from the records when a TaskChannel narrows them."""
    if q.channel is None:
        return ctx.sandbox.task_tally.figures((ws_sid, kind, sid), q.now, relative)
    tasks = _tasks(ctx, ws_sid, q)
    if kind != "workspace":
        attr = "task_queue_sid" if kind == "queue" else "workflow_sid"
        tasks = [t for t in tasks if getattr(t, attr) == sid]
    return _task_realtime(tasks, q.now, relative)


def _worker_realtime(activities: list[Activity], workers: list[Worker]) -> dict[str, Any]:
    counts = Counter(w.activity_sid for w in workers)
    return {
        "activity_statistics": [
            {"sid": a.sid, "friendly_name": a.friendly_name, "workers": counts[a.sid]}
            for a in activities
        ],
        "total_workers": len(workers),
    }


def _available(store: Any, worker: Worker, channel: TaskChannel | None) -> bool:
    activity = store.get(worker.activity_sid, Activity)
    if activity is None or not activity.available:
        return False
    if channel is None:
        return True
    mine = list(store.group(WorkerChannel, "worker_sid", worker.sid).values())  # a snapshot
    return any(c.task_channel_sid == channel.sid and c.available for c in mine)


def _queue_realtime(
    ctx: Context, queue: TaskQueue, workers: list[Worker], q: Query
) -> dict[str, Any]:
    """``workers``: the workspace's."""
    eligible = [w for w in workers if in_queue(ctx.store, w, queue)]
    activities = in_workspace(ctx, Activity, queue.workspace_sid)
    figures = _scope_realtime(ctx, queue.workspace_sid, q, "queue", queue.sid, relative=True)
    relative = {k: figures.pop(k) for k in RELATIVE_KEYS}
    return {
        **figures,
        "activity_statistics": _worker_realtime(activities, eligible)["activity_statistics"],
        **relative,
        "total_eligible_workers": len(eligible),
        "total_available_workers": sum(_available(ctx.store, w, q.channel) for w in eligible),
    }


# -- cumulative figures ------------------------------------------------------------------------


def _events(
    ctx: Context, workspace_sid: str, q: Query, types: Iterable[str], **match: str
) -> list[dict[str, Any]]:
    """Rows cut to ``event_type``, ``event_date_ms`` and the ``event_data`` fields the
    figures read (the task's or the worker's, by ``types``)."""
    types = tuple(types)
    fields = WORKER_FIELDS if ACTIVITY_UPDATE in types else TASK_FIELDS
    where = ["workspace_sid = ?", "event_date >= ?", "event_date <= ?"]
    where.append(f"event_type IN ({', '.join('?' * len(types))})")
    params: list[Any] = [workspace_sid, q.start, q.end, *types]
    for column, value in match.items():
        where.append(f"{column} = ?")
        params.append(value)
    if q.channel is not None:  # worker.activity.update events belong to no channel
        where.append("(task_channel IS NULL OR task_channel = ?)")
        params.append(q.channel.unique_name)
    return ctx.store.query_events(" AND ".join(where), params, data_fields=fields)


def _spread(values: list[float]) -> dict[str, int]:
    if not values:
        return {"avg": 0, "min": 0, "max": 0, "total": 0}
    total = sum(values)
    return {
        "avg": round(total / len(values)),
        "min": round(min(values)),
        "max": round(max(values)),
        "total": round(total),
    }


def _split(splits: list[int] | None, accepted: list[int], canceled: list[int]) -> Any:
    if splits is None:
        return None

    def side(keep: Any) -> dict[str, int]:
        return {
            "tasks_canceled": sum(1 for age in canceled if keep(age)),
            "reservations_accepted": sum(1 for age in accepted if keep(age)),
        }

    return {
        str(s): {"above": side(lambda a, s=s: a > s), "below": side(lambda a, s=s: a <= s)}
        for s in splits
    }


def _task_cumulative(rows: list[dict[str, Any]], q: Query, scope: str) -> dict[str, Any]:
    counts = Counter(row["event_type"] for row in rows)
    accepted: list[int] = []
    canceled: list[int] = []
    in_queue: list[float] = []
    for row in rows:
        data = row["event_data"]
        if row["event_type"] == "reservation.accepted":
            age = int(data.get("task_age") or 0)
            accepted.append(age)
            entered, created = data.get("task_queue_entered_date"), data.get("task_date_created")
            if entered is not None:
                # One time base: the task's age at acceptance, less the time it spent before
                # entering this queue. Time in the queue never exceeds the time since creation.
                in_queue.append(float(age - max(entered - (created or entered), 0)))
        elif row["event_type"] == "task.canceled":
            canceled.append(int(data.get("task_age") or 0))
    figures: dict[str, Any] = {
        "avg_task_acceptance_time": round(sum(accepted) / len(accepted)) if accepted else 0,
        "start_time": wire.iso(q.start),
        "end_time": wire.iso(q.end),
        **{name: counts[t] for t, name in {**RESERVATION_COUNTS, **TASK_COUNTS}.items()},
        "tasks_entered": counts[ENTERED.get(scope, "")],
        "split_by_wait_time": _split(q.splits, accepted, canceled),
        "wait_duration_until_accepted": _spread([float(a) for a in accepted]),
        "wait_duration_until_canceled": _spread([float(c) for c in canceled]),
        "wait_duration_in_queue_until_accepted": _spread([max(v, 0.0) for v in in_queue]),
    }
    return {key: figures[key] for key in CUMULATIVE_KEYS[scope]}


def _activity_durations(
    activities: list[Activity], rows: list[dict[str, Any]], workers: list[Worker], q: Query
) -> list[dict[str, Any]]:
    stints: dict[str, list[float]] = {a.sid: [] for a in activities}
    for row in rows:
        data = row["event_data"]
        if (
            row["event_type"] != ACTIVITY_UPDATE
            or data.get("worker_previous_activity_sid") not in stints
        ):
            continue
        ended = row["event_date_ms"] / 1000
        spent = (data.get("worker_time_in_previous_activity_ms") or 0) / 1000
        stints[data["worker_previous_activity_sid"]].append(ended - max(ended - spent, q.start))
    until = min(q.end, q.now)
    for worker in workers:  # the stint still running
        began = max(worker.date_status_changed, q.start)
        if until > began and worker.activity_sid in stints:
            stints[worker.activity_sid].append(until - began)
    return [
        {"sid": a.sid, "friendly_name": a.friendly_name, **_spread(stints[a.sid])}
        for a in activities
    ]


def _worker_cumulative(
    ctx: Context,
    ws: Workspace,
    q: Query,
    workers: list[Worker],
    only: set[str] | None,
    **match: str,
) -> dict[str, Any]:
    """``only``: keep just these workers' events (None: every worker's, even deleted ones)."""
    rows = _events(ctx, ws.sid, q, (*RESERVATION_COUNTS, ACTIVITY_UPDATE), **match)
    if only is not None:
        rows = [r for r in rows if r["event_data"].get("worker_sid") in only]
    counts = Counter(row["event_type"] for row in rows)
    activities = in_workspace(ctx, Activity, ws.sid)
    return {
        "start_time": wire.iso(q.start),
        "end_time": wire.iso(q.end),
        "activity_durations": _activity_durations(activities, rows, workers, q),
        **{name: counts[t] for t, name in RESERVATION_COUNTS.items()},
    }


# -- shared building blocks -----------------------------------------------------------------------


def _envelope(ws: Workspace, path: str, **fields: Any) -> dict[str, Any]:
    return {"account_sid": ws.account_sid, "workspace_sid": ws.sid, **fields, "url": wire.url(path)}


def _figures(
    ctx: Context, ws: Workspace, q: Query, kind: str, scope: str, **match: str
) -> dict[str, Any]:
    """``kind`` (realtime, cumulative) figures of a scope: the workspace, its workers, or the
    queue / workflow named by ``match`` (task_queue_sid= / workflow_sid=)."""
    if scope == "workers":
        workers, only = _scoped_workers(ctx, ws.sid)
        if kind == "cumulative":
            return _worker_cumulative(ctx, ws, q, workers, only)
        return _worker_realtime(in_workspace(ctx, Activity, ws.sid), workers)
    if kind == "cumulative":
        return _task_cumulative(_events(ctx, ws.sid, q, TASK_EVENTS, **match), q, scope)
    if scope == "workflow":
        return _scope_realtime(ctx, ws.sid, q, "workflow", match["workflow_sid"])
    workers = in_workspace(ctx, Worker, ws.sid)
    if scope == "queue":
        queue = ctx.store.get(match["task_queue_sid"], TaskQueue)
        if queue is None:  # deleted since the route found it
            raise NotFound(f"/v1{ctx.request.path.removeprefix('/v1')}")
        return _queue_realtime(ctx, queue, workers, q)
    activities = in_workspace(ctx, Activity, ws.sid)
    tasks = _scope_realtime(ctx, ws.sid, q, "workspace", ws.sid)
    return {**tasks, **_worker_realtime(activities, workers)}


def _scoped_workers(ctx: Context, workspace_sid: str) -> tuple[list[Worker], set[str] | None]:
    """Workers named by FriendlyName / TaskQueueSid / TaskQueueName, and their sids if filtered."""
    workers = in_workspace(ctx, Worker, workspace_sid)
    name = ctx.query.text("FriendlyName")
    queue_sid, queue_name = ctx.query.text("TaskQueueSid"), ctx.query.text("TaskQueueName")
    if name is not None:
        workers = [w for w in workers if w.friendly_name == name]
    if queue_sid is not None or queue_name is not None:
        queues = in_workspace(ctx, TaskQueue, workspace_sid)
        key, value = ("sid", queue_sid) if queue_sid else ("friendly_name", queue_name)
        queue = next((x for x in queues if getattr(x, key) == value), None)
        if queue is None:
            raise BadRequest(
                f"TaskQueue {queue_sid or queue_name!r} does not exist in this workspace"
            )
        workers = [w for w in workers if in_queue(ctx.store, w, queue)]
    filtered = name is not None or queue_sid is not None or queue_name is not None
    return workers, ({w.sid for w in workers} if filtered else None)


def _answer(ctx: Context, ws: Workspace, scope: str, **ids: str) -> Response:
    """The view the path ends with: Statistics (both kinds), RealTime- or CumulativeStatistics."""
    path = ctx.request.path.rstrip("/").removesuffix(".json").removeprefix("/v1")
    view = path.rsplit("/", 1)[-1]
    q = _query(ctx, ws.sid, cumulative=view != "RealTimeStatistics")
    if view == "Statistics":
        body = {k: _figures(ctx, ws, q, k, scope, **ids) for k in ("realtime", "cumulative")}
    else:
        kind = "realtime" if view == "RealTimeStatistics" else "cumulative"
        body = _figures(ctx, ws, q, kind, scope, **ids)
    return ok(_envelope(ws, path, **ids, **body))


# -- routes ---------------------------------------------------------------------------------------


@routes.get("/v1/Workspaces/{WorkspaceSid}/Statistics")
@routes.get("/v1/Workspaces/{WorkspaceSid}/RealTimeStatistics")
@routes.get("/v1/Workspaces/{WorkspaceSid}/CumulativeStatistics")
def workspace_statistics(ctx: Context, WorkspaceSid: str) -> Response:
    ws = workspace_of(ctx, WorkspaceSid)
    return _answer(ctx, ws, "workspace")


@routes.get("/v1/Workspaces/{WorkspaceSid}/TaskQueues/{TaskQueueSid}/Statistics")
@routes.get("/v1/Workspaces/{WorkspaceSid}/TaskQueues/{TaskQueueSid}/RealTimeStatistics")
@routes.get("/v1/Workspaces/{WorkspaceSid}/TaskQueues/{TaskQueueSid}/CumulativeStatistics")
def task_queue_statistics(ctx: Context, WorkspaceSid: str, TaskQueueSid: str) -> Response:
    queue = child_of(ctx, TaskQueue, WorkspaceSid, TaskQueueSid)
    ws = workspace_of(ctx, WorkspaceSid)
    return _answer(ctx, ws, "queue", task_queue_sid=queue.sid)


@routes.get("/v1/Workspaces/{WorkspaceSid}/TaskQueues/Statistics")
def list_task_queues_statistics(ctx: Context, WorkspaceSid: str) -> Response:
    ws = workspace_of(ctx, WorkspaceSid)
    q = _query(ctx, ws.sid)
    name = ctx.query.text("FriendlyName")
    queues = [x for x in in_workspace(ctx, TaskQueue, ws.sid) if name in (None, x.friendly_name)]
    rows: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for row in _events(ctx, ws.sid, q, TASK_EVENTS):  # one range scan for every queue
        rows[row["event_data"].get("task_queue_sid")].append(row)
    workers = in_workspace(ctx, Worker, ws.sid)

    def render(queue: TaskQueue) -> dict[str, Any]:
        return {
            "account_sid": ws.account_sid,
            "workspace_sid": ws.sid,
            "task_queue_sid": queue.sid,
            "realtime": _queue_realtime(ctx, queue, workers, q),
            "cumulative": _task_cumulative(rows[queue.sid], q, "queue"),
        }

    path = f"{ws_path(ws.sid)}/TaskQueues/Statistics"
    return list_response(ctx, "task_queues_statistics", path, queues, render)


def _first(item: dict[str, Any], *keys: str) -> Any:
    return next((item[k] for k in keys if item.get(k) is not None), None)


def _bulk_request(ctx: Context) -> list[tuple[str, str | None]]:
    """(queue sid, TaskChannel) pairs. Twilio documents ``{"queueSids": [...]}`` as JSON; also
    taken: a bare JSON list, items that are ``{"TaskQueueSid", "TaskChannel"}`` objects, and a
    form body repeating ``QueueSids``."""
    body: Any = {"queueSids": ctx.params.text_list("QueueSids") or None}
    if "json" in ctx.request.headers.get("content-type", ""):
        try:
            body = json.loads(ctx.request.raw_body or b"null")
        except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
            raise BadRequest("The request body is not valid JSON") from None
    channel = None
    if isinstance(body, dict):
        channel = _first(body, "taskChannel", "TaskChannel", "task_channel")
        body = _first(body, *BULK_SID_KEYS)
    if not isinstance(body, list) or not 0 < len(body) <= MAX_BULK:
        raise BadRequest(
            f'Send 1 to {MAX_BULK} TaskQueue sids as JSON: {{"queueSids": ["WQ...", "WQ..."]}}'
        )
    wanted = []
    for item in body:
        item = item if isinstance(item, dict) else {"queueSid": item}
        sid = _first(item, "queueSid", "TaskQueueSid", "task_queue_sid", "sid")
        ref = _first(item, "taskChannel", "TaskChannel", "task_channel") or channel
        if not isinstance(sid, str) or not wire.is_sid(sid, "WQ"):
            raise BadRequest(f"{sid!r} is not a TaskQueue sid (WQ + 32 hex digits)")
        if ref is not None and not isinstance(ref, str):
            raise BadRequest(f"TaskChannel must be a sid or unique name, got {ref!r}")
        wanted.append((sid, ref))
    return wanted


@routes.post("/v1/Workspaces/{WorkspaceSid}/TaskQueues/RealTimeStatistics")
def bulk_task_queue_real_time_statistics(ctx: Context, WorkspaceSid: str) -> Response:
    ws = workspace_of(ctx, WorkspaceSid)
    now = ctx.now()
    workers = in_workspace(ctx, Worker, ws.sid)
    data = []
    for sid, ref in _bulk_request(ctx):
        queue = ctx.store.get(sid, TaskQueue)
        if queue is None or queue.workspace_sid != ws.sid:
            raise BadRequest(f"TaskQueue {sid} does not exist in workspace {ws.sid}")
        q = Query(now, now, now, _channel(ctx, ws.sid, ref), None)
        data.append({"task_queue_sid": sid, **_queue_realtime(ctx, queue, workers, q)})
    path = f"{ws_path(ws.sid)}/TaskQueues/RealTimeStatistics"
    return ok(_envelope(ws, path, task_queue_data=data, task_queue_response_count=len(data)))


@routes.get("/v1/Workspaces/{WorkspaceSid}/Workers/Statistics")
@routes.get("/v1/Workspaces/{WorkspaceSid}/Workers/RealTimeStatistics")
@routes.get("/v1/Workspaces/{WorkspaceSid}/Workers/CumulativeStatistics")
def workers_statistics(ctx: Context, WorkspaceSid: str) -> Response:
    return _answer(ctx, workspace_of(ctx, WorkspaceSid), "workers")


@routes.get("/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Statistics")
def worker_statistics(ctx: Context, WorkspaceSid: str, WorkerSid: str) -> Response:
    worker = child_of(ctx, Worker, WorkspaceSid, WorkerSid)
    ws = workspace_of(ctx, WorkspaceSid)
    q = _query(ctx, ws.sid)
    cumulative = _worker_cumulative(ctx, ws, q, [worker], None, worker_sid=worker.sid)
    path = f"{ws_path(ws.sid)}/Workers/{worker.sid}/Statistics"
    return ok(_envelope(ws, path, worker_sid=worker.sid, cumulative=cumulative))


@routes.get("/v1/Workspaces/{WorkspaceSid}/Workflows/{WorkflowSid}/Statistics")
@routes.get("/v1/Workspaces/{WorkspaceSid}/Workflows/{WorkflowSid}/RealTimeStatistics")
@routes.get("/v1/Workspaces/{WorkspaceSid}/Workflows/{WorkflowSid}/CumulativeStatistics")
def workflow_statistics(ctx: Context, WorkspaceSid: str, WorkflowSid: str) -> Response:
    flow = child_of(ctx, Workflow, WorkspaceSid, WorkflowSid)
    ws = workspace_of(ctx, WorkspaceSid)
    return _answer(ctx, ws, "workflow", workflow_sid=flow.sid)
