"""A workshop on one machine: 50 learners at once, each running the quickstart flow in a loop.

Every learner is a thread with its own twilio ``Client``, its own quickstart workspace
(:func:`tests.support.scenario.build_quickstart`) and its own real callback server
(:class:`tests.support.receiver.Receiver`) that answers assignment callbacks with
``{"instruction": "accept"}`` and takes the workspace's ``reservation.accepted`` events.

The flow, repeated until the time is up: Alice Offline -> create a Spanish task -> Alice Idle
(the click) -> wait until the task is assigned (the reservation.accepted event reaches the
learner's server, then the task is fetched: ``assigned``) -> complete the task.

Afterwards every task must be completed, with exactly one reservation (Alice's, accepted and
then completed with the task) and exactly one signed assignment callback: no errors, no lost
and no double-assigned tasks. The latency "Idle click -> task assigned" is printed (p50, p99)
and written to ``test-output/reliability/load.json``.

CI: 10 s of flow. Long run: ``KIT_LONG=1`` (60 s). ``KIT_LOAD_SECONDS`` and
``KIT_LOAD_LEARNERS`` override either.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.receiver import Receiver
from tests.support.sandbox import KIT_ROOT, SandboxProcess
from tests.support.scenario import Quickstart, build_quickstart

LONG = os.environ.get("KIT_LONG") == "1"
SECONDS = float(os.environ.get("KIT_LOAD_SECONDS") or (60 if LONG else 10))
LEARNERS = int(os.environ.get("KIT_LOAD_LEARNERS") or 50)
ASSIGN_TIMEOUT = 30.0  # one flow waiting longer than this is a failure, not slowness
POLL = 0.005  # looking at the learner's own event log, not the sandbox
BUILD_LOCK = threading.Lock()
REPORT = KIT_ROOT / "test-output" / "reliability" / "load.json"


@dataclass
class Learner:
    index: int
    receiver: Receiver
    qs: Quickstart | None = None
    tasks: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, Idle click -> assigned
    errors: list[str] = field(default_factory=list)
    seen_events: int = 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def wait_for_event(learner: Learner, event_type: str, task_sid: str, since: float) -> float:
    """When (monotonic) the learner's server got ``event_type`` for the task: events are pushed,
    so measuring needs no polling of the sandbox (which would load it 50 times over)."""
    deadline = since + ASSIGN_TIMEOUT
    while True:
        for received in learner.receiver.requests("/events")[learner.seen_events :]:
            form = received.form
            if form.get("EventType") == event_type and form.get("TaskSid") == task_sid:
                return received.at
        if time.monotonic() > deadline:
            raise AssertionError(f"no {event_type} for {task_sid} within {ASSIGN_TIMEOUT} s")
        time.sleep(POLL)


def flow_once(learner: Learner) -> None:
    qs = learner.qs
    assert qs is not None
    qs.set_activity("Alice", "Offline")
    task = qs.create_task(selected_language="es", type="support")
    learner.tasks.append(task.sid)
    learner.seen_events = len(learner.receiver.requests("/events"))
    clicked = time.monotonic()
    qs.set_activity("Alice", "Idle")
    assigned_at = wait_for_event(learner, "reservation.accepted", task.sid, clicked)
    learner.latencies.append(assigned_at - clicked)
    status = qs.task(task.sid).assignment_status
    assert status == "assigned", f"{task.sid} is {status} after its reservation.accepted event"
    qs.ws.tasks(task.sid).update(assignment_status="completed", reason="load test: done")


def run_learner(
    learner: Learner, sandbox: SandboxProcess, start: threading.Barrier, stop_at: list[float]
) -> None:
    try:
        client = sandbox.client()
        with BUILD_LOCK:  # one account, and build_quickstart names every workspace Quickstart
            qs = build_quickstart(
                client,
                learner.receiver.url("/assignment"),
                events_url=learner.receiver.url("/events"),
            )
            # only the event that says "assigned": measured by push, without a backlog of
            # earlier events in the workspace's (ordered) event lane ahead of it
            qs.ws.update(
                friendly_name=f"Quickstart {learner.index}", events_filter="reservation.accepted"
            )
        learner.qs = qs
    except Exception:
        learner.errors.append(traceback.format_exc())
    start.wait()
    while learner.qs is not None and time.monotonic() < stop_at[0]:
        try:
            flow_once(learner)
        except Exception:
            learner.errors.append(traceback.format_exc())
            return


@pytest.fixture
def quiet_receivers() -> Iterator[None]:
    """No werkzeug line per callback: 50 servers logging through one lock slow the harness."""
    logger = logging.getLogger("werkzeug")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.fixture
def learners(sandbox: SandboxProcess, quiet_receivers: None) -> Iterator[list[Learner]]:
    crowd = [Learner(i, Receiver(sandbox.auth_token)) for i in range(LEARNERS)]
    for learner in crowd:
        learner.receiver.answer("/assignment", body={"instruction": "accept"})
    yield crowd
    closing = [threading.Thread(target=lr.receiver.close, daemon=True) for lr in crowd]
    for thread in closing:
        thread.start()
    for thread in closing:
        thread.join(10)


def check_every_task(learner: Learner) -> list[str]:
    """Problems with this learner's tasks: lost, double-assigned or not signed."""
    qs = learner.qs
    assert qs is not None
    problems = []
    callbacks: dict[str, int] = {}
    for received in learner.receiver.requests("/assignment"):
        if not received.signature_valid:
            problems.append(f"unsigned callback for {received.form.get('TaskSid')}")
        sid = received.form.get("TaskSid", "")
        callbacks[sid] = callbacks.get(sid, 0) + 1
    tasks = {t.sid: t for t in qs.ws.tasks.list(page_size=1000)}
    if set(tasks) != set(learner.tasks):
        problems.append(f"tasks created {len(learner.tasks)}, listed {len(tasks)}")
    for sid in learner.tasks:
        task = tasks.get(sid)
        if task is None:
            problems.append(f"{sid} lost")
            continue
        if task.assignment_status != "completed":
            problems.append(f"{sid} is {task.assignment_status}, not completed")
        reservations = qs.reservations(sid)
        states = [r.reservation_status for r in reservations]
        if states != ["completed"]:  # accepted, then completed with its task
            problems.append(f"{sid} has reservations {states}, want one accepted and completed")
        elif reservations[0].worker_sid != qs.workers["Alice"]:
            problems.append(f"{sid} was reserved for {reservations[0].worker_sid}, not Alice")
        if callbacks.get(sid, 0) != 1:
            problems.append(f"{sid} got {callbacks.get(sid, 0)} assignment callbacks")
    return problems


def test_fifty_learners_run_the_quickstart_flow_at_once(
    sandbox: SandboxProcess, learners: list[Learner], capsys: pytest.CaptureFixture[str]
) -> None:
    start = threading.Barrier(len(learners) + 1)
    stop_at = [float("inf")]
    threads = [
        threading.Thread(target=run_learner, args=(learner, sandbox, start, stop_at), daemon=True)
        for learner in learners
    ]
    for thread in threads:
        thread.start()
    start.wait(timeout=120)  # every workspace is built
    began = time.monotonic()
    stop_at[0] = began + SECONDS
    for thread in threads:
        thread.join(timeout=SECONDS + ASSIGN_TIMEOUT + 30)
    elapsed = time.monotonic() - began
    assert not any(thread.is_alive() for thread in threads), "a learner hung"

    errors = [f"learner {lr.index}: {e}" for lr in learners for e in lr.errors]
    problems = [f"learner {lr.index}: {p}" for lr in learners for p in check_every_task(lr)]
    latencies = [x for lr in learners for x in lr.latencies]
    flows = len(latencies)
    tasks = sum(len(lr.tasks) for lr in learners)
    report: dict[str, Any] = {
        "learners": len(learners),
        "seconds": round(elapsed, 1),
        "flows": flows,
        "tasks": tasks,
        "flows_per_second": round(flows / elapsed, 1),
        "errors": len(errors),
        "lost_or_double_assigned": len(problems),
    }
    if latencies:
        report.update(
            p50_ms=round(percentile(latencies, 0.50) * 1000, 1),
            p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
            max_ms=round(max(latencies) * 1000, 1),
            mean_ms=round(statistics.fmean(latencies) * 1000, 1),
        )
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    with capsys.disabled():
        print(
            f"\nload: {report['learners']} learners x {report['seconds']} s: {flows} flows "
            f"({report['flows_per_second']}/s), Idle -> assigned p50 {report.get('p50_ms')} ms, "
            f"p99 {report.get('p99_ms')} ms, max {report.get('max_ms')} ms; "
            f"errors {len(errors)}, lost or double-assigned tasks {len(problems)}",
            flush=True,
        )
    assert not errors, "\n".join(errors[:5])
    assert not problems, "\n".join(problems[:20])
    assert all(lr.latencies for lr in learners), "a learner never completed a flow"


SLOW_NEIGHBOURS = 20  # more than the 16 callback threads the whole sandbox once had
SLOW_ANSWER = 2.0  # seconds each of their callback servers takes (think: a breakpoint)


def test_learners_with_hung_callback_servers_do_not_delay_the_others(
    sandbox: SandboxProcess, quiet_receivers: None
) -> None:
    client = sandbox.client()
    receivers = [Receiver(sandbox.auth_token) for _ in range(SLOW_NEIGHBOURS + 1)]
    try:
        for receiver in receivers[1:]:
            receiver.answer("/assignment", body={"instruction": "accept"}, delay=SLOW_ANSWER)
        receivers[0].answer("/assignment", body={"instruction": "accept"})
        crowd = []
        for index, receiver in enumerate(receivers):
            qs = build_quickstart(client, receiver.url("/assignment"))
            qs.ws.update(friendly_name=f"Quickstart {index}")
            qs.create_task(selected_language="es")
            crowd.append(qs)
        fast, slow = crowd[0], crowd[1:]
        for qs in slow:
            qs.set_activity("Alice", "Idle")  # 20 callbacks now hang for SLOW_ANSWER s
        deadline = time.monotonic() + 10
        while sum(bool(r.requests("/assignment")) for r in receivers[1:]) < 16:
            assert time.monotonic() < deadline, "the slow learners' callbacks never went out"
            time.sleep(POLL)  # at least 16 are hanging now: all the threads the sandbox once had
        task = fast.ws.tasks.list()[0]
        clicked = time.monotonic()
        fast.set_activity("Alice", "Idle")
        while fast.task(task.sid).assignment_status != "assigned":
            assert time.monotonic() - clicked < 10, "the fast learner's task was never assigned"
            time.sleep(POLL)
        waited = time.monotonic() - clicked
        assert waited < SLOW_ANSWER / 2, f"Idle -> assigned took {waited:.2f} s behind slow peers"
        # the slow ones finish too, before the next test resets the sandbox under them
        for qs in slow:
            status = eventually_status(qs, qs.ws.tasks.list()[0].sid, "assigned")
            assert status == "assigned"
    finally:
        for receiver in receivers:
            receiver.close()


def eventually_status(qs: Quickstart, task_sid: str, wanted: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    status = qs.task(task_sid).assignment_status
    while status != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
        status = qs.task(task_sid).assignment_status
    return str(status)
