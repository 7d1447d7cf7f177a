"""``TaskBoard``: the workspace's tasks, their reservations and the workers, as a live table.

The learner should *see* TaskRouter work: a task appear as pending, turn reserved the instant
Alice becomes available, then assigned. The board polls through the twilio SDK and paints
every cell whose value changed since the previous refresh for a few refreshes, so the eye is
drawn to what just happened. Reservations are re-read only for tasks that changed (plus a
periodic sweep), which keeps a 0.5 s poll cheap enough for live TaskRouter's rate limits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]  # no type information
from twilio.rest import Client

from .._html import escape
from ..sids import short_sid
from ._live import LiveWidget

HIGHLIGHT = "#fff3a8"
HIGHLIGHT_REFRESHES = 4  # ~2 s at the default interval: long enough to notice
SWEEP_EVERY = 6  # refreshes between full reservation re-reads
TASK_COLUMNS = ("task", "attributes", "queue", "status", "age", "reservations")
OPEN = ("pending", "reserved", "assigned", "wrapping")
STATUS_COLOURS = {"pending": "#b26a00", "reserved": "#0969da", "assigned": "#1a7f37",
                  "wrapping": "#8250df", "completed": "#777", "canceled": "#777"}  # fmt: skip


@dataclass(frozen=True)
class TaskRow:
    sid: str
    attributes: str
    queue: str
    status: str
    age: int
    reservations: tuple[tuple[str, str], ...] = field(default=())  # (worker name, status)

    def cells(self) -> dict[str, str]:
        reservations = ", ".join(f"{w}: {s}" for w, s in self.reservations) or "—"
        return {
            "task": short_sid(self.sid),
            "attributes": self.attributes,
            "queue": self.queue,
            "status": self.status,
            "age": f"{self.age} s",
            "reservations": reservations,
        }


@dataclass(frozen=True)
class WorkerRow:
    name: str
    activity: str
    available: bool

    def cells(self) -> dict[str, str]:
        state = "available" if self.available else "unavailable"
        return {"worker": self.name, "activity": self.activity, "availability": state}


class TaskBoard(LiveWidget):
    """``TaskBoard(client, qs)``: ``.tasks`` and ``.workers`` hold what the table shows."""

    def __init__(
        self, client: Client, qs: Any, *, interval: float = 0.5, max_tasks: int = 20
    ) -> None:
        super().__init__()
        self._workspace = client.taskrouter.v1.workspaces(qs.workspace_sid)
        self._queue_names = {sid: name for name, sid in (getattr(qs, "queues", {}) or {}).items()}
        self.max_tasks = max_tasks
        self.tasks: list[TaskRow] = []
        self.workers: list[WorkerRow] = []
        self.changed: set[tuple[str, str]] = set()  # (row key, column) painted right now
        self._reservations: dict[str, tuple[tuple[Any, ...], tuple[tuple[str, str], ...]]] = {}
        self._previous: dict[tuple[str, str], str] | None = None
        self._fresh: dict[tuple[str, str], int] = {}
        self._refreshes = 0
        self._seen: set[str] = set()  # tasks shown once stay, so the learner sees them finish
        self.table = widgets.HTML("<i>loading tasks…</i>")
        self.message = widgets.HTML()
        self.children = (self.table, self.message)
        try:
            self.refresh()
        except Exception as error:
            self._poll_failed(error)
        self._go_live(qs.workspace_sid, None, interval)

    def status_of(self, task_sid: str) -> str | None:
        """The assignment status the board shows for a task (None when not on the board)."""
        return next((row.status for row in self.tasks if row.sid == task_sid), None)

    def activity_of(self, worker: str) -> str | None:
        return next((row.activity for row in self.workers if row.name == worker), None)

    # -- reading ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read tasks, reservations and workers; repaint what changed."""
        listed = self._workspace.tasks.list(ordering="DateCreated:desc", limit=self.max_tasks)
        # current tasks only: open ones, and those that finished since the board appeared
        # (earlier notebooks' tasks, finished by tidy_up, are not this notebook's story)
        tasks = [t for t in listed if t.assignment_status in OPEN or t.sid in self._seen]
        self._seen.update(t.sid for t in tasks)
        workers = self._workspace.workers.list()
        names = {w.sid: w.friendly_name for w in workers}
        sweep = self._refreshes % SWEEP_EVERY == 0
        task_rows = [self._task_row(task, names, sweep) for task in tasks]
        worker_rows = [
            WorkerRow(w.friendly_name, str(w.activity_name), bool(w.available)) for w in workers
        ]
        shown = {row.sid for row in task_rows}
        self._reservations = {k: v for k, v in self._reservations.items() if k in shown}
        with self._refresh_lock:
            self._refreshes += 1
            self.tasks, self.workers = task_rows, worker_rows
            self._paint()
        self._clear_message("poll")

    def _task_row(self, task: Any, names: dict[str, str], sweep: bool) -> TaskRow:
        version = (task.assignment_status, task.date_updated, task.reason)
        cached = self._reservations.get(task.sid)
        if cached is None or cached[0] != version or sweep:
            listed = self._workspace.tasks(task.sid).reservations.list(limit=20)
            reservations = tuple(
                (names.get(r.worker_sid, r.worker_name or r.worker_sid),
                 _shown_status(r.reservation_status, task))
                for r in sorted(listed, key=_created)
            )  # fmt: skip
            self._reservations[task.sid] = (version, reservations)
        else:
            reservations = cached[1]
        queue = task.task_queue_friendly_name or self._queue_names.get(task.task_queue_sid, "—")
        return TaskRow(
            sid=task.sid,
            attributes=_compact(task.attributes),
            queue=str(queue or "—"),
            status=str(task.assignment_status),
            age=int(task.age or 0),
            reservations=reservations,
        )

    # -- painting -----------------------------------------------------------------------------

    def _paint(self) -> None:
        cells: dict[tuple[str, str], str] = {}
        for task_row in self.tasks:
            for column, value in task_row.cells().items():
                cells[(task_row.sid, column)] = value
        for worker_row in self.workers:
            for column, value in worker_row.cells().items():
                cells[("worker:" + worker_row.name, column)] = value
        previous = self._previous
        self._fresh = {k: n - 1 for k, n in self._fresh.items() if n > 1 and k in cells}
        if previous is not None:
            for key, value in cells.items():
                if key[1] != "age" and previous.get(key) != value:
                    self._fresh[key] = HIGHLIGHT_REFRESHES
        self._previous = cells
        self.changed = set(self._fresh)
        markup = self._render(cells)
        if self.table.value != markup:
            self.table.value = markup

    def _render(self, cells: dict[tuple[str, str], str]) -> str:
        def td(key: tuple[str, str]) -> str:
            value = cells[key]
            style = "padding:2px 8px;text-align:left;"
            if key in self._fresh:
                style += f"background:{HIGHLIGHT};"
            if key[1] in ("status", "activity"):
                style += f"color:{STATUS_COLOURS.get(value, '#333')};font-weight:bold;"
            return f'<td style="{style}">{escape(value)}</td>'

        def th(names: tuple[str, ...]) -> str:
            return "<tr>" + "".join(
                f'<th style="padding:2px 8px;text-align:left">{n}</th>' for n in names
            ) + "</tr>"  # fmt: skip

        if self.tasks:
            rows = "".join(
                "<tr>" + "".join(td((r.sid, c)) for c in TASK_COLUMNS) + "</tr>" for r in self.tasks
            )
            tasks = f"<table>{th(TASK_COLUMNS)}{rows}</table>"
        else:
            tasks = "<i>no tasks yet: create one and it appears here</i>"
        columns = ("worker", "activity", "availability")
        rows = "".join(
            "<tr>" + "".join(td(("worker:" + w.name, c)) for c in columns) + "</tr>"
            for w in self.workers
        )
        return (
            '<div style="font-size:90%"><b>Tasks</b> (newest first)'
            f"{tasks}<b>Workers</b><table>{th(columns)}{rows}</table></div>"
        )

    def __repr__(self) -> str:
        return f"<TaskBoard {len(self.tasks)} tasks{' polling' if self.polling else ''}>"


def _shown_status(status: str, task: Any) -> str:
    """A reservation ended because the task was finished for it (tidy_up) was not "rejected"
    by anyone the learner saw: say what happened to the task instead."""
    if (
        status == "rejected"
        and task.assignment_status in ("canceled", "completed")
        and (task.reason == "tidied up")
    ):
        return f"ended ({task.assignment_status} by tidy_up)"
    return str(status)


def _created(resource: Any) -> float:
    return resource.date_created.timestamp() if resource.date_created else 0.0


def _compact(attributes: str | None) -> str:
    try:
        return json.dumps(json.loads(attributes or "{}"), separators=(",", ":"))[:80]
    except ValueError:
        return str(attributes)[:80]
