"""Runs a :class:`Scenario` against a :class:`Design` through the real SDK, on the sandbox's clock.

The driver builds a fresh multi-tasking workspace (each agent's ``default`` channel holds one
task, as a voice agent handles one call), then replays the day event by event: it moves the
sandbox's clock to the next event, does what a caller or an agent would do there with the
``twilio`` SDK, and looks for the reservations that step can have made.

Agents answer **over REST** (``reservation.update(reservation_status="accepted")``), not with an
assignment-callback instruction: TaskRouter (and the sandbox) deliver callbacks asynchronously,
after the request that caused them has answered, so a driver that then moves the clock would
race them; a REST accept happens at a known simulated time, which also gives ``accept_after``
its meaning (an agent's softphone, or Flex, accepts over the API in the same way).

How Twilio ends what a caller does:

* a caller who hangs up while waiting: the task is **canceled** — TaskRouter does so itself for a
  task made by TwiML ``<Enqueue>`` (https://www.twilio.com/docs/taskrouter/twiml-queue-calls);
  a pending reservation is canceled with it. The driver cancels over REST with ``Reason``
  "caller hung up" (TaskRouter's own wording for that case is not documented);
* after the talk time: the task goes to ``wrapping`` (after-call work; in a multi-tasking
  workspace the slot stays held), then to ``completed`` with a ``Reason``, which frees the
  agent's slot and routes the next task
  (https://www.twilio.com/docs/taskrouter/lifecycle-task-state).

Reservations appear in four places only: a new task (its ``assignment_status`` says
``reserved``), an agent who gets a free slot (completion, a caller hanging up on her pending
reservation, the start of her shift), and a routing step that times out while the clock moves
(the driver knows those moments from the design's ``timeout``s and lists reserved tasks then).
"""

from __future__ import annotations

import contextlib
import heapq
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from .clock import SandboxClock
from .design import Design
from .model import Call, Scenario
from .transport import driver_client

HANGUP = "caller hung up"  # the task's Reason when a waiting caller abandons
DAY_OVER = "simulated day ended before an agent answered"


@dataclass
class CallState:
    call: Call
    status: str = "future"  # waiting | reserved | talking | wrapping | done | abandoned
    task_sid: str = ""
    reservation_sid: str = ""
    agent: str = ""
    entered: float = 0.0  # seconds from the day's start, read just after the task's creation


@dataclass
class AgentState:
    name: str
    sid: str
    on_shift: bool = False
    leaving: bool = False
    load: int = 0  # reserved + talking + wrapping


@dataclass
class Run:
    """What the driver did: SIDs, the day's start (sandbox epoch seconds), counters, timing."""

    workspace_sid: str
    workflow_sid: str
    queue_sids: dict[str, str]
    worker_sids: dict[str, str]
    start: float
    end: float = 0.0
    calls: list[CallState] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    wall_seconds: float = 0.0


class Driver:
    def __init__(self, client: Client, scenario: Scenario, design: Design,
                 sample_every: float | None = 300.0) -> None:  # fmt: skip
        self.clock = SandboxClock(client)  # refuses a live client before anything is sent
        # The same SDK on a lighter transport (transport.py); each call carries the clock's
        # pending move (clock.py), so a move costs no request of its own.
        self.client = driver_client(client, headers_for_next=self.clock.header)
        self.scenario, self.design = scenario, design
        self.sample_every = sample_every
        self._heap: list[tuple[float, int, str, Any]] = []
        self._seq = 0
        self._boundaries = design.step_timeouts()
        # (when a routing step of a waiting task may end, the call's index), soonest first
        self._step_ends: list[tuple[float, int]] = []

    # -- set-up -----------------------------------------------------------------------------

    def _setup(self) -> Run:
        api = self.client.taskrouter.v1
        name = f"Experiment: {self.design.name} (seed {self.scenario.seed})"
        for old in api.workspaces.list(friendly_name=name):
            api.workspaces(old.sid).delete()  # re-running a cell replaces its workspace
        ws = api.workspaces.create(friendly_name=name, multi_task_enabled=True)
        self.ws = api.workspaces(ws.sid)
        activities = {a.friendly_name: a.sid for a in self.ws.activities.list()}
        self.available, self.offline = activities["Available"], activities["Offline"]
        queues = {
            qname: self.ws.task_queues.create(friendly_name=qname, target_workers=expr).sid
            for qname, expr in self.design.queues.items()
        }
        timeout = max(3600, int(self.scenario.accept_after * 2) + 60)
        flow = self.ws.workflows.create(
            friendly_name=self.design.name, task_reservation_timeout=min(timeout, 86_400),
            configuration=json.dumps(self.design.configuration_for(queues)),
        )  # fmt: skip
        self.agents: dict[str, AgentState] = {}
        for agent in self.scenario.agents:
            worker = self.ws.workers.create(friendly_name=agent.name,
                                            attributes=json.dumps(dict(agent.attributes)),
                                            activity_sid=self.offline)  # fmt: skip
            self.agents[agent.name] = AgentState(agent.name, worker.sid)
        self.by_worker = {a.sid: a for a in self.agents.values()}
        return Run(ws.sid, flow.sid, queues, {n: a.sid for n, a in self.agents.items()},
                   start=math.ceil(self.clock.now()) + 1.0)  # fmt: skip

    # -- the event loop -----------------------------------------------------------------------

    def _push(self, at: float, kind: str, key: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, kind, key))

    def run(self) -> Run:
        started = time.perf_counter()
        run = self.run_ = self._setup()
        sent_before = self.client.http_client.requests
        self.calls = [CallState(c) for c in self.scenario.calls()]
        run.calls = self.calls
        self.by_task: dict[str, CallState] = {}
        self.waiting: dict[int, CallState] = {}  # arrived, no reservation yet
        for agent in self.scenario.agents:
            self._push(agent.shift[0], "shift_start", agent.name)
            if math.isfinite(agent.shift[1]):
                self._push(agent.shift[1], "shift_end", agent.name)
        for state in self.calls:
            self._push(state.call.at, "arrive", state)
        if self.sample_every:
            for i in range(int(self.scenario.seconds // self.sample_every) + 1):
                self._push(i * self.sample_every, "sample", None)
        handlers: dict[str, Callable[[Any], None]] = {
                    "arrive": self._arrive, "accept": self._accept, "talk_end": self._talk_end,
                    "wrap_end": self._finish, "abandon": self._abandon, "sample": self._sample,
                    "shift_start": self._shift_start, "shift_end": self._shift_end}  # fmt: skip
        self.now = 0.0
        while self._heap:
            at, _, kind, key = heapq.heappop(self._heap)
            if self._stale(kind, key):
                continue  # e.g. the patience of a caller who was answered: no clock move
            self._move_to(at)
            handlers[kind](key)
        self._close_day()
        self.clock.flush()  # a move no call followed: the day's end is where the clock is
        run.end = self.clock.now()
        run.requests = self.client.http_client.requests - sent_before + self.clock.requests
        run.wall_seconds = time.perf_counter() - started
        self.clock.close()
        self.client.http_client.close()
        return run

    @staticmethod
    def _stale(kind: str, key: Any) -> bool:
        if kind == "abandon":
            return bool(key.status not in ("waiting", "reserved"))
        if kind == "accept":
            state, reservation_sid = key
            return bool(state.status != "reserved" or state.reservation_sid != reservation_sid)
        return False

    def _move_to(self, at: float) -> None:
        before = self.now
        self.now = at
        crossed = bool(self._boundaries) and self._crossed(before, at)
        # When a step may have timed out, the move is sent even with nothing to move (0 s): it
        # fires every due timer before the look-up that carries it is answered.
        self.clock.advance_to(self.run_.start + at, force=crossed)
        if crossed:
            self._reserved_by_timers()

    def _crossed(self, before: float, after: float) -> bool:
        """Does a routing step of a still-waiting task end in (before, after]?

        s.entered is the sandbox's time just after the task was created (a few ms after its
        stamp), so a step's timer is due by s.entered + b at the latest. The ends sit in a heap
        instead of being recomputed for every waiting task at every move: the clock only moves
        forward, so an end at or before ``after`` never matters again once looked at.
        """
        crossed = False
        while self._step_ends and self._step_ends[0][0] <= after:
            end, index = heapq.heappop(self._step_ends)
            crossed = crossed or (before < end and index in self.waiting)
        return crossed

    # -- what callers and agents do -----------------------------------------------------------

    def _arrive(self, state: CallState) -> None:
        task = self.ws.tasks.create(workflow_sid=self.run_.workflow_sid,
                                    attributes=json.dumps(state.call.attributes))  # fmt: skip
        state.task_sid, state.status = task.sid, "waiting"
        state.entered = self.clock.now() - self.run_.start
        self.waiting[state.call.index] = state
        self.by_task[task.sid] = state
        for boundary in self._boundaries:
            heapq.heappush(self._step_ends, (state.entered + boundary, state.call.index))
        if math.isfinite(state.call.patience):
            self._push(state.call.at + state.call.patience, "abandon", state)
        if task.assignment_status == "reserved":
            self._pending_for_task(state)

    def _pending_for_task(self, state: CallState) -> None:
        for r in self.ws.tasks(state.task_sid).reservations.list(reservation_status="pending"):
            self._reserved(state, r.sid, r.worker_sid)

    def _pending_for_agent(self, agent: AgentState) -> None:
        if not self.waiting:
            return  # nobody is waiting without a reservation: a free agent gets nothing
        for r in self.ws.workers(agent.sid).reservations.list(reservation_status="pending"):
            state = self.by_task.get(r.task_sid)
            if state is not None and state.reservation_sid != r.sid:
                self._reserved(state, r.sid, r.worker_sid)

    def _reserved_by_timers(self) -> None:
        for task in self.ws.tasks.list(assignment_status=["reserved"]):
            state = self.by_task.get(task.sid)
            if state is not None and state.status == "waiting":
                self._pending_for_task(state)

    def _reserved(self, state: CallState, reservation_sid: str, worker_sid: str) -> None:
        agent = self.by_worker[worker_sid]
        self.waiting.pop(state.call.index, None)
        state.status, state.reservation_sid, state.agent = "reserved", reservation_sid, agent.name
        agent.load += 1
        if self.scenario.accept_after > 0:
            self._push(self.now + self.scenario.accept_after, "accept", (state, reservation_sid))
        else:
            self._accept((state, reservation_sid))

    def _accept(self, key: tuple[CallState, str]) -> None:
        state, reservation_sid = key
        if state.status != "reserved" or state.reservation_sid != reservation_sid:
            return  # the caller hung up first
        self.ws.tasks(state.task_sid).reservations(reservation_sid).update(
            reservation_status="accepted"
        )
        state.status = "talking"
        self._push(self.now + state.call.handle, "talk_end", state)

    def _talk_end(self, state: CallState) -> None:
        if state.call.wrap_up <= 0:
            self._finish(state)
            return
        self.ws.tasks(state.task_sid).update(assignment_status="wrapping")
        state.status = "wrapping"
        self._push(self.now + state.call.wrap_up, "wrap_end", state)

    def _finish(self, state: CallState) -> None:
        agent = self.agents[state.agent]
        if agent.leaving and agent.load == 1:
            self._offline(agent)  # first, or completing would route her the next caller
        self.ws.tasks(state.task_sid).update(assignment_status="completed", reason="call ended")
        state.status = "done"
        self._freed(agent)

    def _freed(self, agent: AgentState) -> None:
        agent.load -= 1
        if agent.on_shift and not agent.leaving:
            self._pending_for_agent(agent)
        elif agent.leaving and agent.load == 0 and agent.on_shift:
            self._offline(agent)

    def _abandon(self, state: CallState) -> None:
        if state.status not in ("waiting", "reserved"):
            return
        # Already canceled when the design's last step timed out: the caller is gone either way.
        with contextlib.suppress(TwilioRestException):
            self.ws.tasks(state.task_sid).update(assignment_status="canceled", reason=HANGUP)
        was_reserved, state.status = state.status == "reserved", "abandoned"
        self.waiting.pop(state.call.index, None)
        if was_reserved:
            self._freed(self.agents[state.agent])

    def _shift_start(self, name: str) -> None:
        agent = self.agents[name]
        self.ws.workers(agent.sid).update(activity_sid=self.available)
        agent.on_shift, agent.leaving = True, False
        self._pending_for_agent(agent)

    def _shift_end(self, name: str) -> None:
        agent = self.agents[name]
        if agent.load == 0:
            self._offline(agent)
        else:
            agent.leaving = True  # she finishes her call, then logs off

    def _offline(self, agent: AgentState) -> None:
        self.ws.workers(agent.sid).update(activity_sid=self.offline)
        agent.on_shift = False

    def _sample(self, _: Any) -> None:
        stats = self.ws.real_time_statistics().fetch()
        self.run_.samples.append({"at": self.now, "tasks_by_status": dict(stats.tasks_by_status),
                                  "longest_waiting": stats.longest_task_waiting_age})  # fmt: skip

    def _close_day(self) -> None:
        """Callers nobody will ever answer (no agent left on shift) are canceled, not lost."""
        for state in self.calls:
            if state.status in ("waiting", "reserved"):
                with contextlib.suppress(TwilioRestException):
                    self.ws.tasks(state.task_sid).update(assignment_status="canceled",
                                                         reason=DAY_OVER)  # fmt: skip
                state.status = "unanswered"


def drive(client: Client, scenario: Scenario, design: Design,
          sample_every: float | None = 300.0) -> Run:  # fmt: skip
    return Driver(client, scenario, design, sample_every).run()
