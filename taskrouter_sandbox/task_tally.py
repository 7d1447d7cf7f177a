"""Real-time task figures kept current on commit, so a statistics fetch costs O(1), not a pass
over every task of the workspace (issue 20: 1.9 ms per fetch at 1,000 tasks).

:class:`TaskTally` is a store listener. For each scope (a workspace, one of its TaskQueues, one
of its Workflows) it counts tasks by status and open tasks by priority, and remembers the
oldest waiting (pending or reserved) task by creation and, for a queue, by the date it entered
the queue. The counts change with each committed task; the oldest task is kept while it stays
the oldest and found again by one pass over the workspace's tasks when it stops waiting (and
only when a fetch asks for it).

It keeps no copy of the tasks: the previous version of a changed task is read from the
workspace's task bucket as it was after the previous commit (buckets are immutable snapshots,
``store.py``), which this listener holds until the next one.

The figures are exactly what ``resources/statistics.py`` computes from the records
(``tests/sandbox/test_task_tally.py`` compares them over randomised histories).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from .buckets import Bucket
from .models import Record, Task
from .store import EMPTY, Store

STATUSES = ("pending", "reserved", "assigned", "wrapping", "completed", "canceled")
OPEN, WAITING = frozenset(STATUSES[:4]), frozenset(STATUSES[:2])
AGE_KEYS = ("date_created", "task_queue_entered_date")
Scope = tuple[str, str, str]  # (workspace sid, "workspace" | "queue" | "workflow", sid)
Oldest = tuple[float, str] | None  # (date, task sid); None: no task waits
UNKNOWN: Any = object()  # the oldest stopped waiting: one pass finds the next on demand


class Counts:
    """One scope's figures."""

    __slots__ = ("by_priority", "by_status", "oldest")

    def __init__(self) -> None:
        self.by_status: dict[str, int] = {}
        self.by_priority: dict[int, int] = {}
        self.oldest: dict[str, Oldest] = dict.fromkeys(AGE_KEYS, UNKNOWN)


def scopes(task: Task) -> list[Scope]:
    ws = task.workspace_sid
    found = [(ws, "workspace", ws)]
    if task.task_queue_sid:
        found.append((ws, "queue", task.task_queue_sid))
    if task.workflow_sid:
        found.append((ws, "workflow", task.workflow_sid))
    return found


def _in_scope(task: Task, scope: Scope) -> bool:
    _ws, kind, sid = scope
    if kind == "queue":
        return task.task_queue_sid == sid
    return kind == "workspace" or task.workflow_sid == sid


def oldest_waiting(tasks: Iterable[Task], key: str) -> Oldest:
    """The waiting task with the smallest ``key`` (then sid): statistics' ``_oldest``."""
    best: Oldest = None
    for task in tasks:
        value = getattr(task, key)
        if value is not None and task.assignment_status in WAITING:
            candidate = (value, task.sid)
            if best is None or candidate < best:
                best = candidate
    return best


def _bump(counts: dict[Any, int], key: Any, step: int) -> None:
    value = counts.get(key, 0) + step
    if value:
        counts[key] = value
    else:
        del counts[key]


class TaskTally:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()  # the listener writes, fetches read: never half a change
        self._counts: dict[Scope, Counts] = {}
        # workspace sid -> its task bucket as of the last commit seen (the previous versions)
        self._seen: dict[str, Mapping[str, Record]] = {}
        self.rebuild()

    def rebuild(self) -> None:
        """Count every stored task again (start-up and reset)."""
        with self._store.lock, self._lock:
            self._counts.clear()
            self._seen.clear()
            for task in self._store.all(Task):
                self._add(task)
                self._seen[task.workspace_sid] = EMPTY
            for ws in self._seen:
                self._seen[ws] = self._store.group(Task, "workspace_sid", ws)

    # -- store listener ---------------------------------------------------------------------

    def observe(self, puts: list[Record], deletes: list[Record], events: list[Any]) -> None:
        changed: set[str] = set()
        with self._lock:
            for record in (*deletes, *puts):
                if isinstance(record, Task):
                    changed.add(record.workspace_sid)
            if not changed:
                return
            try:
                for record in deletes:
                    if isinstance(record, Task):
                        self._change(self._previous(record), None)
                for record in puts:
                    if isinstance(record, Task):
                        self._change(self._previous(record), record)
            except Exception:  # never leave half a change behind: count again from the records
                self._lock.release()
                try:
                    self.rebuild()
                finally:
                    self._lock.acquire()
                raise
            for ws in changed:
                self._seen[ws] = self._store.group(Task, "workspace_sid", ws)

    def _previous(self, task: Task) -> Task | None:
        bucket = self._seen.get(task.workspace_sid, EMPTY)
        # A large bucket: the one chunk the task's creation order (the store's seq, still known
        # for a put) puts it in, not a look in each of ~200 chunks at 100k tasks.
        if isinstance(bucket, Bucket) and (seq := self._store._seq.get(task.sid)) is not None:
            old = bucket.find(task.sid, seq)
        else:
            old = bucket.get(task.sid)
        return old if isinstance(old, Task) else None

    def _change(self, old: Task | None, new: Task | None) -> None:
        if old is new:
            return
        if old is not None:
            self._remove(old, keep_oldest=new)
        if new is not None:
            self._add(new)

    def _remove(self, task: Task, keep_oldest: Task | None) -> None:
        for scope in scopes(task):
            counts = self._counts[scope]
            _bump(counts.by_status, task.assignment_status, -1)
            if task.assignment_status in OPEN:
                _bump(counts.by_priority, task.priority, -1)
            for key in AGE_KEYS:
                oldest = counts.oldest[key]
                if oldest is UNKNOWN or oldest is None or oldest[1] != task.sid:
                    continue
                still = (
                    keep_oldest is not None
                    and keep_oldest.assignment_status in WAITING
                    and getattr(keep_oldest, key) == oldest[0]
                    and _in_scope(keep_oldest, scope)
                )
                if not still:
                    counts.oldest[key] = UNKNOWN
            if not counts.by_status:
                del self._counts[scope]

    def _add(self, task: Task) -> None:
        waiting = task.assignment_status in WAITING
        for scope in scopes(task):
            counts = self._counts.get(scope)
            if counts is None:
                counts = self._counts[scope] = Counts()
                counts.oldest = dict.fromkeys(AGE_KEYS, None)  # no task before this one
            _bump(counts.by_status, task.assignment_status, 1)
            if task.assignment_status in OPEN:
                _bump(counts.by_priority, task.priority, 1)
            if not waiting:
                continue
            for key in AGE_KEYS:
                value, oldest = getattr(task, key), counts.oldest[key]
                if value is None or oldest is UNKNOWN:
                    continue
                if oldest is None or (value, task.sid) < oldest:
                    counts.oldest[key] = (value, task.sid)

    # -- reads --------------------------------------------------------------------------------

    def figures(self, scope: Scope, now: float, relative: bool = False) -> dict[str, Any]:
        """The scope's real-time task figures (``relative``: with the queue's
        ``longest_relative_task_*_in_queue``), as of the last commit."""
        with self._lock:
            counts = self._counts.get(scope)
            if counts is None:
                by_status: dict[str, int] = {}
                by_priority: dict[int, int] = {}
                oldest = dict.fromkeys(AGE_KEYS, None)
            else:
                by_status, by_priority = dict(counts.by_status), dict(counts.by_priority)
                for key in AGE_KEYS[: 2 if relative else 1]:
                    if counts.oldest[key] is UNKNOWN:
                        bucket = self._store.group(Task, "workspace_sid", scope[0]).values()
                        mine = (t for t in bucket if _in_scope(t, scope))
                        counts.oldest[key] = oldest_waiting(mine, key)
                oldest = dict(counts.oldest)
        statuses = dict.fromkeys(STATUSES, 0)
        statuses.update(by_status)
        figures = {
            "tasks_by_status": statuses,
            "tasks_by_priority": {str(p): by_priority[p] for p in sorted(by_priority)},
            "total_tasks": sum(by_status.values()),
            **longest(oldest["date_created"], now, "longest_task_waiting_{}"),
        }
        if relative:
            name = "longest_relative_task_{}_in_queue"
            figures.update(longest(oldest["task_queue_entered_date"], now, name))
        return figures


def longest(oldest: Oldest, now: float, name: str) -> dict[str, Any]:
    """``name``'s age and sid fields of the oldest waiting task (0 and None: none waits)."""
    age, sid = (max(int(now - oldest[0]), 0), oldest[1]) if oldest else (0, None)
    return {name.format("age"): age, name.format("sid"): sid}
