"""Who waits where, and who gets what: the indexes behind routing.

* :class:`RoutingIndex` keeps, per TaskQueue, the pending tasks in assignment order (priority
  first, then age: oldest first for FIFO queues, newest first for LIFO) and, per queue, the
  workers its ``target_workers`` expression selects. It is fed from committed records (a store
  listener), so one event costs a bisect, not a scan of every task (``docs/decisions.md``,
  engineering rules).
* :func:`choose_workers` picks the workers for a task within a routing step: available, with
  capacity, matching the step's expression and known-worker rule; ordered by ``order_by`` when
  given, else longest idle (decision 3, ``docs/decisions.md``).

Inside a transaction the index may lag the transaction's own writes, so callers re-check every
candidate against the transaction before acting on it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..expressions import ExpressionError, evaluate
from ..models import (
    Activity,
    Record,
    Reservation,
    Task,
    TaskQueue,
    Worker,
    WorkerChannel,
    read_attributes,
)
from ..store import Store, Transaction
from ..workflow_config import Target

OPEN_TASK = ("reserved", "assigned", "wrapping")
TaskKey = tuple[int, float, float, str]


def worker_document(worker: Worker, activity_name: str | None) -> dict[str, Any]:
    """What expressions see of a worker: its attributes plus sid, name and activity."""
    return {
        **read_attributes(worker.attributes),
        "sid": worker.sid,
        "friendly_name": worker.friendly_name,
        "activity_sid": worker.activity_sid,
        "activity_name": activity_name,
    }


def in_queue(source: Any, worker: Worker, queue: TaskQueue) -> bool:
    """Does the queue's ``target_workers`` select this worker? (An empty target selects no one.)"""
    if not queue.target_workers:
        return False
    activity = source.get(worker.activity_sid)
    document = worker_document(worker, getattr(activity, "friendly_name", None))
    try:  # evaluate() caches the parsed expression: parsing it per call was a hot spot
        return evaluate(queue.target_workers, document)
    except ExpressionError:
        return False


class RoutingIndex:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._waiting: dict[str, list[tuple[TaskKey, str]]] = {}
        self._placed: dict[str, tuple[str, TaskKey]] = {}  # task sid -> (queue sid, key)
        self._members: dict[str, set[str]] = {}  # queue sid -> worker sids (lazily built)
        # queue sid -> those members in an available activity (built with ``_members``), so a
        # task arriving looks at the free workers, not at every member (issue 20)
        self._available: dict[str, set[str]] = {}
        self.rebuild()

    def rebuild(self) -> None:
        self._waiting.clear()
        self._placed.clear()
        self._members.clear()
        self._available.clear()
        for record in self._store.all(Task):
            self._track_task(record)

    # -- store listener ---------------------------------------------------------------------

    def observe(self, puts: list[Record], deletes: list[Record], events: list[Any]) -> None:
        for record in deletes:
            if record.kind == "task":
                self._untrack_task(record.sid)
            elif record.kind == "task_queue":
                self._forget_queue(record.sid)
                for _key, sid in self._waiting.pop(record.sid, []):
                    self._placed.pop(sid, None)
            elif record.kind == "worker":
                for members in (*self._members.values(), *self._available.values()):
                    members.discard(record.sid)
            elif record.kind == "activity":
                self._forget_all()
        for record in puts:
            if isinstance(record, Task):
                self._track_task(record)
            elif isinstance(record, TaskQueue):
                self._forget_queue(record.sid)  # target may have changed: rebuild lazily
                self._rekey_queue(record)
            elif isinstance(record, Worker):
                self._refresh_worker(record)
            elif isinstance(record, Activity):
                # Availability is fixed at creation (activities.py); a new or re-stored
                # activity is rare, so every queue's sets are simply rebuilt lazily.
                self._forget_all()

    def _forget_queue(self, queue_sid: str) -> None:
        self._members.pop(queue_sid, None)
        self._available.pop(queue_sid, None)

    def _forget_all(self) -> None:
        self._members.clear()
        self._available.clear()

    def _track_task(self, task: Task) -> None:
        if task.assignment_status != "pending" or not task.task_queue_sid:
            self._untrack_task(task.sid)
            return
        queue = self._store.get(task.task_queue_sid, TaskQueue)
        key = task_key(task, getattr(queue, "task_order", "FIFO"))
        placed = self._placed.get(task.sid)
        if placed == (task.task_queue_sid, key):
            return
        self._untrack_task(task.sid)
        bisect.insort(self._waiting.setdefault(task.task_queue_sid, []), (key, task.sid))
        self._placed[task.sid] = (task.task_queue_sid, key)

    def _untrack_task(self, sid: str) -> None:
        placed = self._placed.pop(sid, None)
        if placed is None:
            return
        queue_sid, key = placed
        waiting = self._waiting.get(queue_sid, [])
        position = bisect.bisect_left(waiting, (key, sid))
        if position < len(waiting) and waiting[position] == (key, sid):
            del waiting[position]

    def _rekey_queue(self, queue: TaskQueue) -> None:
        waiting = self._waiting.get(queue.sid)
        if not waiting:
            return
        for _key, sid in list(waiting):
            self._untrack_task(sid)
            task = self._store.get(sid, Task)
            if isinstance(task, Task):
                self._track_task(task)

    def _refresh_worker(self, worker: Worker) -> None:
        available = _available_in(self._store, worker)
        for queue_sid, members in self._members.items():
            queue = self._store.get(queue_sid, TaskQueue)
            free = self._available[queue_sid]
            if (
                isinstance(queue, TaskQueue)
                and queue.workspace_sid == worker.workspace_sid  # never another workspace's
                and in_queue(self._store, worker, queue)
            ):
                members.add(worker.sid)
                if available:
                    free.add(worker.sid)
                else:
                    free.discard(worker.sid)
            else:
                members.discard(worker.sid)
                free.discard(worker.sid)

    # -- reads ------------------------------------------------------------------------------

    def waiting(self, queue_sid: str) -> Iterator[str]:
        """Sids of the queue's pending tasks, best first. Lazy: the index only changes when a
        transaction commits, never while the engine walks it inside one."""
        return (sid for _key, sid in self._waiting.get(queue_sid, []))

    def waiting_count(self, queue_sid: str) -> int:
        return len(self._waiting.get(queue_sid, []))

    def members(self, queue: TaskQueue) -> set[str]:
        """Sids of the committed workers the queue's ``target_workers`` selects."""
        members = self._members.get(queue.sid)
        if members is None:
            workers = self._store.group(Worker, "workspace_sid", queue.workspace_sid).values()
            selected = [w for w in workers if in_queue(self._store, w, queue)]
            members = {w.sid for w in selected}
            self._available[queue.sid] = {w.sid for w in selected if _available_in(self._store, w)}
            self._members[queue.sid] = members
        return members

    def candidates(self, tx: Transaction, queue: TaskQueue) -> set[str]:
        """The members that may be available inside ``tx``: those available as committed, plus
        the members ``tx`` itself wrote (their activity may have changed in it). A superset of
        the members available in ``tx``, in proportion to the free workers, not to all members:
        callers still check each one against the transaction, as for :meth:`members`."""
        members = self.members(queue)
        free = self._available[queue.sid]
        written = [sid for sid in tx.written(Worker) if sid in members]
        return free.union(written) if written else free


def task_key(task: Task, order: str) -> TaskKey:
    moment = task.virtual_start_time
    return (-task.priority, moment if order != "LIFO" else -moment, task.date_created, task.sid)


# -- eligibility and choice -------------------------------------------------------------------


def is_available(tx: Transaction, worker: Worker) -> bool:
    return _available_in(tx, worker)


def _available_in(source: Store | Transaction, worker: Worker) -> bool:
    activity = source.get(worker.activity_sid, Activity)
    return isinstance(activity, Activity) and activity.available


@dataclass(frozen=True)
class Room:
    """How much more work a worker can take: free slots per channel (single-tasking: one)."""

    held: frozenset[str]  # tasks the worker already holds a reservation for
    free: dict[str | None, int]  # channel sid -> free slots; the key None when single-tasking
    single: bool

    def allows(self, task: Task) -> bool:
        key = None if self.single else task.task_channel_sid
        return task.sid not in self.held and self.free.get(key, 0) > 0

    @property
    def any(self) -> bool:
        return any(slots > 0 for slots in self.free.values())


def room(tx: Transaction, worker: Worker, multitasking: bool) -> Room:
    """Single-tasking: room unless a reservation is pending. Multi-tasking: channel capacity
    minus the worker's reserved, assigned and wrapping tasks on that channel (a task in
    wrap-up holds its slot until it is completed, as the WorkerChannel's assigned_tasks says)."""
    held = _held(tx, worker.sid)
    tasks = frozenset(r.task_sid for r in held)
    if not multitasking:
        pending = any(r.reservation_status == "pending" for r in held)
        return Room(tasks, {None: 0 if pending else 1}, single=True)
    busy = channel_load(tx, worker.sid, held)
    free: dict[str | None, int] = {}
    for channel in tx.group(WorkerChannel, "worker_sid", worker.sid).values():
        if isinstance(channel, WorkerChannel) and channel.available:
            key = channel.task_channel_sid
            free[key] = max(channel.configured_capacity - busy.get(key, 0), 0)
    return Room(tasks, free, single=False)


def _held(source: Any, worker_sid: str) -> list[Reservation]:
    return [
        r
        for r in source.group(Reservation, "worker_sid", worker_sid).values()
        if isinstance(r, Reservation)
        and r.reservation_status in ("pending", "accepted", "wrapping")
    ]


def channel_load(
    source: Any, worker_sid: str, held: list[Reservation] | None = None
) -> dict[str | None, int]:
    """Tasks a worker holds per TaskChannel sid: reserved, assigned or wrapping. Routing stops
    reserving at the channel's capacity, and the WorkerChannel's ``assigned_tasks`` reports the
    same count (one number for both, so what a learner reads is what routing uses)."""
    busy: dict[str | None, int] = {}
    for reservation in _held(source, worker_sid) if held is None else held:
        task = source.get(reservation.task_sid, Task)
        if isinstance(task, Task) and task.assignment_status in OPEN_TASK:
            busy[task.task_channel_sid] = busy.get(task.task_channel_sid, 0) + 1
    return busy


def has_room(tx: Transaction, worker: Worker, task: Task, multitasking: bool) -> bool:
    return room(tx, worker, multitasking).allows(task)


def step_allows(tx: Transaction, worker: Worker, task: Task, target: Target | None) -> bool:
    """The routing step's own conditions: its expression and its known-worker rule."""
    if target is None:
        return True
    if target.expression is None and not (
        target.known_worker_sid or target.known_worker_friendly_name
    ):
        return True
    activity = tx.get(worker.activity_sid, Activity)
    task_doc = read_attributes(task.attributes)
    worker_doc = worker_document(worker, getattr(activity, "friendly_name", None))
    if target.expression is not None and not target.expression.evaluate(
        {"task": task_doc, "worker": worker_doc}
    ):
        return False
    if target.known_worker_sid:
        return bool(_resolve(target.known_worker_sid, task_doc) == worker.sid)
    if target.known_worker_friendly_name:
        return bool(_resolve(target.known_worker_friendly_name, task_doc) == worker.friendly_name)
    return True


def _resolve(reference: str, task_doc: dict[str, Any]) -> Any:
    """``task.requested_agent`` -> the task attribute's value (a literal stays itself)."""
    if not reference.startswith("task."):
        return reference
    value: Any = task_doc
    for part in reference[len("task.") :].split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def order_workers(workers: Iterable[Worker], target: Target | None) -> list[Worker]:
    """``order_by`` (worker attributes ASC/DESC) when given, else longest idle first."""
    ordered = sorted(workers, key=lambda w: (w.date_status_changed, w.date_created, w.sid))
    if target is None or not target.order_by:
        return ordered
    for path, descending in reversed(target.order_by):
        present = [w for w in ordered if _attribute(w, path) is not None]
        missing = [w for w in ordered if _attribute(w, path) is None]
        present.sort(key=lambda w: _sortable(_attribute(w, path)), reverse=descending)
        ordered = present + missing
    return ordered


def _attribute(worker: Worker, path: str) -> Any:
    value: Any = read_attributes(worker.attributes)
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _sortable(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, str(value))
