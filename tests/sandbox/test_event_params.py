"""Event callbacks carry Twilio's parameters (issue 13): the real SDK drives a real sandbox whose
event callbacks land on a real Flask app; every callback is checked against
``taskrouter_sandbox/event_catalog.py``, which ``docs/taskrouter-events.md`` is generated from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from twilio.rest import Client

from taskrouter_sandbox import event_catalog
from taskrouter_sandbox.dispatch import pascal
from tests.support.receiver import Received, Receiver
from tests.support.sandbox import SandboxProcess
from tests.support.scenario import Quickstart, build_quickstart, eventually

DOC = Path(__file__).resolve().parents[2] / "docs" / "taskrouter-events.md"


@pytest.fixture
def receiver(sandbox: SandboxProcess) -> Iterator[Receiver]:
    app = Receiver(sandbox.auth_token)
    app.answer(body={})  # assignment callbacks: decide later via REST
    yield app
    app.close()


@pytest.fixture
def qs(client: Client, receiver: Receiver) -> Quickstart:
    return build_quickstart(client, receiver.url("/assignment"), events_url=receiver.url("/events"))


def event(receiver: Receiver, event_type: str, **match: str) -> Received:
    """The first event callback of this type (whose params include ``match``), waited for."""

    def found() -> list[Received]:
        return [
            r
            for r in receiver.requests("/events")
            if r.form["EventType"] == event_type
            and all(r.form.get(k) == v for k, v in match.items())
        ]

    return eventually(found, bool)[0]


def test_the_doc_is_generated_from_the_catalog() -> None:
    assert DOC.read_text() == event_catalog.markdown(), (
        "docs/taskrouter-events.md is stale: run "
        "python -m taskrouter_sandbox.event_catalog > docs/taskrouter-events.md"
    )


# -- the known gaps ---------------------------------------------------------------------------


def test_task_created_names_the_queue_it_enters(qs: Quickstart, receiver: Receiver) -> None:
    task = qs.create_task(selected_language="es")
    created = event(receiver, "task.created", TaskSid=task.sid).form
    assert created["TaskQueueSid"] == qs.queues["Spanish"]
    assert created["TaskQueueName"] == "Customer Care Requests - Spanish"
    assert created["TaskQueueTargetExpression"] == 'languages HAS "es"'
    assert created["TaskAssignmentStatus"] == "pending"
    qs.ws.tasks(task.sid).update(priority=3)
    updated = event(receiver, "task.updated", TaskSid=task.sid).form
    assert (updated["TaskQueueSid"], updated["TaskQueueTargetExpression"]) == (
        qs.queues["Spanish"],
        'languages HAS "es"',
    )
    assert "WorkerSid" not in updated  # nobody holds a pending task


def test_events_of_a_held_task_name_the_worker(qs: Quickstart, receiver: Receiver) -> None:
    qs.set_activity("Alice", "Idle")
    task = qs.create_task(selected_language="es")
    (reservation,) = qs.reservations(task.sid)
    qs.ws.tasks(task.sid).reservations(reservation.sid).update(reservation_status="accepted")
    qs.ws.tasks(task.sid).update(attributes=json.dumps({"selected_language": "es", "note": 1}))
    qs.ws.tasks(task.sid).update(assignment_status="wrapping")
    qs.ws.tasks(task.sid).update(assignment_status="completed", reason="resolved")
    alice = qs.worker("Alice")
    for event_type in ("task.updated", "task.wrapup", "task.completed"):
        form = event(receiver, event_type, TaskSid=task.sid).form
        assert form["WorkerSid"] == alice.sid, event_type
        assert form["WorkerName"] == "Alice"
        assert json.loads(form["WorkerAttributes"])["languages"] == ["en", "es"]
        assert form["WorkerActivitySid"] == qs.activities["Busy"]
        assert form["WorkerActivityName"] == "Busy"
        assert form["TaskQueueSid"] == qs.queues["Spanish"]
    completed = event(receiver, "task.completed", TaskSid=task.sid).form
    assert completed["TaskCompletedReason"] == "resolved"


def test_deleting_a_held_task_names_the_worker_that_held_it(
    qs: Quickstart, receiver: Receiver
) -> None:
    qs.set_activity("Alice", "Idle")
    task = qs.create_task(selected_language="es")
    (reservation,) = qs.reservations(task.sid)
    qs.ws.tasks(task.sid).reservations(reservation.sid).update(reservation_status="accepted")
    qs.ws.tasks(task.sid).delete()
    deleted = event(receiver, "task.deleted", TaskSid=task.sid).form
    assert (deleted["WorkerSid"], deleted["WorkerName"]) == (qs.workers["Alice"], "Alice")


# -- every event type against the catalog -----------------------------------------------------


def run_everything(qs: Quickstart, sandbox: SandboxProcess) -> None:
    """One workspace's life that makes the sandbox emit every event type of the catalog."""
    ws = qs.ws
    ws.update(friendly_name="Quickstart renamed")
    spare = ws.activities.create(friendly_name="Lunch", available=False)
    ws.activities(spare.sid).update(friendly_name="Long lunch")
    ws.activities(spare.sid).delete()
    chat = ws.task_channels.create(friendly_name="Chat two", unique_name="chattwo")
    ws.task_channels(chat.sid).update(friendly_name="Chat 2")
    ws.task_channels(chat.sid).delete()
    queue = ws.task_queues.create(friendly_name="Spare", target_workers="1==1")
    ws.task_queues(queue.sid).update(target_workers='languages HAS "fr"')
    ws.task_queues(queue.sid).delete()
    carol = ws.workers.create(friendly_name="Carol")
    ws.workers(carol.sid).update(attributes=json.dumps({"languages": ["fr"]}))
    ws.workers(carol.sid).worker_channels("default").update(capacity=2)
    ws.workers(carol.sid).worker_channels("default").update(available=False)
    ws.workers(carol.sid).delete()
    flow = ws.workflows.create(
        friendly_name="Spare flow",
        configuration=json.dumps(
            {"task_routing": {"default_filter": {"queue": qs.queues["English"]}}}
        ),
    )
    ws.workflows(flow.sid).update(friendly_name="Spare flow 2")
    ws.workflows(flow.sid).delete()
    # created, accepted, updated while held, wrapping, completed
    qs.set_activity("Alice", "Idle")
    done = qs.create_task(selected_language="es")
    (reservation,) = qs.reservations(done.sid)
    ws.tasks(done.sid).reservations(reservation.sid).update(reservation_status="accepted")
    ws.tasks(done.sid).update(attributes=json.dumps({"selected_language": "es", "n": 1}))
    ws.tasks(done.sid).update(assignment_status="wrapping")
    ws.tasks(done.sid).update(assignment_status="completed", reason="resolved")
    # rejected
    qs.set_activity("Alice", "Idle")
    rejected = qs.create_task(selected_language="es")
    (reservation,) = qs.reservations(rejected.sid)
    ws.tasks(rejected.sid).reservations(reservation.sid).update(
        reservation_status="rejected", worker_activity_sid=qs.activities["Offline"]
    )
    # canceled, deleted
    qs.set_activity("Alice", "Idle")
    ws.tasks(rejected.sid).update(assignment_status="canceled", reason="caller hung up")
    ws.tasks(qs.create_task(selected_language="en").sid).delete()
    # rescinded: two reservations for one task, one accepted
    ws.task_queues(qs.queues["English"]).update(max_reserved_workers=2)
    qs.set_activity("Bob", "Idle")
    qs.set_activity("Alice", "Offline")
    ws.workers(qs.workers["Alice"]).update(activity_sid=qs.activities["Idle"])
    shared = qs.create_task(selected_language="en")
    first = next(r for r in qs.reservations(shared.sid) if r.reservation_status == "pending")
    ws.tasks(shared.sid).reservations(first.sid).update(reservation_status="accepted")
    # timeout: a reservation nobody answers
    for name in ("Alice", "Bob"):
        qs.set_activity(name, "Offline")
    qs.set_activity("Bob", "Idle")
    qs.create_task(selected_language="en")
    sandbox.advance(121)
    # no filter matches: workflow.skipped; timeouts: task-queue.timeout/moved, workflow.timeout
    qs.create_task(selected_language="fr")
    steps = {"task_routing": {"filters": [{"expression": "1==1", "targets": [
        {"queue": qs.queues["Spanish"], "timeout": 10},
        {"queue": qs.queues["English"], "timeout": 10}]}]}}  # fmt: skip
    escalate = ws.workflows.create(friendly_name="Escalate", configuration=json.dumps(steps))
    ws.tasks.create(attributes="{}", workflow_sid=escalate.sid)
    sandbox.advance(11)
    sandbox.advance(11)


def test_every_event_carries_the_catalogs_parameters(
    qs: Quickstart, receiver: Receiver, sandbox: SandboxProcess
) -> None:
    run_everything(qs, sandbox)
    expected = set(event_catalog.CATALOG)
    seen = eventually(
        lambda: {r.form["EventType"] for r in receiver.requests("/events")},
        lambda types: types >= expected,
    )
    assert seen == expected, f"events outside the catalog: {seen - expected}"
    by_sid = {e.sid: e for e in qs.ws.events.list(minutes=60)}
    for received in receiver.requests("/events"):
        form = received.form
        spec = event_catalog.CATALOG[form["EventType"]]
        params = set(form)
        where = f"{form['EventType']} ({form['EventDescription']})"
        assert received.signature_valid, where
        assert params >= spec.always(), f"{where} lacks {sorted(spec.always() - params)}"
        assert params <= spec.allowed(), f"{where} has extra {sorted(params - spec.allowed())}"
        # The Events resource holds the same fields, in snake_case.
        record = by_sid[form["Sid"]]
        data = {pascal(k) for k, v in record.event_data.items() if v is not None}
        assert data - {"ResourceType"} == params - set(event_catalog.BASE) | (
            data & {"AccountSid", "WorkspaceName", "WorkspaceSid", "ResourceSid"}
        ), where


def test_catalog_names_are_twilio_style() -> None:
    for event_type, spec in event_catalog.CATALOG.items():
        assert re.fullmatch(r"[a-z-]+(\.[a-z-]+)+", event_type)
        for name in spec.allowed():
            assert re.fullmatch(r"[A-Z][A-Za-z]+", name), name
