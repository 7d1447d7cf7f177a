"""What TaskRouter does on its own: routing, reservations, activity moves and timers.

The core's functions (:mod:`.tasks`, :mod:`.workers`, :mod:`.instructions` …) record a client's
change, then call the :class:`Engine` in the same transaction, so TaskRouter's consequences
commit (or fail) together with it:

* a new task enters its workflow: the first matching filter's first target (else the default
  filter) puts it in a queue, and eligible workers are reserved at once;
* a worker becoming available takes the best waiting task of its queues;
* accept / reject / timeout / rescind / cancel move reservations, tasks and (single-tasking)
  workers as https://www.twilio.com/docs/taskrouter/api/reservations and
  https://www.twilio.com/docs/taskrouter/lifecycle-task-state describe, with the decisions of
  ``docs/decisions.md`` where the docs disagree;
* timers (reservation timeout, target timeout, task TTL, purge of finished tasks) live on the
  sandbox clock and fire in due order, from a background thread or from ``/_sandbox/clock``.

Decision where the docs are silent: a task that matches no filter of a workflow without a
``default_filter`` is canceled at once ("Task did not match any workflow filter").

Routing on every change of eligibility. A TaskQueue "distributes Tasks to any Worker in an
'available' activity that meets the TaskQueue's TargetWorkers criteria", higher priority first,
then oldest first (https://www.twilio.com/docs/taskrouter/api/task-queue, "Task assignment
precedence"), and a WorkerChannel takes reservations "until the configured Task Channel
capacity is reached" (https://www.twilio.com/docs/taskrouter/api/worker-channel). So whatever
makes a worker eligible offers it the best waiting task of its queues at once (FIFO kept:
:meth:`Engine.worker_changed` takes the queues' best task first, never the newest), and
whatever makes a task routable offers it the best eligible workers:

* worker created in an available activity -> routed like a move into it;
* activity changed to an available one, attributes updated (may now match a TargetWorkers or
  step expression) -> routed;
* WorkerChannel made available again or its capacity raised -> routed (capacity is what
  multitasking eligibility is made of);
* TaskQueue ``TargetWorkers`` updated -> its waiting tasks are offered to the workers it now
  selects, oldest first; ``MaxReservedWorkers`` raised -> applies when a task is next routed
  (reservations are made "when a task routes to the queue", task-queue page on multi-reservation):
  a task already reserved is not given more reservations;
* task attributes or priority updated -> a pending task is routed again from the first filter
  (https://www.twilio.com/docs/taskrouter/lifecycle-task-workflows-and-assignment);
* workflow configuration updated: only with ``ReEvaluateTasks=true`` are its pending tasks routed
  again; without it they stay where they are ("The default is false, which means Tasks in the
  Workflow will not be processed through the assignment loop again", Update a Workflow in
  https://www.twilio.com/docs/taskrouter/api/workflow) and keep being offered to workers that
  become eligible in their queue;
* a reservation ending by any path (accepted in a single-tasking workspace whose worker stays
  available, rejected, timed out, rescinded, canceled, wrapped up or completed, or its task
  deleted) -> its worker is offered waiting work if it is still eligible, and a task back to
  ``pending`` is routed again (lifecycle-task-state page: "moves back to pending").

Target timeouts count from the task's age, not from entering the step: "Unlike the Reservation
Timeout (which always starts at zero), the queue timeout will be based on the current age of
the Task" (https://www.twilio.com/docs/taskrouter/task-evaluation). Step ``k`` of a filter times
out when the task is ``t0 + ... + tk`` seconds old (counted from its creation, or from when it
entered a later filter after the earlier one timed out).

Decisions where the docs are silent (issue 19): a workflow updated without ``ReEvaluateTasks``
leaves waiting tasks where they are; when one's step times out and its filter/target position
no longer exists in the new configuration (fewer filters or targets, another queue there), it
re-enters the new configuration's routing from the top instead of indexing the old position.
Every timer is contained: one that fails rolls back alone and is listed in the debugger log
(code 20500); the others still fire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from ..api_errors import BadRequest, Gone
from ..models import (
    Activity,
    Call,
    Record,
    Reservation,
    Task,
    TaskQueue,
    Worker,
    Workflow,
    Workspace,
    read_attributes,
    touch,
)
from ..store import Store, Transaction
from ..workflow_config import RoutingConfig, Target, parse_configuration
from . import event_rows, records
from .routing import (
    RoutingIndex,
    has_room,
    in_queue,
    is_available,
    order_workers,
    room,
    step_allows,
)
from .timers import FaultSink, Timers

R = TypeVar("R", bound=Record)
PURGE_AFTER = 300  # finished tasks are deleted 5 minutes later
MAX_ASSIGNMENTS = 1000  # pending -> reserved transitions before a task is canceled
DEFAULT_FILTER = -1


class Engine:
    """Routing and reservations over a store; wired explicitly by its constructor.

    ``timers`` is the schedule it adds to (and :meth:`fire_due` fires from); ``on_fault``
    records a background item that failed and was skipped (a timer: debugger code 20500).
    """

    def __init__(
        self,
        store: Store,
        now: Callable[[], float],
        timers: Timers,
        on_fault: FaultSink,
    ) -> None:
        self.store = store
        self.now = now
        self.timers = timers
        self.on_fault = on_fault
        self.index = RoutingIndex(store)
        store.subscribe(self.index.observe)
        self._configs: dict[tuple[str, int, str], RoutingConfig] = {}
        self.rebuild()

    def rebuild(self) -> None:
        """Derive indexes and timers from the stored records (start-up and reset)."""
        self.index.rebuild()
        self.timers.clear()
        for reservation in self.store.all(Reservation):
            if reservation.reservation_status == "pending" and reservation.timeout_at is not None:
                self.timers.schedule(reservation.timeout_at, "reservation", reservation.sid)
        for task in self.store.all(Task):
            self._schedule_task(task)

    # -- workflow -----------------------------------------------------------------------------

    def config(self, tx: Transaction, flow: Workflow) -> RoutingConfig:
        key = (flow.sid, int(flow.date_updated * 1000), flow.configuration)
        config = self._configs.get(key)
        if config is None:
            config = parse_configuration(flow.configuration, lambda sid: True)
            self.remember(flow, config)
        return config

    def remember(self, flow: Workflow, config: RoutingConfig | None) -> None:
        """Keep a configuration parsed outside the lock, so routing never parses it under it."""
        if config is None:
            return
        if len(self._configs) > 512:
            self._configs.clear()
        self._configs[(flow.sid, int(flow.date_updated * 1000), flow.configuration)] = config

    def current_target(self, tx: Transaction, task: Task) -> Target | None:
        flow = tx.get(task.workflow_sid or "", Workflow)
        if not isinstance(flow, Workflow) or task.filter_index is None:
            return None
        try:
            config = self.config(tx, flow)
        except BadRequest:  # stored by an older sandbox, no longer valid: no step conditions
            return None  # (its step timer fails apart, listed in the debugger log)
        return _target_at(config, task)

    def task_created(self, tx: Transaction, task: Task, now: float) -> Task:
        # task.created already names the queue the workflow puts the task in, as Twilio's
        # recorded task.created events do (TaskQueueSid, TaskQueueName, ...).
        queue_sid = self._placement(tx, task)
        placed = replace(task, task_queue_sid=queue_sid, task_queue_entered_date=now)
        event_rows.emit(
            tx,
            now,
            "task.created",
            task,
            f"Task {task.sid} created",
            event_rows.task_fields(tx, placed if queue_sid else task, now),
        )
        event_rows.emit(
            tx,
            now,
            "workflow.entered",
            task,
            f"Task {task.sid} entered Workflow",
            event_rows.task_fields(tx, task, now),
        )
        task = self._route(tx, task, now, first_filter=0, allow_default=True)
        self._schedule_task(task)
        return task

    def _placement(self, tx: Transaction, task: Task) -> str | None:
        """The queue a new task's workflow puts it in first (None: it matches nothing)."""
        flow = tx.get(task.workflow_sid or "", Workflow)
        if not isinstance(flow, Workflow):
            return None
        config = self.config(tx, flow)
        doc = read_attributes(task.attributes)
        for routing_filter in config.filters:
            if routing_filter.expression.evaluate(doc) and routing_filter.targets:
                return routing_filter.targets[0].queue
        return config.default.queue if config.default is not None else None

    def _route(
        self, tx: Transaction, task: Task, now: float, first_filter: int, allow_default: bool
    ) -> Task:
        """Place the task at the first matching filter from ``first_filter`` (or the default)."""
        flow = tx.get(task.workflow_sid or "", Workflow)
        if not isinstance(flow, Workflow):
            return task
        config = self.config(tx, flow)
        doc = read_attributes(task.attributes)
        # From the top the steps' timeouts count from the task's creation (its age); a later
        # filter reached after a timeout counts from the moment it is entered.
        base = task.date_created if first_filter == 0 else now
        for position in range(first_filter, len(config.filters)):
            if config.filters[position].expression.evaluate(doc):
                return self._enter_step(tx, task, now, position, 0, base)
        if allow_default and config.default is not None:
            return self._enter_step(tx, task, now, DEFAULT_FILTER, 0, base)
        reason = (
            "Task canceled on Workflow timeout"
            if task.filter_index is not None
            else "Task did not match any workflow filter"
        )
        event = "workflow.timeout" if task.filter_index is not None else "workflow.skipped"
        event_rows.emit(
            tx,
            now,
            event,
            task,
            f"Task {task.sid} left the workflow: {reason}",
            event_rows.task_fields(tx, task, now),
        )
        return self.cancel(tx, task, reason, now)

    def _enter_step(
        self, tx: Transaction, task: Task, now: float, filter_index: int, target_index: int,
        base: float,
    ) -> Task:  # fmt: skip
        flow = tx.get(task.workflow_sid or "", Workflow)
        assert isinstance(flow, Workflow)
        config = self.config(tx, flow)
        if filter_index == DEFAULT_FILTER:
            assert config.default is not None
            target, name = config.default, "Default Filter"
        else:
            routing_filter = config.filters[filter_index]
            target, name = routing_filter.targets[target_index], routing_filter.name
        queue = tx.get(target.queue, TaskQueue)
        if not isinstance(queue, TaskQueue):  # deleted since the workflow was saved
            return self.cancel(tx, task, f"TaskQueue {target.queue} no longer exists", now)
        moved = task.task_queue_sid is not None and task.task_queue_sid != queue.sid
        changes: dict[str, Any] = {
            "filter_index": filter_index,
            "target_index": target_index,
            "step_deadline": base + target.timeout if target.timeout else None,
        }
        if task.task_queue_sid != queue.sid:
            changes.update(task_queue_sid=queue.sid, task_queue_entered_date=now)
        if target.priority is not None:
            changes["priority"] = target.priority
        task = tx.put(touch(task, now, **changes))
        fields = event_rows.task_fields(tx, task, now)
        event_rows.emit(
            tx,
            now,
            "workflow.target-matched",
            task,
            f"Task {task.sid} matched {name} target {target_index}",
            {**fields, "workflow_filter_name": name, "workflow_filter_target": queue.sid},
        )
        if moved:
            event_rows.emit(
                tx,
                now,
                "task-queue.moved",
                task,
                f"Task {task.sid} moved to TaskQueue {queue.friendly_name}",
                fields,
            )
        if moved or "task_queue_entered_date" in changes:
            event_rows.emit(
                tx,
                now,
                "task-queue.entered",
                task,
                f"Task {task.sid} entered TaskQueue {queue.friendly_name}",
                fields,
            )
        if task.step_deadline is not None:
            # A step entered when the task is already older than its timeout (re-evaluated
            # after a workflow edit) times out now, not at the past deadline: what follows
            # (the next step, a cancel, the purge five minutes later) happens from now on.
            self.timers.schedule(max(task.step_deadline, now), "step", task.sid)
        offered = self.offer(tx, task, now)
        if offered.assignment_status == "pending" and target.skip_if is not None:
            if target.skip_if.evaluate({"workers": self._presence(tx, queue)}):
                return self._next_step(tx, offered, now, skipped=True)
        return offered

    def _next_step(self, tx: Transaction, task: Task, now: float, skipped: bool = False) -> Task:
        """The current step timed out (or was skipped): next target, next filter, or out."""
        flow = tx.get(task.workflow_sid or "", Workflow)
        if not isinstance(flow, Workflow) or task.filter_index is None:
            return task
        try:
            config = self.config(tx, flow)
        except BadRequest as error:  # stored by an older sandbox and no longer valid
            what = f"workflow {flow.sid} no longer parses: task {task.sid} stays in its queue"
            self.on_fault("timer", task.sid, what, error)
            return tx.put(touch(task, now, step_deadline=None))
        queue = tx.get(task.task_queue_sid or "", TaskQueue)
        if not skipped and isinstance(queue, TaskQueue):
            event_rows.emit(
                tx,
                now,
                "task-queue.timeout",
                task,
                f"Task {task.sid} timed out of TaskQueue {queue.friendly_name}",
                event_rows.task_fields(tx, task, now),
            )
        if task.filter_index == DEFAULT_FILTER:
            return task  # the default filter has no timeout and nowhere further to go
        if _target_at(config, task) is None:
            # The workflow was edited under the task (fewer filters or targets, another queue
            # there): its old position means nothing in the new configuration, so the task
            # re-enters the new configuration's routing from the top instead of indexing it.
            return self._route(tx, task, now, first_filter=0, allow_default=True)
        targets = config.filters[task.filter_index].targets
        if task.target_index + 1 < len(targets):
            # The next step's timeout adds to this one's: both count from the task's age.
            base = task.step_deadline if task.step_deadline is not None else now
            return self._enter_step(tx, task, now, task.filter_index, task.target_index + 1, base)
        # Out of targets: later filters may still match; a skipped task may reach the default.
        return self._route(tx, task, now, task.filter_index + 1, allow_default=skipped)

    def _presence(self, tx: Transaction, queue: TaskQueue) -> dict[str, int]:
        """``workers.available``, ``workers.unavailable`` and ``workers.WA…`` for ``skip_if``."""
        counts = {"available": 0, "unavailable": 0}
        for sid in self.index.members(queue):
            worker = tx.get(sid, Worker)
            if not isinstance(worker, Worker):
                continue
            counts["available" if is_available(tx, worker) else "unavailable"] += 1
            counts[worker.activity_sid] = counts.get(worker.activity_sid, 0) + 1
        return counts

    def workflow_changed(self, tx: Transaction, flow: Workflow, now: float) -> None:
        """``ReEvaluateTasks=true``: pending tasks of the workflow are routed again."""
        for task in list(tx.group(Task, "workspace_sid", flow.workspace_sid).values()):
            if isinstance(task, Task) and task.workflow_sid == flow.sid:
                if task.assignment_status == "pending":
                    self._route(tx, task, now, first_filter=0, allow_default=True)

    def task_changed(self, tx: Transaction, task: Task, now: float) -> Task:
        """Attributes or priority changed: a waiting task is routed again from the top."""
        if task.assignment_status != "pending":
            return task
        return self._route(tx, task, now, first_filter=0, allow_default=True)

    def queue_changed(self, tx: Transaction, queue: TaskQueue, now: float) -> None:
        """A queue's target or settings changed: its waiting tasks, oldest first, are offered
        to the workers it selects now (the index's members still follow the old target until
        this transaction commits, so they are worked out here)."""
        workers = tx.group(Worker, "workspace_sid", queue.workspace_sid).values()
        members = {w.sid for w in workers if isinstance(w, Worker) and in_queue(tx, w, queue)}
        for sid in list(self.index.waiting(queue.sid)):
            task = tx.get(sid, Task)
            if isinstance(task, Task) and task.assignment_status == "pending":
                self.offer(tx, task, now, members)

    # -- reserving ----------------------------------------------------------------------------

    def offer(
        self, tx: Transaction, task: Task, now: float, members: set[str] | None = None
    ) -> Task:
        """Reserve the best eligible workers of the task's current step (up to the queue's max)."""
        if task.assignment_status != "pending" or not task.task_queue_sid:
            return task
        queue = tx.get(task.task_queue_sid, TaskQueue)
        ws = tx.get(task.workspace_sid, Workspace)
        if not isinstance(queue, TaskQueue) or not isinstance(ws, Workspace):
            return task
        target = self.current_target(tx, task)
        eligible = []
        for sid in self.index.candidates(tx, queue) if members is None else members:
            worker = tx.get(sid, Worker)
            if (
                isinstance(worker, Worker)
                and is_available(tx, worker)
                and in_queue(tx, worker, queue)
                and has_room(tx, worker, task, ws.multi_task_enabled)
                and step_allows(tx, worker, task, target)
            ):
                eligible.append(worker)
        chosen = order_workers(eligible, target)[: queue.max_reserved_workers]
        if not chosen:
            return task
        task = tx.put(touch(task, now, assignment_status="reserved", offers=task.offers + 1))
        flow = tx.get(task.workflow_sid or "", Workflow)
        timeout = flow.task_reservation_timeout if isinstance(flow, Workflow) else 120
        for worker in chosen:
            self._reserve(tx, task, worker, queue, ws, timeout, now)
        return task

    def _reserve(
        self, tx: Transaction, task: Task, worker: Worker, queue: TaskQueue, ws: Workspace,
        timeout: int, now: float,
    ) -> Reservation:  # fmt: skip
        reservation = records.create(
            tx, Reservation, task, now, task_sid=task.sid, worker_sid=worker.sid,
            task_queue_sid=queue.sid, workflow_sid=task.workflow_sid, timeout_at=now + timeout,
            previous_activity_sid=worker.activity_sid,
        )  # fmt: skip
        event_rows.emit(
            tx,
            now,
            "reservation.created",
            reservation,
            f"Reservation {reservation.sid} created for worker {worker.friendly_name}",
            self._reservation_fields(tx, reservation, now),
        )
        if not ws.multi_task_enabled and queue.reservation_activity_sid:
            self.move_worker(tx, worker, queue.reservation_activity_sid, now)
        self.timers.schedule(reservation.timeout_at or now, "reservation", reservation.sid)
        return reservation

    def worker_changed(self, tx: Transaction, worker: Worker, now: float) -> None:
        """The worker may take work now: give it the best waiting tasks of its queues."""
        ws = tx.get(worker.workspace_sid, Workspace)
        if not isinstance(ws, Workspace):
            return
        queues: list[TaskQueue] | None = None  # worked out once it is known to be needed
        for _ in range(64):  # one task per round; multi-tasking workers take several
            current = tx.get(worker.sid, Worker)
            if not isinstance(current, Worker) or not is_available(tx, current):
                return  # (accept calls this after the next reservation moved it: often here)
            if queues is None:
                queues = [
                    q for q in tx.group(TaskQueue, "workspace_sid", worker.workspace_sid).values()
                    if isinstance(q, TaskQueue) and in_queue(tx, worker, q)
                ]  # fmt: skip
            best: tuple[Any, Task] | None = None
            for queue in queues:
                task = self._first_for(tx, queue, current, ws)
                if task is not None:
                    age = task.virtual_start_time
                    key = (-task.priority, age if ws.prioritize_queue_order == "FIFO" else -age)
                    if best is None or key < best[0]:
                        best = (key, task)
            if best is None:
                return
            task = best[1]
            queue = _get(tx, task.task_queue_sid or "", TaskQueue)
            flow = tx.get(task.workflow_sid or "", Workflow)
            timeout = flow.task_reservation_timeout if isinstance(flow, Workflow) else 120
            tx.put(touch(task, now, assignment_status="reserved", offers=task.offers + 1))
            self._reserve(tx, task, current, queue, ws, timeout, now)

    def _first_for(
        self, tx: Transaction, queue: TaskQueue, worker: Worker, ws: Workspace
    ) -> Task | None:
        """The queue's best waiting task this worker may take (None when it has no room)."""
        space = room(tx, worker, ws.multi_task_enabled)
        if not space.any:
            return None
        for sid in self.index.waiting(queue.sid):
            task = tx.get(sid, Task)
            if (
                isinstance(task, Task)
                and task.assignment_status == "pending"
                and task.task_queue_sid == queue.sid
                and space.allows(task)
                and step_allows(tx, worker, task, self.current_target(tx, task))
            ):
                return task
        return None

    # -- reservation outcomes -------------------------------------------------------------

    def accept(self, tx: Transaction, reservation: Reservation, now: float) -> Reservation:
        task = _get(tx, reservation.task_sid, Task)
        worker = _get(tx, reservation.worker_sid, Worker)
        reservation = tx.put(touch(reservation, now, reservation_status="accepted"))
        task = tx.put(touch(task, now, assignment_status="assigned", step_deadline=None))
        event_rows.emit(
            tx,
            now,
            "reservation.accepted",
            reservation,
            f"Reservation {reservation.sid} accepted by {worker.friendly_name}",
            self._reservation_fields(tx, reservation, now),
        )
        for other in list(tx.group(Reservation, "task_sid", task.sid).values()):
            if isinstance(other, Reservation) and other.reservation_status == "pending":
                self._end(tx, other, "rescinded", None, now)
        ws = _get(tx, task.workspace_sid, Workspace)
        queue = tx.get(reservation.task_queue_sid or "", TaskQueue)
        if not ws.multi_task_enabled and isinstance(queue, TaskQueue):
            if queue.assignment_activity_sid:
                self.move_worker(tx, worker, queue.assignment_activity_sid, now)
            # Single-tasking: no pending reservation any more; a worker left in an available
            # activity (no assignment activity) is eligible again (decision 2, docs/decisions.md).
            self.worker_changed(tx, _get(tx, worker.sid, Worker), now)
        return _get(tx, reservation.sid, Reservation)

    def release(self, tx: Transaction, worker_sids: list[str], now: float) -> None:
        """Workers whose reservations were removed (their task deleted) have room again."""
        for sid in dict.fromkeys(worker_sids):
            worker = tx.get(sid, Worker)
            if isinstance(worker, Worker):
                self.worker_changed(tx, worker, now)

    def reject(
        self, tx: Transaction, reservation: Reservation, activity_sid: str | None, now: float
    ) -> Reservation:
        return self._end(tx, reservation, "rejected", activity_sid, now)

    def timeout(self, tx: Transaction, reservation: Reservation, now: float) -> Reservation:
        ws = _get(tx, reservation.workspace_sid, Workspace)
        return self._end(tx, reservation, "timeout", ws.timeout_activity_sid, now)

    def _end(
        self, tx: Transaction, reservation: Reservation, status: str, activity_sid: str | None,
        now: float,
    ) -> Reservation:  # fmt: skip
        """rejected / timeout / rescinded / canceled: close it, move the worker, free the task."""
        reservation = tx.put(touch(reservation, now, reservation_status=status))
        event_rows.emit(
            tx,
            now,
            f"reservation.{status}",
            reservation,
            f"Reservation {reservation.sid} {status}",
            self._reservation_fields(tx, reservation, now),
        )
        worker = tx.get(reservation.worker_sid, Worker)
        ws = _get(tx, reservation.workspace_sid, Workspace)
        if isinstance(worker, Worker):
            target = activity_sid
            if target is None and not ws.multi_task_enabled and status != "timeout":
                target = reservation.previous_activity_sid  # decision 5 (docs/decisions.md)
            if target:
                self.move_worker(tx, worker, target, now)
            # Its room is free again, also when its activity did not change (multi-tasking,
            # or already back in an available activity): offer it the waiting work.
            self.worker_changed(tx, _get(tx, worker.sid, Worker), now)
        task = tx.get(reservation.task_sid, Task)
        if not isinstance(task, Task) or task.assignment_status != "reserved":
            return reservation
        if any(
            isinstance(r, Reservation) and r.reservation_status == "pending"
            for r in tx.group(Reservation, "task_sid", task.sid).values()
        ):
            return reservation  # multi-reservation: the task waits for the others
        task = tx.put(touch(task, now, assignment_status="pending"))
        if task.offers >= MAX_ASSIGNMENTS:
            self.cancel(tx, task, "Max Assignment Count reached", now)
        elif task.step_deadline is not None and task.step_deadline <= now:
            self._next_step(tx, task, now)
        else:
            self.offer(tx, task, now)
        return _get(tx, reservation.sid, Reservation)

    # -- task outcomes -------------------------------------------------------------------

    def cancel(self, tx: Transaction, task: Task, reason: str, now: float) -> Task:
        for reservation in list(tx.group(Reservation, "task_sid", task.sid).values()):
            if isinstance(reservation, Reservation) and reservation.reservation_status == "pending":
                self._close(tx, reservation, "canceled", now)
        task = _get(tx, task.sid, Task)
        task = tx.put(touch(task, now, assignment_status="canceled", reason=reason,
                            step_deadline=None))  # fmt: skip
        event_rows.emit(
            tx,
            now,
            "task.canceled",
            task,
            f"Task {task.sid} canceled: {reason}",
            {**event_rows.task_fields(tx, task, now), "task_canceled_reason": reason},
        )
        self.timers.schedule(now + PURGE_AFTER, "purge", task.sid)
        return task

    def task_status_changed(
        self, tx: Transaction, task: Task, status: str, reason: str | None, now: float
    ) -> Task:
        if status == "canceled":
            return self.cancel(tx, task, reason or "", now)
        closing = "completed" if status == "completed" else "wrapping"
        for reservation in list(tx.group(Reservation, "task_sid", task.sid).values()):
            if isinstance(reservation, Reservation) and reservation.reservation_status in (
                "accepted", "wrapping",
            ):  # fmt: skip
                if reservation.reservation_status != closing:
                    self._close(tx, reservation, closing, now)
        task = tx.put(touch(_get(tx, task.sid, Task), now, assignment_status=status,
                            reason=reason if status == "completed" else task.reason))  # fmt: skip
        fields = event_rows.task_fields(tx, task, now)
        if status == "completed":
            event_rows.emit(
                tx,
                now,
                "task.completed",
                task,
                f"Task {task.sid} completed",
                {**fields, "task_completed_reason": reason},
            )
            self.timers.schedule(now + PURGE_AFTER, "purge", task.sid)
        else:
            event_rows.emit(tx, now, "task.wrapup", task, f"Task {task.sid} wrapping up", fields)
        # A multi-tasking worker has capacity again (single-tasking activity does not change).
        for reservation in tx.group(Reservation, "task_sid", task.sid).values():
            worker = tx.get(reservation.worker_sid, Worker)
            if isinstance(worker, Worker):
                self.worker_changed(tx, worker, now)
        return task

    def task_deleted(self, tx: Transaction, task: Task, now: float) -> None:
        for reservation in list(tx.group(Reservation, "task_sid", task.sid).values()):
            if isinstance(reservation, Reservation) and reservation.reservation_status == "pending":
                self._close(tx, reservation, "canceled", now)

    def _close(self, tx: Transaction, reservation: Reservation, status: str, now: float) -> None:
        """A reservation ends because its task ended (canceled / wrapping / completed)."""
        event_type = {"canceled": "reservation.canceled", "completed": "reservation.completed",
                      "wrapping": "reservation.wrapup"}[status]  # fmt: skip
        reservation = tx.put(touch(reservation, now, reservation_status=status))
        event_rows.emit(
            tx,
            now,
            event_type,
            reservation,
            f"Reservation {reservation.sid} {status}",
            self._reservation_fields(tx, reservation, now),
        )
        ws = _get(tx, reservation.workspace_sid, Workspace)
        worker = tx.get(reservation.worker_sid, Worker)
        if status == "canceled" and isinstance(worker, Worker):
            if not ws.multi_task_enabled and reservation.previous_activity_sid:
                self.move_worker(tx, worker, reservation.previous_activity_sid, now)
            self.worker_changed(tx, _get(tx, worker.sid, Worker), now)  # its room is free again

    # -- workers --------------------------------------------------------------------------

    def move_worker(self, tx: Transaction, worker: Worker, activity_sid: str, now: float) -> Worker:
        """TaskRouter moving a worker to an activity, with its ``worker.activity.update``."""
        current = _get(tx, worker.sid, Worker)
        if current.activity_sid == activity_sid:
            return current
        previous = tx.get(current.activity_sid, Activity)
        spent = now - current.date_status_changed
        moved = tx.put(touch(current, now, activity_sid=activity_sid, date_status_changed=now))
        activity = tx.get(activity_sid, Activity)
        event_rows.emit(
            tx, now, "worker.activity.update", moved,
            f"Worker {moved.friendly_name} updated to "
            f"{getattr(activity, 'friendly_name', activity_sid)} Activity",
            {**event_rows.worker_fields(tx, moved),
             "worker_previous_activity_sid": getattr(previous, "sid", None),
             "worker_previous_activity_name": getattr(previous, "friendly_name", None),
             "worker_time_in_previous_activity": int(spent),
             "worker_time_in_previous_activity_ms": int(spent * 1000)},
        )  # fmt: skip
        if isinstance(activity, Activity) and activity.available:
            self.worker_changed(tx, moved, now)
        return _get(tx, worker.sid, Worker)

    def reject_pending(self, tx: Transaction, worker: Worker, now: float) -> None:
        """``RejectPendingReservations=true`` with a move to an unavailable activity."""
        if is_available(tx, worker):
            return
        for reservation in list(tx.group(Reservation, "worker_sid", worker.sid).values()):
            if isinstance(reservation, Reservation) and reservation.reservation_status == "pending":
                self._end(tx, reservation, "rejected", worker.activity_sid, now)

    # -- timers ---------------------------------------------------------------------------

    def _schedule_task(self, task: Task) -> None:
        if task.assignment_status in ("pending", "reserved"):
            self.timers.schedule(task.date_created + task.timeout, "ttl", task.sid)
            if task.step_deadline is not None:
                self.timers.schedule(task.step_deadline, "step", task.sid)
        elif task.assignment_status in ("canceled", "completed"):
            self.timers.schedule(task.date_updated + PURGE_AFTER, "purge", task.sid)

    def fire_due(self, now: float) -> int:
        """Fire every timer due at ``now``, oldest first, each at its own due time.

        One timer that fails (a bug, or state no one foresaw) is contained: its transaction
        rolls back, :attr:`on_fault` records it in the debugger log, the others still fire.
        """
        fired = 0
        while (timer := self.timers.pop_due(now)) is not None:
            due, kind, sid = timer
            try:
                with self.store.transaction() as tx:
                    if self._fire(tx, kind, sid, due):
                        fired += 1
            except Exception as error:  # one bad timer must not stop the rest
                self.on_fault("timer", sid, f"{kind} timer of {sid} failed", error)
        return fired

    def _fire(self, tx: Transaction, kind: str, sid: str, due: float) -> bool:
        record = tx.get(sid)
        handler = self.timers.handlers.get(kind)
        if handler is not None:  # a timer of another part (the voice side's ring/answer)
            return handler(tx, record, due)
        if kind == "reservation":
            if isinstance(record, Reservation) and record.reservation_status == "pending":
                if record.timeout_at is not None and record.timeout_at <= due:
                    self.timeout(tx, record, due)
                    return True
            return False
        if not isinstance(record, Task):
            return False
        if kind == "ttl" and record.assignment_status in ("pending", "reserved"):
            if record.date_created + record.timeout <= due:
                self.cancel(tx, record, "Task TTL Exceeded", due)
                return True
        elif kind == "step" and record.assignment_status == "pending":
            if record.step_deadline is not None and record.step_deadline <= due:
                self._next_step(tx, record, due)
                return True
        elif kind == "purge" and record.assignment_status in ("canceled", "completed"):
            # Five minutes after it finished, even if its attributes changed since (a final
            # status never changes, so this timer is the one set when it finished).
            for reservation in tx.group(Reservation, "task_sid", sid).values():
                tx.delete(reservation)
            for call in tx.group(Call, "task_sid", sid).values():
                tx.delete(call)
            tx.delete(record)
            return True
        return False

    # -- REST reservation updates ---------------------------------------------------------

    def update_reservation(
        self, tx: Transaction, reservation: Reservation, status: str | None,
        activity_sid: str | None, now: float,
    ) -> Reservation:  # fmt: skip
        current = reservation.reservation_status
        if current == "rescinded":
            raise Gone(f"Reservation {reservation.sid} was rescinded: another worker "
                       "accepted the task")  # fmt: skip
        if status in ("accepted", "rejected"):
            if current != "pending":
                raise BadRequest(f"Reservation {reservation.sid} is {current}; only a pending "
                                 f"reservation can be {status}")  # fmt: skip
            if activity_sid is not None:
                _activity(tx, reservation.workspace_sid, activity_sid, "WorkerActivitySid")
            if status == "accepted":
                return self.accept(tx, reservation, now)
            return self.reject(tx, reservation, activity_sid, now)
        if status in ("wrapping", "completed"):
            allowed = ("accepted",) if status == "wrapping" else ("accepted", "wrapping")
            if current not in allowed:
                raise BadRequest(f"Reservation {reservation.sid} is {current}; it can become "
                                 f"{status} only from {' or '.join(allowed)}")  # fmt: skip
            task = _get(tx, reservation.task_sid, Task)
            if task.assignment_status != status:
                self.task_status_changed(tx, task, status, f"reservation {status}", now)
            return _get(tx, reservation.sid, Reservation)
        raise BadRequest(f"ReservationStatus {status} is set by TaskRouter; a client may set "
                         "accepted, rejected, wrapping or completed")  # fmt: skip

    def _reservation_fields(
        self, tx: Transaction, reservation: Reservation, now: float
    ) -> dict[str, Any]:
        """The event's own time, not the clock's: a timer fired late by a clock jump still
        reports the task's age at the moment the event happened (one time base)."""
        task = tx.get(reservation.task_sid, Task)
        worker = tx.get(reservation.worker_sid, Worker)
        data: dict[str, Any] = {"reservation_sid": reservation.sid}
        if isinstance(task, Task):
            data.update(event_rows.task_fields(tx, task, now))
        if isinstance(worker, Worker):
            data.update(event_rows.worker_fields(tx, worker))
        data["task_queue_sid"] = reservation.task_queue_sid or data.get("task_queue_sid")
        return data


def _target_at(config: RoutingConfig, task: Task) -> Target | None:
    """The target at the task's position in ``config``; None when the position does not
    exist there or names another queue than the task's (the workflow changed since)."""
    if task.filter_index == DEFAULT_FILTER:
        target = config.default
    elif task.filter_index is None or not 0 <= task.filter_index < len(config.filters):
        return None
    else:
        targets = config.filters[task.filter_index].targets
        target = targets[task.target_index] if 0 <= task.target_index < len(targets) else None
    if target is None or (task.task_queue_sid and target.queue != task.task_queue_sid):
        return None
    return target


def _get(tx: Transaction, sid: str, cls: type[R]) -> R:
    """A record the engine's own invariants say exists (a bug otherwise, not a 404)."""
    record = tx.get(sid, cls)
    assert record is not None, f"{sid} is not a {cls.__name__}"
    return record


def _activity(tx: Transaction, workspace_sid: str, sid: str, param: str) -> Activity:
    activity = tx.get(sid, Activity)
    if not isinstance(activity, Activity) or activity.workspace_sid != workspace_sid:
        raise BadRequest(f"{param} {sid!r} is not an activity of this workspace")
    return activity
