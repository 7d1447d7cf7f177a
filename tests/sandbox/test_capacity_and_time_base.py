"""Multitasking capacity reports what routing uses, and statistics share one time base
(issue 13); the real SDK against a real sandbox with a real Flask callback app, the clock
advanced rather than slept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from twilio.rest import Client

from tests.support.receiver import Receiver
from tests.support.sandbox import SandboxProcess
from tests.support.scenario import Quickstart, build_quickstart, eventually


@pytest.fixture
def receiver(sandbox: SandboxProcess) -> Iterator[Receiver]:
    app = Receiver(sandbox.auth_token)
    app.answer(body={})
    yield app
    app.close()


@pytest.fixture
def multi(client: Client, receiver: Receiver) -> Quickstart:
    return build_quickstart(client, receiver.url("/assignment"), multi_task=True)


def channel(qs: Quickstart, worker: str):
    return qs.ws.workers(qs.workers[worker]).worker_channels("default").fetch()


def figures(qs: Quickstart, worker: str) -> tuple[int, int, bool]:
    c = channel(qs, worker)
    return c.assigned_tasks, c.available_capacity_percentage, c.available


def test_capacity_two_with_two_pending_reservations_is_full(
    multi: Quickstart, receiver: Receiver
) -> None:
    qs = multi
    qs.ws.workers(qs.workers["Alice"]).worker_channels("default").update(capacity=2)
    qs.set_activity("Alice", "Idle")
    first = qs.create_task(selected_language="es")
    assert figures(qs, "Alice") == (1, 50, True)
    second = qs.create_task(selected_language="es")
    receiver.wait_for("/assignment", 2)
    assert figures(qs, "Alice") == (2, 0, True)  # two pending reservations fill capacity 2
    third = qs.create_task(selected_language="es")
    assert qs.task(third.sid).assignment_status == "pending"  # and routing agrees
    # Accepting keeps the slot; completing frees it, and the waiting task takes it at once.
    (reservation,) = qs.reservations(first.sid)
    qs.ws.tasks(first.sid).reservations(reservation.sid).update(reservation_status="accepted")
    assert figures(qs, "Alice") == (2, 0, True)
    qs.ws.tasks(first.sid).update(assignment_status="completed", reason="done")
    assert qs.task(third.sid).assignment_status == "reserved"
    assert figures(qs, "Alice") == (2, 0, True)
    listed = qs.ws.workers(qs.workers["Alice"]).worker_channels.list()
    default = next(c for c in listed if c.task_channel_unique_name == "default")
    assert (default.assigned_tasks, default.available_capacity_percentage) == (2, 0)
    assert qs.task(second.sid).assignment_status == "reserved"


def test_queue_wait_never_exceeds_time_since_creation(
    client: Client, receiver: Receiver, sandbox: SandboxProcess
) -> None:
    """Tasks accepted 9.95, 19.9 and 29.85 s after creation: their ages are 9, 19 and 29 s;
    time in the queue was measured on another base (a float minus a truncated date) and came
    out as 10, 20 and 30."""
    receiver.answer(body={"instruction": "accept"})
    qs = build_quickstart(client, receiver.url("/assignment"))
    tasks = [qs.create_task(selected_language="es").sid for _ in range(3)]
    for sid in tasks:
        sandbox.advance(9.95)
        qs.set_activity("Alice", "Idle")
        eventually(lambda sid=sid: qs.task(sid), lambda t: t.assignment_status == "assigned")
        qs.ws.tasks(sid).update(assignment_status="completed", reason="done")
        qs.set_activity("Alice", "Offline")
    queue = qs.ws.task_queues(qs.queues["Spanish"]).cumulative_statistics().fetch(minutes=60)
    waited = queue.wait_duration_until_accepted
    in_queue = queue.wait_duration_in_queue_until_accepted
    assert queue.reservations_accepted == 3
    for key in ("min", "max", "avg", "total"):
        assert in_queue[key] <= waited[key], (key, in_queue, waited)
    assert in_queue == waited  # the tasks entered the queue when they were created
    workspace = qs.ws.cumulative_statistics().fetch(minutes=60)
    assert workspace.wait_duration_until_accepted == waited
    assert json.dumps(waited)  # plain numbers, as the SDK returns them


def test_a_timer_fired_by_a_clock_jump_reports_the_task_age_at_its_own_time(
    client: Client, receiver: Receiver, sandbox: SandboxProcess
) -> None:
    qs = build_quickstart(client, receiver.url("/assignment"), events_url=receiver.url("/events"))
    qs.set_activity("Alice", "Idle")
    task = qs.create_task(selected_language="es")
    sandbox.advance(300)  # the 120 s reservation timeout fires at its due time, inside the jump
    timed_out = eventually(
        lambda: [r.form for r in receiver.requests("/events")],
        lambda forms: any(f["EventType"] == "reservation.timeout" for f in forms),
    )
    form = next(f for f in timed_out if f["EventType"] == "reservation.timeout")
    created = next(f for f in timed_out if f["EventType"] == "task.created")
    assert form["TaskSid"] == task.sid
    assert int(form["Timestamp"]) - int(created["Timestamp"]) in (120, 121)
    assert form["TaskAge"] in ("120", "121")  # not 300: the age when the timer was due
