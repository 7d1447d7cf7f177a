"""Routing on every change of eligibility (issue 13), through the real SDK, a real sandbox and a
real Flask assignment-callback app; the clock is advanced, never slept through.

Each test leaves a task waiting, makes a worker (or the task) eligible by one route, and checks
that TaskRouter reserves at once, oldest task first. The decisions and their sources are in
``taskrouter_sandbox/engine.py``'s docstring.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from twilio.rest import Client

from tests.support.receiver import Receiver
from tests.support.sandbox import SandboxProcess
from tests.support.scenario import Quickstart, build_quickstart


@pytest.fixture
def receiver(sandbox: SandboxProcess) -> Iterator[Receiver]:
    app = Receiver(sandbox.auth_token)
    app.answer(body={})  # decide later: reservations stay pending, so they can be inspected
    yield app
    app.close()


@pytest.fixture
def qs(client: Client, receiver: Receiver) -> Quickstart:
    return build_quickstart(client, receiver.url("/assignment"))


@pytest.fixture
def multi(client: Client, receiver: Receiver) -> Quickstart:
    return build_quickstart(client, receiver.url("/assignment"), multi_task=True)


def pending_reservations(qs: Quickstart, task_sid: str) -> list:
    return [r for r in qs.reservations(task_sid) if r.reservation_status == "pending"]


def reserved_to(qs: Quickstart, task_sid: str) -> list[str]:
    return sorted(r.worker_name for r in pending_reservations(qs, task_sid))


def assigned_tasks(receiver: Receiver, count: int) -> list[str]:
    return [r.form["TaskSid"] for r in receiver.wait_for("/assignment", count)]


def default_channel(qs: Quickstart, worker: str):
    return qs.ws.workers(qs.workers[worker]).worker_channels("default")


# -- 1. a worker created in an available activity -------------------------------------------


def test_worker_created_available_takes_the_oldest_waiting_task(
    qs: Quickstart, receiver: Receiver
) -> None:
    older = qs.create_task(selected_language="es")
    newer = qs.create_task(selected_language="es")
    carol = qs.ws.workers.create(
        friendly_name="Carol",
        attributes=json.dumps({"languages": ["es"]}),
        activity_sid=qs.activities["Idle"],
    )
    assert carol.activity_name == "Reserved"  # reserved within the create call
    assert reserved_to(qs, older.sid) == ["Carol"]
    assert qs.task(newer.sid).assignment_status == "pending"
    assert assigned_tasks(receiver, 1) == [older.sid]
    # The newer task that then arrives does not jump the queue either.
    qs.set_activity("Alice", "Idle")
    assert reserved_to(qs, newer.sid) == ["Alice"]


# -- 2. a WorkerChannel made available again, or its capacity raised --------------------------


def test_worker_channel_made_available_again_gets_the_waiting_task(multi: Quickstart) -> None:
    default_channel(multi, "Alice").update(available=False)
    multi.set_activity("Alice", "Idle")
    task = multi.create_task(selected_language="es")
    assert multi.task(task.sid).assignment_status == "pending"
    default_channel(multi, "Alice").update(available=True)
    assert reserved_to(multi, task.sid) == ["Alice"]


def test_worker_channel_capacity_raised_from_zero_gets_the_waiting_tasks(
    multi: Quickstart,
) -> None:
    default_channel(multi, "Alice").update(capacity=0)
    multi.set_activity("Alice", "Idle")
    first = multi.create_task(selected_language="es")
    second = multi.create_task(selected_language="es")
    third = multi.create_task(selected_language="es")
    channel = default_channel(multi, "Alice").update(capacity=2)
    assert reserved_to(multi, first.sid) == ["Alice"]
    assert reserved_to(multi, second.sid) == ["Alice"]
    assert multi.task(third.sid).assignment_status == "pending"  # capacity 2 is full
    assert (channel.assigned_tasks, channel.available_capacity_percentage) == (2, 0)


# -- 3. a TaskQueue's TargetWorkers updated ---------------------------------------------------


def test_target_workers_updated_offers_waiting_tasks_to_the_new_members(qs: Quickstart) -> None:
    qs.set_activity("Bob", "Idle")  # English only: not in the Spanish queue
    older = qs.create_task(selected_language="es")
    newer = qs.create_task(selected_language="es")
    assert qs.task(older.sid).assignment_status == "pending"
    qs.ws.task_queues(qs.queues["Spanish"]).update(target_workers='languages HAS "en"')
    assert reserved_to(qs, older.sid) == ["Bob"]
    assert qs.task(newer.sid).assignment_status == "pending"


# -- 4. the other changes ---------------------------------------------------------------------


def test_worker_attributes_updated_to_match_a_queue(qs: Quickstart) -> None:
    qs.set_activity("Bob", "Idle")
    task = qs.create_task(selected_language="es")
    qs.ws.workers(qs.workers["Bob"]).update(attributes=json.dumps({"languages": ["en", "es"]}))
    assert reserved_to(qs, task.sid) == ["Bob"]


def test_task_attributes_updated_route_it_again(qs: Quickstart) -> None:
    qs.set_activity("Bob", "Idle")
    task = qs.create_task(selected_language="es")
    updated = qs.ws.tasks(task.sid).update(attributes=json.dumps({"selected_language": "en"}))
    assert updated.task_queue_sid == qs.queues["English"]
    assert reserved_to(qs, task.sid) == ["Bob"]


def test_max_reserved_workers_raised_applies_when_the_task_is_routed_next(
    qs: Quickstart,
) -> None:
    qs.ws.workers.create(friendly_name="Carol", attributes=json.dumps({"languages": ["en"]}))
    carol = qs.ws.workers.list(friendly_name="Carol")[0].sid
    qs.set_activity("Alice", "Idle")
    task = qs.create_task(selected_language="en")
    assert reserved_to(qs, task.sid) == ["Alice"]
    qs.set_activity("Bob", "Idle")
    qs.ws.workers(carol).update(activity_sid=qs.activities["Idle"])
    qs.ws.task_queues(qs.queues["English"]).update(max_reserved_workers=2)
    assert reserved_to(qs, task.sid) == ["Alice"]  # a reserved task gets no more reservations
    (alice,) = pending_reservations(qs, task.sid)
    qs.ws.tasks(task.sid).reservations(alice.sid).update(
        reservation_status="rejected", worker_activity_sid=qs.activities["Offline"]
    )
    assert reserved_to(qs, task.sid) == ["Bob", "Carol"]  # routed again: two at once


def test_workflow_updated_without_re_evaluate_leaves_waiting_tasks(qs: Quickstart) -> None:
    qs.set_activity("Bob", "Idle")
    task = qs.create_task(selected_language="es")
    to_english = {"task_routing": {"filters": [
        {"expression": "1==1", "targets": [{"queue": qs.queues["English"]}]},
    ]}}  # fmt: skip
    qs.ws.workflows(qs.workflow_sid).update(configuration=json.dumps(to_english))
    still = qs.task(task.sid)
    assert (still.assignment_status, still.task_queue_sid) == ("pending", qs.queues["Spanish"])
    # A new task follows the new configuration.
    fresh = qs.create_task(selected_language="es")
    assert reserved_to(qs, fresh.sid) == ["Bob"]


# -- a reservation ending, by each path -------------------------------------------------------


def test_accept_leaving_a_single_tasking_worker_available_gives_the_next_task(
    client: Client,
) -> None:
    ws = client.taskrouter.v1.workspaces.create(
        friendly_name="Single FIFO", template="FIFO", multi_task_enabled=False
    )
    context = client.taskrouter.v1.workspaces(ws.sid)
    flow = context.workflows.list()[0]
    available = next(a.sid for a in context.activities.list() if a.friendly_name == "Available")
    first = context.tasks.create(attributes="{}", workflow_sid=flow.sid)
    second = context.tasks.create(attributes="{}", workflow_sid=flow.sid)
    worker = context.workers.create(friendly_name="Dana", activity_sid=available)
    (reservation,) = context.workers(worker.sid).reservations.list()
    assert reservation.task_sid == first.sid
    context.tasks(first.sid).reservations(reservation.sid).update(reservation_status="accepted")
    statuses = {
        r.task_sid: r.reservation_status for r in context.workers(worker.sid).reservations.list()
    }
    assert statuses == {first.sid: "accepted", second.sid: "pending"}


def test_rescinded_worker_back_in_idle_takes_the_next_task(
    client: Client, receiver: Receiver
) -> None:
    qs = build_quickstart(client, receiver.url("/assignment"), max_reserved_workers=2)
    qs.set_activity("Alice", "Idle")
    qs.set_activity("Bob", "Idle")
    first = qs.create_task(selected_language="en")
    second = qs.create_task(selected_language="en")
    assert reserved_to(qs, first.sid) == ["Alice", "Bob"]
    assert qs.task(second.sid).assignment_status == "pending"
    bob = next(r for r in pending_reservations(qs, first.sid) if r.worker_name == "Bob")
    qs.ws.tasks(first.sid).reservations(bob.sid).update(reservation_status="accepted")
    assert qs.worker("Alice").activity_name == "Reserved"
    assert reserved_to(qs, second.sid) == ["Alice"]


def test_completed_task_frees_a_multitasking_slot(multi: Quickstart) -> None:
    multi.set_activity("Alice", "Idle")
    first = multi.create_task(selected_language="es")
    second = multi.create_task(selected_language="es")
    (reservation,) = pending_reservations(multi, first.sid)
    multi.ws.tasks(first.sid).reservations(reservation.sid).update(reservation_status="accepted")
    assert multi.task(second.sid).assignment_status == "pending"  # capacity 1 is taken
    multi.ws.tasks(first.sid).update(assignment_status="completed", reason="done")
    assert reserved_to(multi, second.sid) == ["Alice"]


def test_deleted_assigned_task_frees_a_multitasking_slot(multi: Quickstart) -> None:
    multi.set_activity("Alice", "Idle")
    first = multi.create_task(selected_language="es")
    second = multi.create_task(selected_language="es")
    (reservation,) = pending_reservations(multi, first.sid)
    multi.ws.tasks(first.sid).reservations(reservation.sid).update(reservation_status="accepted")
    multi.ws.tasks(first.sid).delete()
    assert reserved_to(multi, second.sid) == ["Alice"]


def test_rejected_into_an_unavailable_activity_goes_to_the_next_worker(qs: Quickstart) -> None:
    qs.set_activity("Alice", "Idle")
    qs.set_activity("Bob", "Idle")
    task = qs.create_task(selected_language="en")
    (first,) = pending_reservations(qs, task.sid)
    qs.ws.tasks(task.sid).reservations(first.sid).update(
        reservation_status="rejected", worker_activity_sid=qs.activities["Offline"]
    )
    others = {"Alice", "Bob"} - {first.worker_name}
    assert reserved_to(qs, task.sid) == sorted(others)


# -- target timeouts count from the task's age ------------------------------------------------


def test_target_timeout_counts_from_the_task_age(
    client: Client, receiver: Receiver, sandbox: SandboxProcess
) -> None:
    """task-evaluation page: a step entered late (after a reservation timed out past the first
    step's timeout) times out at the sum of the timeouts, not its own timeout later."""
    qs = build_quickstart(client, receiver.url("/assignment"), reservation_timeout=15)
    targets = [{"queue": qs.queues["Spanish"], "timeout": 10},
               {"queue": qs.queues["English"], "timeout": 10}]  # fmt: skip
    configuration = {"task_routing": {"filters": [{"expression": "1==1", "targets": targets}]}}
    flow = qs.ws.workflows.create(
        friendly_name="Two steps",
        configuration=json.dumps(configuration),
        assignment_callback_url=receiver.url("/assignment"),
        task_reservation_timeout=15,
    )
    qs.set_activity("Alice", "Idle")
    task = qs.ws.tasks.create(attributes="{}", workflow_sid=flow.sid)
    assert reserved_to(qs, task.sid) == ["Alice"]
    sandbox.advance(15)  # the reservation times out; the first step's 10 s are long gone
    moved = qs.task(task.sid)
    assert (moved.task_queue_sid, moved.assignment_status) == (qs.queues["English"], "pending")
    sandbox.advance(6)  # age 21 > 10 + 10: out of the workflow (entering + 10 would be 25)
    gone = qs.task(task.sid)  # the clock call fired the due timers before it answered
    assert (gone.assignment_status, gone.reason) == (
        "canceled",
        "Task canceled on Workflow timeout",
    )


def test_timed_out_reservation_goes_to_the_next_worker_at_once(
    qs: Quickstart, sandbox: SandboxProcess
) -> None:
    qs.set_activity("Alice", "Idle")
    qs.set_activity("Bob", "Idle")
    task = qs.create_task(selected_language="en")
    (first,) = pending_reservations(qs, task.sid)
    sandbox.advance(121)  # the workflow's 120 s reservation timeout
    assert qs.worker(first.worker_name).activity_name == "Offline"  # the timeout activity
    others = {"Alice", "Bob"} - {first.worker_name}
    assert reserved_to(qs, task.sid) == sorted(others)
