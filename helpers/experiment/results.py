"""A simulated day's figures, read back from TaskRouter's own resources.

* **Events** (``task.created``, ``reservation.accepted``, ``task.canceled``, ``task.completed``,
  ``worker.activity.update``): each caller's wait (created → accepted, or → canceled), who
  answered, each agent's busy time and time on shift; the wait distribution comes from these.
* **Cumulative statistics** of the workspace and of every TaskQueue, with
  ``SplitByWaitTime=<service level>``: answered within N s, abandoned, average and longest wait,
  exactly as TaskRouter counts them (a task overflowed to another queue counts in that queue).
* **Real-time statistics** sampled by the driver during the day: tasks by status over time.

Service level = answered within N s / (answered + abandoned): TaskRouter's
``split_by_wait_time[N].below.reservations_accepted`` over ``reservations_accepted +
tasks_canceled``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from twilio.rest import Client

from .._html import escape
from .driver import Run
from .model import Scenario
from .report import COLUMNS, html_table, results_rows


@dataclass(frozen=True)
class Figures:
    """One row of the results table: a segment of callers, a queue, or everyone."""

    label: str
    offered: int
    answered: int
    abandoned: int
    service_level: float  # share answered within the threshold, of answered + abandoned
    mean_wait: float  # seconds, answered callers
    p90_wait: float
    longest_wait: float  # answered or abandoned
    waited_share: float  # share of answered callers who waited at all (> 0.5 s)

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.offered if self.offered else 0.0


@dataclass
class CallRecord:
    task_sid: str
    segment: str
    created: float  # seconds from the start of the day
    accepted: float | None = None
    ended: float | None = None  # completed or canceled
    canceled: bool = False
    worker: str | None = None

    @property
    def wait(self) -> float | None:
        end = (
            self.accepted if self.accepted is not None else (self.ended if self.canceled else None)
        )
        return None if end is None else end - self.created


@dataclass
class Results:
    """Everything one run measured; ``table()`` and ``_repr_html_`` show it, ``plot()`` draws it."""

    design: str
    seed: int
    service_level_seconds: int
    overall: Figures
    segments: list[Figures]
    queues: list[Figures]
    occupancy: dict[str, float]  # agent -> busy share of time on shift
    calls: list[CallRecord]
    samples: list[dict[str, Any]]
    workspace_sid: str
    wall_seconds: float
    requests: int
    statistics: dict[str, Any] = field(repr=False, default_factory=dict)

    def rows(self) -> list[Figures]:
        return [self.overall, *self.segments, *self.queues]

    def records(self) -> list[dict[str, Any]]:
        """The table as plain dicts, e.g. for ``pandas.DataFrame(results.records())``."""
        return [{"design": self.design, **dataclasses.asdict(f), "abandon_rate": f.abandon_rate}
                for f in self.rows()]  # fmt: skip

    def waits(self, segment: str | None = None) -> list[float]:
        return sorted(c.wait for c in self.calls if c.accepted is not None and c.wait is not None
                      and (segment is None or c.segment == segment))  # fmt: skip

    def _repr_html_(self) -> str:
        busy = sorted(self.occupancy.values())
        occupancy = (f"occupancy per agent {100 * busy[0]:.0f}–{100 * busy[-1]:.0f} % "
                     f"(mean {100 * sum(busy) / len(busy):.0f} %); ") if busy else ""  # fmt: skip
        head = (f"<p><b>{escape(self.design)}</b>, seed {self.seed}: service level = answered "
                f"within {self.service_level_seconds} s; {escape(occupancy)}{self.requests:,} "
                f"API requests in {self.wall_seconds:.1f} s of wall time.</p>")  # fmt: skip
        return head + html_table(["", *COLUMNS], results_rows(self))

    def plot(self, **kwargs: Any) -> Any:
        from .plots import plot_results

        return plot_results(self, **kwargs)


def _iso(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def _events(ws: Any, event_type: str, start: float, end: float, window: float = 3600) -> list[Any]:
    """Events of one type between two times, an hour's window per request (deduplicated: the
    windows' edges are inclusive). Short windows keep each answer to about one page."""
    seen: dict[str, Any] = {}
    at = float(int(start) - 1)
    while at <= end:
        upper = min(at + window, float(int(end) + 1))
        for event in ws.events.list(event_type=event_type, start_date=_iso(at),
                                    end_date=_iso(upper), page_size=1000):  # fmt: skip
            seen.setdefault(event.sid, event)
        at = upper  # both edges inclusive: an event on the edge comes twice, kept once
    return sorted(seen.values(), key=lambda e: e.event_date_ms)


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def figures(label: str, records: list[CallRecord], threshold: float) -> Figures:
    answered = [c.wait for c in records if c.accepted is not None and c.wait is not None]
    abandoned = [c.wait for c in records if c.canceled and c.wait is not None]
    within = sum(1 for w in answered if w <= threshold)
    handled = len(answered) + len(abandoned)
    return Figures(
        label, len(records), len(answered), len(abandoned),
        within / handled if handled else 0.0,
        sum(answered) / len(answered) if answered else 0.0,
        _percentile(answered, 0.9), max(answered + abandoned, default=0.0),
        sum(1 for w in answered if w > 0.5) / len(answered) if answered else 0.0,
    )  # fmt: skip


def queue_figures(label: str, stats: dict[str, Any], threshold: int) -> Figures:
    """A row from a TaskQueue's cumulative statistics, as TaskRouter counts it."""
    accepted = int(stats.get("reservations_accepted") or 0)
    canceled = int(stats.get("tasks_canceled") or 0)
    split = (stats.get("split_by_wait_time") or {}).get(str(threshold), {})
    within = int(split.get("below", {}).get("reservations_accepted", 0))
    waits = stats.get("wait_duration_until_accepted") or {}
    gave_up = stats.get("wait_duration_until_canceled") or {}
    longest = max(float(waits.get("max", 0)), float(gave_up.get("max", 0)))
    handled = accepted + canceled
    return Figures(label, int(stats.get("tasks_entered") or handled), accepted, canceled,
                   within / handled if handled else 0.0, float(waits.get("avg", 0)),
                   float("nan"), longest, float("nan"))  # fmt: skip


def collect(client: Client, scenario: Scenario, run: Run, threshold: int, design: str) -> Results:
    ws = client.taskrouter.v1.workspaces(run.workspace_sid)
    start, end = run.start, run.end
    key = sorted(scenario.arrivals.mix)[0] if scenario.arrivals.mix else None
    names = {sid: name for name, sid in run.worker_sids.items()}
    records: dict[str, CallRecord] = {}
    for event in _events(ws, "task.created", start, end):
        data = event.event_data
        attributes = json.loads(data.get("task_attributes") or "{}")
        segment = str(attributes.get(key, "all")) if key else "all"
        records[data["task_sid"]] = CallRecord(data["task_sid"], segment,
                                               event.event_date_ms / 1000 - start)  # fmt: skip
    for event in _events(ws, "reservation.accepted", start, end):
        record = records.get(event.event_data.get("task_sid"))
        if record is not None:
            record.accepted = event.event_date_ms / 1000 - start
            record.worker = names.get(event.event_data.get("worker_sid"))
    for kind in ("task.canceled", "task.completed"):
        for event in _events(ws, kind, start, end):
            record = records.get(event.event_data.get("task_sid"))
            if record is not None:
                record.ended, record.canceled = (
                    event.event_date_ms / 1000 - start,
                    kind == "task.canceled",
                )
    calls = sorted(records.values(), key=lambda c: c.created)
    segments = sorted({c.segment for c in calls})
    stats_args = {"start_date": _iso(int(start) - 1), "end_date": _iso(int(end) + 1),
                  "split_by_wait_time": str(threshold)}  # fmt: skip
    # Every queue's statistics in one request (TaskRouter's TaskQueues/Statistics list).
    by_sid = {q.task_queue_sid: q.cumulative for q in ws.task_queues.statistics.list(**stats_args)}
    queues = [queue_figures(f"queue {qname}", by_sid.get(qsid) or {}, threshold)
              for qname, qsid in run.queue_sids.items()]  # fmt: skip
    workspace_stats = ws.cumulative_statistics().fetch(**stats_args)
    return Results(
        design=design, seed=scenario.seed, service_level_seconds=threshold,
        overall=figures("all callers", calls, threshold),
        segments=[figures(f"{key}={s}", [c for c in calls if c.segment == s], threshold)
                  for s in segments] if key else [],
        queues=queues, occupancy=occupancy(ws, run, calls, names, start, end), calls=calls,
        samples=run.samples, workspace_sid=run.workspace_sid, wall_seconds=run.wall_seconds,
        requests=run.requests,
        statistics={"workspace_cumulative": {
            "reservations_accepted": workspace_stats.reservations_accepted,
            "tasks_canceled": workspace_stats.tasks_canceled,
            "tasks_created": workspace_stats.tasks_created,
            "avg_task_acceptance_time": workspace_stats.avg_task_acceptance_time,
            "split_by_wait_time": workspace_stats.split_by_wait_time}},
    )  # fmt: skip


def occupancy(ws: Any, run: Run, calls: list[CallRecord], names: dict[str, str], start: float,
              end: float) -> dict[str, float]:  # fmt: skip
    """Busy time (accepted → completed, wrap-up included) over time in an available Activity,
    per agent, from the Events resource."""
    on_shift: dict[str, float] = dict.fromkeys(names.values(), 0.0)
    since: dict[str, float] = {}
    events = sorted(
        _events(ws, "worker.activity.update", start, end), key=lambda e: e.event_date_ms
    )
    for event in events:
        name = names.get(event.event_data.get("worker_sid") or event.resource_sid)
        if name is None:
            continue
        at = event.event_date_ms / 1000 - start
        if name in since:
            on_shift[name] += at - since.pop(name)
        if event.event_data.get("worker_activity_name") == "Available":
            since[name] = at
    for name, at in since.items():
        on_shift[name] += (end - start) - at
    busy: dict[str, float] = dict.fromkeys(names.values(), 0.0)
    for call in calls:
        if call.worker and call.accepted is not None and not call.canceled:
            busy[call.worker] += (
                call.ended if call.ended is not None else end - start
            ) - call.accepted
    return {n: (busy[n] / on_shift[n] if on_shift[n] > 0 else 0.0) for n in sorted(names.values())}
