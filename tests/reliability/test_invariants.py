"""TaskRouter's invariants under random sequences of operations, faults and restarts.

A Hypothesis state machine drives the real twilio SDK against a real sandbox process, with a
real Flask app answering the assignment callbacks. Its rules create, update, cancel, wrap,
complete and delete tasks, create workers, flip their activities, accept and reject pending
reservations over REST, change what the callback app answers (accept, ``{}``, reject into
Offline, HTTP 500, a body that is not JSON), edit the workflow under waiting tasks (fewer
filters, other queues, step timeouts, a default filter, with or without ReEvaluateTasks), send
hostile input (numbers ``isdigit()`` takes and ``int()`` refuses, 10**400 timeouts, callback
URLs of other schemes, oversized attributes: each must be a 400 that changes nothing), advance
the sandbox clock and restart the sandbox on the same data dir (SIGTERM or SIGKILL). After
every step, once the callback pipeline is quiet, one consistent snapshot read through the SDK
must satisfy:

* a task's ``assignment_status`` agrees with its reservations: reserved <=> one pending at least;
  assigned / wrapping => exactly one accepted / wrapping; no task ever has two accepted;
* a single-tasking worker holds at most one pending reservation and sits in the queue's
  reservation activity (Reserved) while it does, unless the test moved it since; in Reserved
  only with a pending reservation. A multi-tasking worker's activity is only ever the one the
  test chose or the timeout activity, and no channel holds more tasks than its capacity;
* no task disappears except by a deletion the test made or the purge five minutes (sandbox
  clock) after it finished, and a finished task does not outlive its purge;
* the Events resource tells the same story: task.created for every task, reservation.created
  and the event of its current status for every reservation;
* at most one assignment callback per reservation, also across restarts;
* no request is ever answered 5xx, and no background item fails inside the sandbox (the
  debugger log has no code 20500 entry: a timer thread that died would stop every timer).

CI size: 15 runs of 30 steps; ``KIT_LONG=1``: 60 runs of 80 steps.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
import requests
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.reliability.support import report, sandbox_now, scaled, settle
from tests.support.receiver import Receiver
from tests.support.sandbox import SandboxProcess
from tests.support.scenario import Quickstart, build_quickstart

T = TypeVar("T")
PURGE_AFTER = 300  # finished tasks are deleted five minutes later (sandbox clock)
SLACK = 2.0  # seconds of sandbox time a wall-clock timer may take to fire
MAX_WORKERS = 5
HELD = ("accepted", "wrapping", "completed")  # a reservation that was accepted at some point
STATS: Counter[str] = Counter()
FAULTS = ("restart_", "answer_http500", "answer_not-json", "hostile_")  # injected faults
SANDBOX_FAULT = 20500  # debugger code of a background item that failed inside the sandbox


@dataclass
class Snapshot:
    tasks: dict[str, Any]
    workers: dict[str, Any]
    reservations: list[Any]
    channels: dict[str, list[Any]]
    events: list[Any]
    now: float  # sandbox clock, read after everything else

    def pending(self) -> list[Any]:
        return [r for r in self.reservations if r.reservation_status == "pending"]

    def tasks_in(self, *statuses: str) -> list[Any]:
        return [t for t in self.tasks.values() if t.assignment_status in statuses]


@dataclass
class Known:
    """What the test knows about a task it created."""

    deleted: bool = False
    last_updated: float = 0.0  # date_updated as last seen (whole seconds)


@dataclass
class World:
    sandbox: SandboxProcess
    receiver: Receiver
    # (sandbox clock, receiver's callback count) when the sandbox process or the run started
    started: tuple[float, int] = (0.0, 0)

    def mark(self) -> None:
        self.started = (sandbox_now(self.sandbox), len(self.receiver.requests("/assignment")))


def sdk(call: Callable[[], T]) -> T | TwilioRestException:
    """Run an SDK call; a refusal comes back as the exception, never a 5xx."""
    try:
        return call()
    except TwilioRestException as error:
        assert error.status < 500, f"{error.status} from the sandbox: {error.msg}"
        STATS["refused"] += 1
        return error


def workflow_shape(
    queues: dict[str, str], shape: str, timeout: int
) -> tuple[dict[str, Any], set[str]]:
    """A workflow configuration over the quickstart's queues, and the languages it routes."""
    spanish = {"filter_friendly_name": "Spanish", "expression": 'selected_language == "es"',
               "targets": [{"queue": queues["Spanish"]}]}  # fmt: skip
    english = {"filter_friendly_name": "English", "expression": 'selected_language == "en"',
               "targets": [{"queue": queues["English"]}]}  # fmt: skip
    if shape == "timeouts":  # step timeouts: Spanish tasks overflow to English after a while
        spanish["targets"] = [{"queue": queues["Spanish"], "timeout": timeout},
                              {"queue": queues["English"], "timeout": timeout}]  # fmt: skip
        english["targets"] = [{"queue": queues["English"], "timeout": timeout}]
        return {"task_routing": {"filters": [spanish, english]}}, {"es", "en"}
    if shape == "fewer":  # the English filter goes; everything else lands in Spanish
        english["targets"] = [{"queue": queues["English"], "timeout": timeout}]
        routing = {"filters": [english], "default_filter": {"queue": queues["Spanish"]}}
        return {"task_routing": routing}, {"es", "en", "fr"}
    if shape == "fewer_no_default":
        return {"task_routing": {"filters": [spanish]}}, {"es"}
    if shape == "swapped":
        english["targets"] = [{"queue": queues["English"], "timeout": timeout}]
        return {"task_routing": {"filters": [english, spanish]}}, {"es", "en"}
    return {"task_routing": {"filters": [spanish, english]}}, {"es", "en"}


def _flow_path(qs: Quickstart) -> str:
    return f"/v1/Workspaces/{qs.sid}/Workflows/{qs.workflow_sid}"


def _huge_timeout(qs: Quickstart, task_sid: str | None) -> tuple[str, str, dict[str, str]]:
    configuration = {"task_routing": {"filters": [{"expression": "1==1", "targets": [
        {"queue": qs.queues["English"], "timeout": 10**400}]}]}}  # fmt: skip
    return "POST", _flow_path(qs), {"Configuration": json.dumps(configuration)}


def _superscript_priority(qs: Quickstart, task_sid: str | None) -> tuple[str, str, dict[str, str]]:
    configuration = {"task_routing": {"filters": [{"expression": "1==1", "targets": [
        {"queue": qs.queues["English"], "priority": "²"}]}]}}  # fmt: skip
    return "POST", _flow_path(qs), {"Configuration": json.dumps(configuration)}


HostileRequest = tuple[str, str | None, dict[str, str]]
HOSTILE: dict[str, Callable[[Quickstart, str | None], HostileRequest]] = {
    "target_timeout_10e400": _huge_timeout,
    "target_priority_superscript": _superscript_priority,
    "page_token_superscript": lambda qs, t: (
        "GET", f"/v1/Workspaces/{qs.sid}/Tasks?PageToken=PT%C2%B2", {}),
    "page_token_5000_digits": lambda qs, t: (
        "GET", f"/v1/Workspaces/{qs.sid}/Tasks?PageToken=PT{'9' * 5000}", {}),
    "task_priority_arabic_digits": lambda qs, t: (
        "POST", f"/v1/Workspaces/{qs.sid}/Tasks/{t}" if t else None, {"Priority": "١٢"}),
    "task_timeout_huge": lambda qs, t: (
        "POST", f"/v1/Workspaces/{qs.sid}/Tasks",
        {"WorkflowSid": qs.workflow_sid, "Timeout": "1" * 5000}),
    "event_callback_file_url": lambda qs, t: (
        "POST", f"/v1/Workspaces/{qs.sid}", {"EventCallbackUrl": "file:///etc/passwd"}),
    "assignment_callback_gopher": lambda qs, t: (
        "POST", _flow_path(qs), {"AssignmentCallbackUrl": "gopher://127.0.0.1:25/x"}),
    "attributes_oversized": lambda qs, t: (
        "POST", f"/v1/Workspaces/{qs.sid}/Tasks/{t}" if t else None,
        {"Attributes": json.dumps({"x": "y" * 5000})}),
    "configuration_unknown_queue": lambda qs, t: (
        "POST", _flow_path(qs), {"Configuration": json.dumps({"task_routing": {
            "filters": [], "default_filter": {"queue": "WQ" + "0" * 32}}})}),
}  # fmt: skip


def raw_request(
    sandbox: SandboxProcess, method: str, path: str, form: dict[str, str]
) -> requests.Response:
    """A request the SDK would not send (its own types refuse such values)."""
    auth = (sandbox.account_sid, sandbox.auth_token)
    url = f"{sandbox.url}{path}"
    if method == "GET":
        return requests.get(url, auth=auth, timeout=30)
    return requests.post(url, data=form, auth=auth, timeout=30)


class TaskRouterMachine(RuleBasedStateMachine):
    world: ClassVar[World]

    def __init__(self) -> None:
        super().__init__()
        self.qs: Quickstart | None = None
        self.snap: Snapshot | None = None
        self.known: dict[str, Known] = {}
        self.multi = False
        # worker -> its pending reservations when the test changed its activity (the worker
        # no longer sits in Reserved for those, as TaskRouter documents)
        self.exempt: dict[str, set[str]] = defaultdict(set)
        self.chosen: dict[str, str] = {}  # worker -> activity the test last set (multi-tasking)
        self.workers_made = 0
        self.routed = {"es", "en"}  # languages the current workflow routes (others: canceled)
        self.steps_since_restart = 0
        self.since: datetime = datetime.now(timezone.utc)
        self.event_mark = self.since  # events before it are all in self.events already
        self.events: dict[str, Any] = {}

    # -- set-up ---------------------------------------------------------------------------

    @initialize(
        multi=st.booleans(),
        max_reserved=st.sampled_from([1, 2]),
        timeout=st.sampled_from([120, 600]),
        workers=st.tuples(st.integers(1, 3), st.integers(1, 3), st.booleans(), st.booleans()),
        tasks=st.lists(st.sampled_from(["en", "es"]), max_size=4),
    )
    def build(
        self,
        multi: bool,
        max_reserved: int,
        timeout: int,
        workers: tuple[int, int, bool, bool],
        tasks: list[str],
    ) -> None:
        """A quickstart workspace; Alice and Bob with channel capacities, maybe Idle already,
        and a few tasks waiting (rules may be switched off in a run: start with work)."""
        world = self.world
        world.sandbox.reset()
        world.mark()
        world.receiver.answer("/assignment", body={})
        self.since = datetime.fromtimestamp(sandbox_now(world.sandbox) - 60, timezone.utc)
        self.event_mark = self.since
        self.multi = multi
        qs = self.qs = build_quickstart(
            world.sandbox.client(),
            world.receiver.url("/assignment"),
            multi_task=multi,
            max_reserved_workers=max_reserved,
            reservation_timeout=timeout,
        )
        capacities, idle = workers[:2], workers[2:]
        for name, capacity, starts_idle in zip(("Alice", "Bob"), capacities, idle, strict=True):
            sid = qs.workers[name]
            if multi:
                qs.ws.workers(sid).worker_channels("default").update(capacity=capacity)
            self.chosen[sid] = "Idle" if starts_idle else "Offline"
            if starts_idle:
                qs.set_activity(name, "Idle")
        for language in tasks:
            task = qs.create_task(selected_language=language)
            self.known[task.sid] = Known(last_updated=task.date_updated.timestamp())
        STATS["runs"] += 1

    # -- tasks ------------------------------------------------------------------------------
    # Which rule runs may depend only on the test's own model (Hypothesis replays choices):
    # rules that need something in the sandbox's state do nothing when it is not there.

    @rule(
        language=st.sampled_from(["en", "es", "fr"]),
        priority=st.integers(0, 5),
        ttl=st.sampled_from([None, 300, 3000]),
    )
    def create_task(self, language: str, priority: int, ttl: int | None) -> None:
        qs = self._qs()
        kwargs: dict[str, Any] = {"timeout": ttl} if ttl else {}
        task = qs.ws.tasks.create(
            attributes=json.dumps({"selected_language": language}),
            workflow_sid=qs.workflow_sid,
            priority=priority,
            **kwargs,
        )
        self.known[task.sid] = Known(last_updated=task.date_updated.timestamp())
        # A language the workflow does not route ("fr"; "en" with the English filter edited
        # away and no default) matches no filter: canceled at once (the documented decision).
        wanted = ("pending", "reserved") if language in self.routed else ("canceled",)
        assert task.assignment_status in wanted, (language, task.assignment_status)
        STATS["create_task"] += 1

    @precondition(lambda self: self._live_tasks())
    @rule(
        op=st.sampled_from(["update", "cancel", "delete"]),
        pick=st.integers(0, 999),
        priority=st.integers(0, 5),
        language=st.sampled_from(["en", "es", None]),
    )
    def change_task(self, op: str, pick: int, priority: int, language: str | None) -> None:
        """Update (any task, finished ones too), cancel or delete one of the test's tasks."""
        sid = self._pick(self._live_tasks(), pick)
        context = self._qs().ws.tasks(sid)
        before = sdk(context.fetch)
        if isinstance(before, TwilioRestException):  # purged since the snapshot
            assert before.status == 404 and self._terminal(sid), before.msg
            return
        if op == "update":
            changes: dict[str, Any] = {"priority": priority}
            if language is not None:
                changes["attributes"] = json.dumps({"selected_language": language})
            result = sdk(lambda: context.update(**changes))
            assert not isinstance(result, TwilioRestException), result
        elif op == "cancel":
            result = sdk(lambda: context.update(assignment_status="canceled", reason="test"))
            if before.assignment_status in ("pending", "reserved"):
                assert not isinstance(result, TwilioRestException), result
                assert result.assignment_status == "canceled"
                reservations = self._qs().reservations(sid)
                assert all(r.reservation_status != "pending" for r in reservations)
            else:
                assert isinstance(result, TwilioRestException) and result.status == 400, result
        else:
            assert sdk(context.delete) is True
            self.known[sid].deleted = True
            gone = sdk(context.fetch)
            assert isinstance(gone, TwilioRestException) and gone.status == 404
        STATS[f"{op}_task"] += 1

    @precondition(lambda self: self.qs is not None)
    @rule(pick=st.integers(0, 999), wrap_first=st.booleans())
    def finish_task(self, pick: int, wrap_first: bool) -> None:
        """Wrap up or complete an assigned task (nothing to do when none is assigned)."""
        assigned = self.snap.tasks_in("assigned", "wrapping") if self.snap else []
        if not assigned:
            STATS["nothing_to_do"] += 1
            return
        task = self._pick(assigned, pick)
        ws = self._qs().ws
        status = "wrapping" if wrap_first and task.assignment_status == "assigned" else "completed"
        result = sdk(lambda: ws.tasks(task.sid).update(assignment_status=status, reason="done"))
        assert not isinstance(result, TwilioRestException), result
        assert result.assignment_status == status
        STATS[f"task_{status}"] += 1

    # -- workers ----------------------------------------------------------------------------

    @precondition(lambda self: self.qs is not None and len(self.chosen) < MAX_WORKERS)
    @rule(
        languages=st.sets(st.sampled_from(["en", "es"]), min_size=1),
        capacity=st.integers(1, 3),
    )
    def create_worker(self, languages: set[str], capacity: int) -> None:
        qs = self._qs()
        self.workers_made += 1
        worker = qs.ws.workers.create(
            friendly_name=f"Worker{self.workers_made}",
            attributes=json.dumps({"languages": sorted(languages)}),
        )
        assert worker.activity_name == "Offline"
        self.chosen[worker.sid] = "Offline"
        if self.multi:
            qs.ws.workers(worker.sid).worker_channels("default").update(capacity=capacity)
        STATS["create_worker"] += 1

    @precondition(lambda self: self.qs is not None)
    @rule(
        pick=st.integers(0, 999),
        activity=st.sampled_from(["Idle", "Idle", "Offline", "Busy"]),  # mostly back to work
        reject_pending=st.booleans(),
    )
    def flip(self, pick: int, activity: str, reject_pending: bool) -> None:
        qs = self._qs()
        sid = self._pick(list(self.chosen), pick)  # creation order: the same on a replay
        pending = qs.ws.workers(sid).reservations.list(reservation_status="pending")
        worker = qs.ws.workers(sid).update(
            activity_sid=qs.activities[activity], reject_pending_reservations=reject_pending
        )
        self.exempt[sid].update(r.sid for r in pending)  # the test moved the worker since
        self.chosen[sid] = activity
        if self.multi or activity != "Idle":
            assert worker.activity_name == activity
        else:  # single-tasking Idle: reserved at once when a task waits for it
            assert worker.activity_name in ("Idle", "Reserved")
        STATS[f"flip_{activity}"] += 1

    # -- reservations -----------------------------------------------------------------------

    @precondition(lambda self: self.qs is not None)
    @rule(pick=st.integers(0, 999), accept=st.booleans(), into_offline=st.booleans())
    def answer_reservation(self, pick: int, accept: bool, into_offline: bool) -> None:
        """Accept or reject a pending reservation over REST (nothing to do when none is)."""
        pending = self.snap.pending() if self.snap else []
        if not pending:
            STATS["nothing_to_do"] += 1
            return
        chosen = self._pick(pending, pick)
        qs = self._qs()
        context = qs.ws.tasks(chosen.task_sid).reservations(chosen.sid)
        current = sdk(context.fetch)
        if isinstance(current, TwilioRestException):  # its task was purged since
            assert current.status == 404 and self._terminal(chosen.task_sid), current.msg
            return
        if accept:
            result = sdk(lambda: context.update(reservation_status="accepted"))
        else:
            offline = {"worker_activity_sid": qs.activities["Offline"]} if into_offline else {}
            result = sdk(lambda: context.update(reservation_status="rejected", **offline))
        if current.reservation_status == "pending":
            assert not isinstance(result, TwilioRestException), result
            assert result.reservation_status == ("accepted" if accept else "rejected")
            if not accept and into_offline:
                self.chosen[chosen.worker_sid] = "Offline"
        else:
            assert isinstance(result, TwilioRestException) and result.status in (400, 410)
        STATS["rest_accept" if accept else "rest_reject"] += 1

    @precondition(lambda self: self.qs is not None)
    @rule(answer=st.sampled_from(["accept", "later", "reject", "http500", "not-json"]))
    def set_answer(self, answer: str) -> None:
        receiver, qs = self.world.receiver, self._qs()
        if answer == "accept":
            receiver.answer("/assignment", body={"instruction": "accept"})
        elif answer == "later":
            receiver.answer("/assignment", body={})
        elif answer == "reject":
            offline = qs.activities["Offline"]
            receiver.answer("/assignment", body={"instruction": "reject", "activity_sid": offline})
        elif answer == "http500":
            receiver.answer("/assignment", body="boom", status=500, content_type="text/plain")
        else:
            receiver.answer("/assignment", body="{not json")
        STATS[f"answer_{answer}"] += 1

    # -- workflow edits and hostile input ------------------------------------------------

    @precondition(lambda self: self.qs is not None)
    @rule(
        shape=st.sampled_from(["quickstart", "timeouts", "fewer", "fewer_no_default", "swapped"]),
        timeout=st.sampled_from([30, 200, 900]),
        re_evaluate=st.booleans(),
    )
    def edit_workflow(self, shape: str, timeout: int, re_evaluate: bool) -> None:
        """Change the routing under waiting tasks: their filter/step positions may no longer
        exist (the defect that once killed the timer thread for everyone)."""
        qs = self._qs()
        configuration, routed = workflow_shape(qs.queues, shape, timeout)
        flow = sdk(lambda: qs.ws.workflows(qs.workflow_sid).update(
            configuration=json.dumps(configuration), re_evaluate_tasks=re_evaluate,
        ))  # fmt: skip
        assert not isinstance(flow, TwilioRestException), flow
        self.routed = routed
        STATS[f"edit_workflow_{shape}"] += 1

    @precondition(lambda self: self.qs is not None)
    @rule(kind=st.sampled_from(sorted(HOSTILE)), pick=st.integers(0, 999))
    def hostile_input(self, kind: str, pick: int) -> None:
        """A careless or hostile request: a 400 in Twilio's envelope that changes nothing."""
        qs = self._qs()
        before = qs.ws.workflows(qs.workflow_sid).fetch().configuration
        targets = self._live_tasks() or [None]
        task_sid = self._pick(targets, pick)
        method, path, form = HOSTILE[kind](qs, task_sid)
        if path is None:
            STATS["nothing_to_do"] += 1
            return
        response = raw_request(self.world.sandbox, method, path, form)
        assert response.status_code == 400, (kind, response.status_code, response.text[:300])
        body = response.json()
        assert body["status"] == 400 and isinstance(body["code"], int), body
        assert qs.ws.workflows(qs.workflow_sid).fetch().configuration == before
        STATS[f"hostile_{kind}"] += 1

    # -- time and faults -------------------------------------------------------------------

    @precondition(lambda self: self.qs is not None)
    @rule(seconds=st.one_of(st.integers(1, 100), st.integers(1, 1500)))
    def advance(self, seconds: int) -> None:
        self.world.sandbox.advance(seconds)
        STATS["advance"] += 1
        STATS["advanced_seconds"] += seconds

    @precondition(lambda self: self.qs is not None and self.steps_since_restart >= 15)
    @rule(kill=st.booleans())
    def restart(self, kill: bool) -> None:
        world = self.world
        if kill:
            world.sandbox.kill9()
        else:
            world.sandbox.stop()
        world.sandbox.start()
        world.mark()
        self.qs = dataclasses.replace(self._qs(), client=world.sandbox.client())
        self.steps_since_restart = 0
        STATS["restart_sigkill" if kill else "restart_sigterm"] += 1

    def teardown(self) -> None:
        if self.snap is None:
            return
        gone = [s for s, k in self.known.items() if not k.deleted and s not in self.snap.tasks]
        STATS["tasks_purged_on_time"] += len(gone)
        STATS["tasks_alive_at_end"] += len(self.snap.tasks)
        STATS["reservations"] += len(
            {e.resource_sid for e in self.snap.events if e.event_type == "reservation.created"}
        )

    # -- the invariants -------------------------------------------------------------------

    @invariant()
    def consistent(self) -> None:
        if self.qs is None:
            return
        self.steps_since_restart += 1
        STATS["steps"] += 1
        snap = self.snap = self._snapshot()
        events = _events_by_resource(snap.events)
        self._tasks_agree_with_reservations(snap)
        self._workers_agree(snap)
        self._no_worker_idle_beside_waiting_work(snap)
        self._no_task_lost(snap, events)
        self._events_tell_the_story(snap, events)
        self._one_callback_per_reservation(snap, events)

    def _tasks_agree_with_reservations(self, snap: Snapshot) -> None:
        by_task: dict[str, Counter[str]] = defaultdict(Counter)
        for r in snap.reservations:
            assert r.task_sid in snap.tasks, f"reservation {r.sid} of a task that is gone"
            by_task[r.task_sid][r.reservation_status] += 1
        for sid, task in snap.tasks.items():
            count, status = by_task[sid], task.assignment_status
            held = sum(count[s] for s in HELD)
            where = f"task {sid} is {status} with reservations {dict(count)}"
            assert held <= 1, where  # never two accepted reservations
            assert (status == "reserved") == (count["pending"] > 0), where
            if status == "assigned":
                assert count["accepted"] == 1 and held == 1, where
            elif status == "wrapping":
                assert count["wrapping"] == 1 and held == 1, where
            elif status in ("pending", "canceled"):
                assert held == 0, where
            elif status == "completed":
                assert count["accepted"] == count["wrapping"] == 0, where

    def _workers_agree(self, snap: Snapshot) -> None:
        pending: dict[str, list[Any]] = defaultdict(list)
        for r in snap.pending():
            pending[r.worker_sid].append(r)
        for sid, worker in snap.workers.items():
            mine, activity = pending[sid], worker.activity_name
            where = f"worker {worker.friendly_name} in {activity} with {[r.sid for r in mine]}"
            if self.multi:
                assert activity in (self.chosen[sid], "Offline"), (where, self.chosen[sid])
                continue
            assert len(mine) <= 1, where
            if any(r.sid not in self.exempt[sid] for r in mine):
                assert activity == "Reserved", where
            if activity == "Reserved":
                assert mine, where
        if self.multi:
            self._capacity_respected(snap)

    def _no_worker_idle_beside_waiting_work(self, snap: Snapshot) -> None:
        """TaskRouter does not leave an available worker with room idle next to a pending
        task of one of its queues: it reserves the worker at once."""
        language = {self._qs().queues["Spanish"]: "es", self._qs().queues["English"]: "en"}
        waiting = [t for t in snap.tasks_in("pending") if t.task_queue_sid in language]
        load = self._load(snap)
        for sid, worker in snap.workers.items():
            if not worker.available:
                continue
            if self.multi:
                (channel,) = [
                    c for c in snap.channels[sid] if c.task_channel_unique_name == "default"
                ]
                room = channel.available and load[sid] < channel.configured_capacity
            else:
                room = not any(r.worker_sid == sid for r in snap.pending())
            speaks = json.loads(worker.attributes)["languages"]
            missed = [t.sid for t in waiting if language[t.task_queue_sid] in speaks]
            assert not (room and missed), (
                f"{worker.friendly_name} is {worker.activity_name} with room "
                f"(load {load[sid]}) while {missed} wait for it"
            )

    @staticmethod
    def _load(snap: Snapshot) -> Counter[str]:
        """Tasks each worker holds: reserved, assigned or wrapping."""
        load: Counter[str] = Counter()
        for r in snap.reservations:
            task = snap.tasks[r.task_sid]
            if r.reservation_status in ("pending", "accepted", "wrapping") and (
                task.assignment_status in ("reserved", "assigned", "wrapping")
            ):
                load[r.worker_sid] += 1
        return load

    def _capacity_respected(self, snap: Snapshot) -> None:
        load = self._load(snap)
        for sid, channels in snap.channels.items():
            (default,) = [c for c in channels if c.task_channel_unique_name == "default"]
            where = f"worker {snap.workers[sid].friendly_name}: load {load[sid]}"
            assert load[sid] <= default.configured_capacity, where
            assert default.assigned_tasks <= default.configured_capacity, where

    def _no_task_lost(self, snap: Snapshot, events: dict[str, list[Any]]) -> None:
        assert set(snap.tasks) <= set(self.known), "a task the test never created"
        for sid, known in self.known.items():
            task = snap.tasks.get(sid)
            if known.deleted:
                assert task is None, f"task {sid} was deleted but is back"
                continue
            ended = [
                e.event_date_ms / 1000
                for e in events[sid]
                if e.event_type in ("task.canceled", "task.completed")
            ]
            if task is None:
                assert ended, f"task {sid} disappeared without finishing"
                assert snap.now >= min(ended) + PURGE_AFTER - SLACK, (
                    f"task {sid} purged {min(ended) + PURGE_AFTER - snap.now:.0f} s early"
                )
                continue
            known.last_updated = task.date_updated.timestamp()
            if task.assignment_status in ("canceled", "completed"):
                due = known.last_updated + 1 + PURGE_AFTER
                assert snap.now < due + SLACK, (
                    f"task {sid} {task.assignment_status} outlived its purge by "
                    f"{snap.now - due:.0f} s"
                )

    def _events_tell_the_story(self, snap: Snapshot, events: dict[str, list[Any]]) -> None:
        for sid in snap.tasks:
            types = {e.event_type for e in events[sid]}
            assert "task.created" in types, f"task {sid}: events {types}"
        follows = {"accepted": "reservation.accepted", "rejected": "reservation.rejected",
                   "timeout": "reservation.timeout", "canceled": "reservation.canceled",
                   "rescinded": "reservation.rescinded", "wrapping": "reservation.wrapup",
                   "completed": "reservation.completed"}  # fmt: skip
        for r in snap.reservations:
            types = {e.event_type for e in events[r.sid]}
            assert "reservation.created" in types, f"reservation {r.sid}: events {types}"
            if r.reservation_status in HELD:
                assert "reservation.accepted" in types, f"reservation {r.sid}: events {types}"
            if r.reservation_status in follows:
                assert follows[r.reservation_status] in types, (r.reservation_status, types)

    def _one_callback_per_reservation(self, snap: Snapshot, events: dict[str, list[Any]]) -> None:
        qs = self._qs()
        calls = Counter(
            r.form["ReservationSid"]
            for r in self.world.receiver.requests("/assignment")
            if r.form.get("WorkspaceSid") == qs.sid
        )
        for reservation_sid, count in calls.items():
            assert count == 1, f"{count} assignment callbacks for {reservation_sid}"
            kinds = {e.event_type for e in events[reservation_sid]}
            assert "reservation.created" in kinds, f"a callback for {reservation_sid}"

    # -- helpers ----------------------------------------------------------------------------

    def _qs(self) -> Quickstart:
        assert self.qs is not None
        return self.qs

    def _live_tasks(self) -> list[str]:
        return [sid for sid, known in self.known.items() if not known.deleted]

    def _terminal(self, sid: str) -> bool:
        task = self.snap.tasks.get(sid) if self.snap else None
        return task is None or task.assignment_status in ("canceled", "completed")

    @staticmethod
    def _pick(items: list[T], pick: int) -> T:
        return items[pick % len(items)]

    def _snapshot(self) -> Snapshot:
        """One consistent view: no event happened while it was read (else read it again).

        Every change comes with an event. The events since shortly before the last snapshot
        are read before and after the state: the same list means nothing changed meanwhile
        (and the older events, kept from earlier reads, cannot have changed: events are never
        edited or deleted).
        """
        world, ws = self.world, self._qs().ws
        for _ in range(10):
            log = settle(world.sandbox, world.receiver, ws, self._qs().sid, *world.started)
            errors = [
                e for e in log
                if e["message"].startswith("sandbox error") or e["code"] == SANDBOX_FAULT
            ]  # fmt: skip
            assert not errors, errors
            started = sandbox_now(world.sandbox)
            before = ws.events.list(start_date=self.event_mark, page_size=1000)
            tasks = {t.sid: t for t in ws.tasks.list(page_size=1000)}
            workers = {w.sid: w for w in ws.workers.list(page_size=1000)}
            reservations = [
                r for sid in workers for r in ws.workers(sid).reservations.list(page_size=1000)
            ]
            channels = (
                {sid: ws.workers(sid).worker_channels.list() for sid in workers}
                if self.multi
                else {}
            )
            now = sandbox_now(world.sandbox)
            after = ws.events.list(start_date=self.event_mark, page_size=1000)
            if [e.sid for e in after] == [e.sid for e in before]:
                self.events.update((e.sid, e) for e in after)
                # Timers fire at their due time, a little late at most: 5 s of margin.
                self.event_mark = datetime.fromtimestamp(int(started) - 5, timezone.utc)
                events = list(self.events.values())
                return Snapshot(tasks, workers, reservations, channels, events, now)
            STATS["snapshot_retries"] += 1
        raise AssertionError("the state kept changing while the test read it")


def _events_by_resource(events: list[Any]) -> dict[str, list[Any]]:
    """Events under every sid they concern (task, reservation, worker)."""
    by: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        data = event.event_data or {}
        sids = {event.resource_sid, data.get("task_sid"), data.get("reservation_sid")}
        for sid in sids - {None}:
            by[str(sid)].append(event)
    return by


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    sandbox = SandboxProcess(data_dir=tmp_path / "sandbox").start()
    receiver = Receiver(sandbox.auth_token)
    try:
        yield World(sandbox, receiver)
    finally:
        receiver.close()
        sandbox.stop()


@pytest.mark.timeout(scaled(300, 3600))
def test_invariants_hold_under_random_operations(world: World) -> None:
    STATS.clear()
    started = time.monotonic()
    TaskRouterMachine.world = world
    run_state_machine_as_test(
        TaskRouterMachine,
        settings=settings(
            max_examples=scaled(15, 60),
            stateful_step_count=scaled(30, 80),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        ),
    )
    faults = sum(n for k, n in STATS.items() if k.startswith(FAULTS))
    report(
        "invariants",
        {
            "seconds": round(time.monotonic() - started, 1),
            "faults_injected": faults,
            "tasks_lost": 0,  # checked after every step: a loss fails the test
            "assignment_callbacks": len(world.receiver.requests("/assignment")),
            **STATS,
        },
    )


# -- regression tests for what the machine found -------------------------------------------


def test_finished_task_is_purged_even_if_updated_afterwards(
    client: Client, sandbox: SandboxProcess
) -> None:
    """A finished task's purge timer must not be defeated by a later attribute update."""
    qs = build_quickstart(client)
    task = qs.create_task(selected_language="fr")  # matches no filter: canceled at once
    assert task.assignment_status == "canceled"
    sandbox.advance(200)
    qs.ws.tasks(task.sid).update(attributes='{"note": "after the end"}')
    sandbox.advance(PURGE_AFTER - 200 + 1)
    with pytest.raises(TwilioRestException) as info:
        qs.task(task.sid)
    assert info.value.status == 404


def test_wrapping_task_keeps_its_capacity_slot(client: Client, sandbox: SandboxProcess) -> None:
    """Multi-tasking: a task in wrap-up still holds its slot until it is completed."""
    qs = build_quickstart(client, multi_task=True)
    bob = qs.ws.workers(qs.workers["Bob"])
    bob.worker_channels("default").update(capacity=1)
    qs.set_activity("Bob", "Idle")
    first = qs.create_task(selected_language="en")
    (reservation,) = qs.reservations(first.sid)
    qs.ws.tasks(first.sid).reservations(reservation.sid).update(reservation_status="accepted")
    qs.ws.tasks(first.sid).update(assignment_status="wrapping")
    second = qs.create_task(selected_language="en")
    assert qs.task(second.sid).assignment_status == "pending"  # Bob is full
    channel = bob.worker_channels("default").fetch()
    assert (channel.assigned_tasks, channel.available_capacity_percentage) == (1, 0)
    qs.ws.tasks(first.sid).update(assignment_status="completed", reason="done")
    assert qs.task(second.sid).assignment_status == "reserved"  # the slot is free again


def test_worker_already_idle_gets_waiting_work_when_her_reservation_ends(
    client: Client, sandbox: SandboxProcess
) -> None:
    """Single-tasking: Alice, moved back to Idle while reserved, takes the next waiting task
    as soon as the task of her pending reservation is canceled (no activity change needed)."""
    qs = build_quickstart(client)
    first = qs.create_task(selected_language="es")
    qs.set_activity("Alice", "Idle")  # reserved for the first task
    second = qs.create_task(selected_language="es")  # waits: Alice holds a pending reservation
    assert qs.set_activity("Alice", "Idle").activity_name == "Idle"
    qs.ws.tasks(first.sid).update(assignment_status="canceled", reason="caller hung up")
    assert qs.task(second.sid).assignment_status == "reserved"
    assert qs.worker("Alice").activity_name == "Reserved"


def test_rescinded_worker_gets_waiting_work(client: Client, sandbox: SandboxProcess) -> None:
    """Multi-tasking, multi-reservation: Bob's reservation is rescinded when Alice accepts;
    his freed capacity goes to the task waiting for it."""
    qs = build_quickstart(client, multi_task=True, max_reserved_workers=2)
    qs.set_activity("Alice", "Idle")
    qs.set_activity("Bob", "Idle")
    first = qs.create_task(selected_language="en")  # both reserved, both full (capacity 1)
    second = qs.create_task(selected_language="en")
    assert qs.task(second.sid).assignment_status == "pending"
    (alices,) = [r for r in qs.reservations(first.sid) if r.worker_name == "Alice"]
    qs.ws.tasks(first.sid).reservations(alices.sid).update(reservation_status="accepted")
    assert qs.task(second.sid).assignment_status == "reserved"
    assert [r.worker_name for r in qs.reservations(second.sid)] == ["Bob"]
