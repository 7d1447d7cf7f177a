"""The routing engine end to end: the real SDK, the real sandbox and a real Flask callback app.

The sandbox runs in this process (the pytest plugin's ``taskrouter_sandbox_in_process``: its
real HTTP server in a thread, a fresh one per test); the SDK still talks to it over loopback.
No test sleeps through a timeout: the sandbox clock is advanced instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from taskrouter_sandbox.testing import InProcessSandbox, SandboxProcess
from tests.support.receiver import Receiver
from tests.support.scenario import Quickstart, build_quickstart, eventually

CALLBACK_PARAMS = {
    "AccountSid", "WorkspaceSid", "WorkflowSid", "TaskQueueSid", "WorkerSid", "WorkerAttributes",
    "TaskSid", "TaskAttributes", "TaskAge", "TaskPriority", "ReservationSid", "Timestamp",
}  # fmt: skip


@pytest.fixture
def sandbox(taskrouter_sandbox_in_process: InProcessSandbox) -> InProcessSandbox:
    return taskrouter_sandbox_in_process


@pytest.fixture
def client(sandbox: InProcessSandbox) -> Client:
    return sandbox.client()


@pytest.fixture
def receiver(sandbox: InProcessSandbox) -> Iterator[Receiver]:
    app = Receiver(sandbox.auth_token)
    yield app
    app.close()


@pytest.fixture
def qs(client: Client, receiver: Receiver) -> Quickstart:
    return build_quickstart(client, receiver.url("/assignment"))


def status_of(qs: Quickstart, task_sid: str, wanted: str, timeout: float = 10.0) -> object:
    return eventually(lambda: qs.task(task_sid), lambda t: t.assignment_status == wanted, timeout)


def callbacks(sandbox: InProcessSandbox, workspace_sid: str | None = None) -> list[dict]:
    """The debugger log; per workspace, since a previous test's late delivery may land too."""
    log = sandbox.control("GET", "/_sandbox/callbacks")["callbacks"]
    return [e for e in log if workspace_sid is None or e["workspace_sid"] == workspace_sid]


def test_quickstart_accept_by_instruction(qs: Quickstart, receiver: Receiver) -> None:
    receiver.answer(body={"instruction": "accept"})
    assert qs.worker("Alice").activity_name == "Offline"
    task = qs.create_task(selected_language="es")
    assert task.assignment_status == "pending" and task.task_queue_sid == qs.queues["Spanish"]
    qs.set_activity("Alice", "Idle")
    (call,) = receiver.wait_for("/assignment")
    assert call.signature_valid
    assert set(call.form) == CALLBACK_PARAMS
    assert call.form["TaskSid"] == task.sid and call.form["WorkerSid"] == qs.workers["Alice"]
    assert json.loads(call.form["TaskAttributes"]) == {"selected_language": "es"}
    status_of(qs, task.sid, "assigned")
    assert qs.worker("Alice").activity_name == "Busy"
    (reservation,) = qs.reservations(task.sid)
    assert reservation.reservation_status == "accepted" and reservation.worker_name == "Alice"


def test_manual_accept_via_rest_after_empty_answer(
    qs: Quickstart, receiver: Receiver, sandbox: InProcessSandbox
) -> None:
    receiver.answer(body={})
    task = qs.create_task(selected_language="es")
    alice = qs.set_activity("Alice", "Idle")
    assert alice.activity_name == "Reserved" and not alice.available  # reserved at once
    receiver.wait_for("/assignment")
    eventually(lambda: callbacks(sandbox, qs.sid), lambda log: any(e["code"] == 40005 for e in log))
    assert qs.task(task.sid).assignment_status == "reserved"
    (reservation,) = qs.reservations(task.sid)
    accepted = (
        qs.ws.tasks(task.sid).reservations(reservation.sid).update(reservation_status="accepted")
    )
    assert accepted.reservation_status == "accepted" and accepted.worker_name == "Alice"
    assert qs.task(task.sid).assignment_status == "assigned"
    assert qs.worker("Alice").activity_name == "Busy"


def test_reject_into_unavailable_activity_reroutes_to_bob(
    qs: Quickstart, receiver: Receiver
) -> None:
    offline = qs.activities["Offline"]
    receiver.answer(body=lambda form: (
        {"instruction": "reject", "activity_sid": offline}
        if form["WorkerSid"] == qs.workers["Alice"] else {"instruction": "accept"}
    ))  # fmt: skip
    qs.set_activity("Alice", "Idle")
    qs.set_activity("Bob", "Idle")  # Alice has been idle longer: she is asked first
    task = qs.create_task(selected_language="en")
    status_of(qs, task.sid, "assigned")
    by_worker = {r.worker_name: r.reservation_status for r in qs.reservations(task.sid)}
    assert by_worker == {"Alice": "rejected", "Bob": "accepted"}
    assert qs.worker("Alice").activity_name == "Offline"
    assert qs.worker("Bob").activity_name == "Busy"


def test_reservation_timeout_moves_alice_offline(
    qs: Quickstart, receiver: Receiver, sandbox: InProcessSandbox
) -> None:
    receiver.answer(body={})
    task = qs.create_task(selected_language="es")
    qs.set_activity("Alice", "Idle")
    receiver.wait_for("/assignment")
    sandbox.advance(119)
    assert qs.reservations(task.sid)[0].reservation_status == "pending"
    sandbox.advance(2)
    (reservation,) = qs.reservations(task.sid)
    assert reservation.reservation_status == "timeout"
    assert qs.worker("Alice").activity_name == "Offline"
    assert qs.task(task.sid).assignment_status == "pending"


def escalating(qs: Quickstart, targets: list[dict]) -> str:
    configuration = {
        "task_routing": {
            "filters": [
                {"filter_friendly_name": "Escalate", "expression": "1==1", "targets": targets}
            ]
        }
    }
    return qs.ws.workflows.create(
        friendly_name="Escalation", configuration=json.dumps(configuration)
    ).sid


def test_target_timeout_escalates_to_second_queue(
    qs: Quickstart, sandbox: InProcessSandbox
) -> None:
    spanish, english = qs.queues["Spanish"], qs.queues["English"]
    flow = escalating(qs, [{"queue": spanish, "timeout": 30}, {"queue": english, "priority": 5}])
    task = qs.ws.tasks.create(attributes="{}", workflow_sid=flow)
    assert task.task_queue_sid == spanish
    sandbox.advance(31)
    moved = qs.task(task.sid)
    assert (moved.task_queue_sid, moved.priority, moved.assignment_status) == (
        english,
        5,
        "pending",
    )
    types = [e.event_type for e in qs.ws.events.list(task_sid=task.sid, minutes=60)]
    assert "task-queue.timeout" in types and "task-queue.moved" in types


def test_last_target_timeout_cancels(qs: Quickstart, sandbox: InProcessSandbox) -> None:
    flow = escalating(qs, [{"queue": qs.queues["Spanish"], "timeout": 30}])
    task = qs.ws.tasks.create(attributes="{}", workflow_sid=flow)
    sandbox.advance(31)
    canceled = qs.task(task.sid)
    assert canceled.assignment_status == "canceled"
    assert canceled.reason == "Task canceled on Workflow timeout"


def test_task_ttl_and_purge(qs: Quickstart, sandbox: InProcessSandbox) -> None:
    task = qs.ws.tasks.create(attributes=json.dumps({"selected_language": "es"}), timeout=60,
                              workflow_sid=qs.workflow_sid)  # fmt: skip
    sandbox.advance(61)
    expired = qs.task(task.sid)
    assert (expired.assignment_status, expired.reason) == ("canceled", "Task TTL Exceeded")
    sandbox.advance(301)  # finished tasks are deleted five minutes later
    with pytest.raises(TwilioRestException) as info:
        qs.task(task.sid)
    assert info.value.status == 404


def test_priority_before_age_and_lifo(qs: Quickstart, receiver: Receiver) -> None:
    receiver.answer(body={})
    old = qs.create_task(selected_language="es")
    urgent = qs.ws.tasks.create(attributes='{"selected_language": "es"}', priority=10,
                                workflow_sid=qs.workflow_sid)  # fmt: skip
    qs.set_activity("Alice", "Idle")
    assert qs.task(urgent.sid).assignment_status == "reserved"
    assert qs.task(old.sid).assignment_status == "pending"
    qs.ws.workers(qs.workers["Alice"]).update(
        activity_sid=qs.activities["Offline"], reject_pending_reservations=True
    )
    qs.ws.tasks(urgent.sid).update(assignment_status="canceled", reason="test")
    qs.ws.task_queues(qs.queues["Spanish"]).update(task_order="LIFO")
    newer = qs.create_task(selected_language="es")
    qs.set_activity("Alice", "Idle")
    assert qs.task(newer.sid).assignment_status == "reserved"
    assert qs.task(old.sid).assignment_status == "pending"


def test_multi_reservation_first_accept_wins(client: Client, receiver: Receiver) -> None:
    receiver.answer(body={})
    qs = build_quickstart(client, receiver.url("/assignment"), max_reserved_workers=2)
    qs.set_activity("Alice", "Idle")
    qs.set_activity("Bob", "Idle")
    task = qs.create_task(selected_language="en")
    reservations = {r.worker_name: r for r in qs.reservations(task.sid)}
    assert set(reservations) == {"Alice", "Bob"}
    receiver.wait_for("/assignment", count=2)
    qs.ws.workers(qs.workers["Bob"]).reservations(reservations["Bob"].sid).update(
        reservation_status="accepted"
    )
    statuses = {r.worker_name: r.reservation_status for r in qs.reservations(task.sid)}
    assert statuses == {"Alice": "rescinded", "Bob": "accepted"}
    assert qs.worker("Alice").activity_name == "Idle"  # back where she was
    with pytest.raises(TwilioRestException) as info:
        qs.ws.tasks(task.sid).reservations(reservations["Alice"].sid).update(
            reservation_status="accepted"
        )
    assert info.value.status == 410


def test_multitasking_capacity(client: Client, receiver: Receiver) -> None:
    receiver.answer(body={})
    qs = build_quickstart(client, receiver.url("/assignment"), multi_task=True)
    bob = qs.workers["Bob"]
    qs.ws.workers(bob).worker_channels("default").update(capacity=2)
    tasks = [qs.create_task(selected_language="en") for _ in range(3)]
    qs.set_activity("Bob", "Idle")
    reserved = [t for t in tasks if qs.task(t.sid).assignment_status == "reserved"]
    assert len(reserved) == 2
    assert qs.worker("Bob").activity_name == "Idle"  # multi-tasking: no activity change
    for t in reserved:
        (r,) = qs.reservations(t.sid)
        qs.ws.tasks(t.sid).reservations(r.sid).update(reservation_status="accepted")
    channel = qs.ws.workers(bob).worker_channels("default").fetch()
    assert (channel.assigned_tasks, channel.available_capacity_percentage) == (2, 0)
    qs.ws.tasks(reserved[0].sid).update(assignment_status="completed", reason="done")
    waiting = next(t for t in tasks if t not in reserved)
    assert qs.task(waiting.sid).assignment_status == "reserved"  # capacity freed


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ({"body": "<html>ok</html>", "content_type": "text/html"}, 40000),
        ({"body": "{not json"}, 40001),
        ({"body": {}}, 40005),
        ({"body": {"instruction": "teleport"}}, 55555),
        ({"body": {"instruction": "reject", "activity_sid": "WA" + "0" * 32}}, 40100),
        ({"body": {"instruction": "dequeue", "from": "+15550001111"}}, 40140),
        ({"body": {"instruction": "call", "from": "+15550001111"}}, 40112),
        ({"body": {"instruction": "redirect", "url": "http://example.com/x"}}, 40120),
    ],
)
def test_debugger_codes(
    qs: Quickstart, receiver: Receiver, sandbox: InProcessSandbox, answer: dict, code: int
) -> None:
    receiver.answer(**answer)
    task = qs.create_task(selected_language="es")
    qs.set_activity("Alice", "Idle")
    log = eventually(lambda: callbacks(sandbox, qs.sid), lambda log: any(e["code"] for e in log))
    entry = next(e for e in log if e["code"])
    assert entry["code"] == code, entry
    assert entry["reservation_sid"] == qs.reservations(task.sid)[0].sid
    assert qs.reservations(task.sid)[0].reservation_status == "pending"  # left as it was


def test_fallback_url_used_when_primary_fails(client: Client, receiver: Receiver,
                                              sandbox: InProcessSandbox) -> None:  # fmt: skip
    receiver.answer("/assignment", body="boom", status=500, content_type="text/plain")
    receiver.answer("/fallback", body={"instruction": "accept"})
    qs = build_quickstart(client, receiver.url("/assignment"),
                          fallback_url=receiver.url("/fallback"))  # fmt: skip
    task = qs.create_task(selected_language="es")
    qs.set_activity("Alice", "Idle")
    status_of(qs, task.sid, "assigned")
    (primary,) = receiver.requests("/assignment")
    (fallback,) = receiver.requests("/fallback")
    assert primary.signature_valid and fallback.signature_valid
    kinds = [(e["kind"], e["code"]) for e in callbacks(sandbox, qs.sid)]
    assert ("assignment", 11200) in kinds and ("fallback", None) in kinds


def test_failing_fallback_leaves_reservation_pending(
    client: Client, receiver: Receiver, sandbox: InProcessSandbox
) -> None:
    receiver.answer("/assignment", status=503, body="")
    receiver.answer("/fallback", status=500, body="")
    qs = build_quickstart(client, receiver.url("/assignment"),
                          fallback_url=receiver.url("/fallback"))  # fmt: skip
    task = qs.create_task(selected_language="es")
    qs.set_activity("Alice", "Idle")
    log = eventually(lambda: callbacks(sandbox, qs.sid), lambda log: len(log) >= 2)
    assert [e["kind"] for e in log] == ["assignment", "fallback"]
    assert qs.reservations(task.sid)[0].reservation_status == "pending"


def test_voice_instructions_on_a_simulated_call(
    qs: Quickstart, receiver: Receiver, sandbox: InProcessSandbox
) -> None:
    wrap_up = qs.activities["WrapUp"]
    receiver.answer(body={"instruction": "dequeue", "from": "+15556667777",
                          "post_work_activity_sid": wrap_up})  # fmt: skip
    task = qs.create_task(selected_language="es", call_sid="CA" + "1" * 32)
    qs.set_activity("Alice", "Idle")
    assigned = status_of(qs, task.sid, "assigned")
    attributes = json.loads(assigned.attributes)
    (call,) = sandbox.control("GET", "/_sandbox/calls")["calls"]
    assert attributes["worker_call_sid"] == call["sid"] and call["to"] == "+15555555555"
    assert qs.worker("Alice").activity_name == "Busy"
    sandbox.control("POST", f"/_sandbox/calls/{call['sid']}", {"Status": "completed"})
    assert qs.worker("Alice").activity_name == "WrapUp"


@pytest.mark.parametrize(
    ("instruction", "accepted"),
    [
        ({"instruction": "call", "from": "+15550001111", "url": "http://example.com/twiml"}, False),
        ({"instruction": "call", "from": "+1555", "url": "http://example.com/t", "accept": True},
         True),
        ({"instruction": "redirect", "call_sid": "CA" + "2" * 32, "url": "http://example.com/r"},
         False),
        ({"instruction": "conference", "from": "+15550001111"}, True),
    ],
)  # fmt: skip
def test_call_redirect_conference_accept_rules(
    qs: Quickstart, receiver: Receiver, sandbox: InProcessSandbox, instruction: dict, accepted: bool
) -> None:
    receiver.answer(body=instruction)
    task = qs.create_task(selected_language="es", call_sid="CA" + "3" * 32)
    qs.set_activity("Alice", "Idle")
    eventually(lambda: sandbox.control("GET", "/_sandbox/calls")["calls"], bool)
    wanted = "accepted" if accepted else "pending"
    eventually(lambda: qs.reservations(task.sid)[0].reservation_status, lambda s: s == wanted)


def test_rest_instructions(qs: Quickstart, receiver: Receiver, sandbox: InProcessSandbox) -> None:
    receiver.answer(body={})
    task = qs.create_task(selected_language="es", call_sid="CA" + "4" * 32)
    qs.set_activity("Alice", "Idle")
    (reservation,) = qs.reservations(task.sid)
    with pytest.raises(TwilioRestException) as info:
        qs.ws.tasks(task.sid).reservations(reservation.sid).update(instruction="dequeue")
    assert info.value.code == 40132  # no from, and the task has no "to"
    updated = (
        qs.ws.tasks(task.sid)
        .reservations(reservation.sid)
        .update(instruction="dequeue", dequeue_from="+15556667777")
    )
    assert updated.reservation_status == "accepted"
    assert json.loads(qs.task(task.sid).attributes)["worker_call_sid"].startswith("CA")


def test_rest_reject_returns_worker_to_previous_activity(
    qs: Quickstart, receiver: Receiver
) -> None:
    receiver.answer(body={})
    task = qs.create_task(selected_language="es")
    qs.set_activity("Alice", "Idle")
    (reservation,) = qs.reservations(task.sid)
    qs.ws.tasks(task.sid).reservations(reservation.sid).update(reservation_status="rejected")
    # Back to Idle (DESIGN.md decision 5), so TaskRouter may offer her the task again at once.
    statuses = [r.reservation_status for r in qs.reservations(task.sid)]
    assert statuses[0] == "rejected"
    assert qs.worker("Alice").activity_name in ("Idle", "Reserved")


def test_cancel_reserved_task_cancels_reservation_and_frees_alice(
    qs: Quickstart, receiver: Receiver
) -> None:
    receiver.answer(body={})
    task = qs.create_task(selected_language="es")
    qs.set_activity("Alice", "Idle")
    qs.ws.tasks(task.sid).update(assignment_status="canceled", reason="caller hung up")
    assert qs.reservations(task.sid)[0].reservation_status == "canceled"
    assert qs.worker("Alice").activity_name == "Idle"


def test_reject_pending_reservations_on_worker_update(qs: Quickstart, receiver: Receiver) -> None:
    receiver.answer(body={})
    task = qs.create_task(selected_language="es")
    qs.set_activity("Alice", "Idle")
    qs.ws.workers(qs.workers["Alice"]).update(activity_sid=qs.activities["Offline"],
                                              reject_pending_reservations=True)  # fmt: skip
    assert qs.reservations(task.sid)[0].reservation_status == "rejected"
    assert qs.task(task.sid).assignment_status == "pending"


def test_event_callbacks_in_order_signed(client: Client, receiver: Receiver) -> None:
    receiver.answer(body={"instruction": "accept"})
    qs = build_quickstart(client, receiver.url("/assignment"), events_url=receiver.url("/events"))
    task = qs.create_task(selected_language="es")
    qs.set_activity("Alice", "Idle")
    status_of(qs, task.sid, "assigned")
    got = eventually(
        lambda: receiver.requests("/events"),
        lambda got: any(r.form["EventType"] == "reservation.accepted" for r in got),
    )
    assert all(r.signature_valid for r in got)
    mine = [r.form for r in got if r.form.get("TaskSid") == task.sid]
    types = [f["EventType"] for f in mine]
    for expected in (
        "task.created",
        "workflow.entered",
        "workflow.target-matched",
        "task-queue.entered",
        "reservation.created",
        "reservation.accepted",
    ):
        assert expected in types, types
    assert (
        types.index("task.created")
        < types.index("reservation.created")
        < types.index("reservation.accepted")
    )
    created = next(f for f in mine if f["EventType"] == "reservation.created")
    assert created["ResourceType"] == "reservation" and created["Timestamp"].isdigit()
    assert created["WorkerName"] == "Alice" and created["TaskQueueSid"] == qs.queues["Spanish"]
    activity = next(r.form for r in got if r.form["EventType"] == "worker.activity.update")
    assert activity["ResourceType"] == "worker" and "WorkerPreviousActivitySid" in activity


def test_events_filter_is_honoured(client: Client, receiver: Receiver) -> None:
    qs = build_quickstart(client, events_url=receiver.url("/events"))
    qs.ws.update(events_filter="task.created")
    qs.create_task(selected_language="es")
    qs.create_task(selected_language="en")
    tasks = lambda: [r for r in receiver.requests("/events") if "TaskSid" in r.form]  # noqa: E731
    got = eventually(tasks, lambda got: len(got) >= 2)
    assert {r.form["EventType"] for r in got} == {"task.created"}


def test_timers_survive_a_restart(tmp_path, receiver_token: str = "t0ken") -> None:
    proc = SandboxProcess(data_dir=tmp_path / "data", auth_token=receiver_token).start()
    receiver = Receiver(receiver_token)
    receiver.answer(body={})
    try:
        qs = build_quickstart(proc.client(), receiver.url("/assignment"))
        task = qs.create_task(selected_language="es")
        qs.set_activity("Alice", "Idle")
        receiver.wait_for("/assignment")
        proc.advance(100)
    finally:
        proc.kill9()
    again = SandboxProcess(data_dir=proc.data_dir, account_sid=proc.account_sid,
                         auth_token=receiver_token).start()  # fmt: skip
    try:
        qs.client = again.client()
        assert qs.reservations(task.sid)[0].reservation_status == "pending"
        again.advance(21)  # 100 + 21 > 120: the timer fires at the right sandbox time
        assert qs.reservations(task.sid)[0].reservation_status == "timeout"
        assert len(receiver.requests("/assignment")) == 1  # no duplicate callback
    finally:
        again.stop()
        receiver.close()


def routed(qs: Quickstart, targets: list[dict], default: dict | None = None) -> str:
    routing: dict = {"filters": [{"filter_friendly_name": "All", "expression": "1==1",
                                  "targets": targets}]}  # fmt: skip
    if default is not None:
        routing["default_filter"] = default
    return qs.ws.workflows.create(
        friendly_name="Routed", configuration=json.dumps({"task_routing": routing})
    ).sid


def test_skip_if_moves_on_when_nobody_is_available(qs: Quickstart) -> None:
    spanish, english = qs.queues["Spanish"], qs.queues["English"]
    flow = routed(qs, [{"queue": spanish, "timeout": 300, "skip_if": "workers.available == 0"},
                       {"queue": english}])  # fmt: skip
    task = qs.ws.tasks.create(attributes="{}", workflow_sid=flow)
    assert task.task_queue_sid == english  # skipped at once, no 300 s wait


def test_order_by_prefers_the_higher_level(qs: Quickstart, receiver: Receiver) -> None:
    receiver.answer(body={})
    qs.ws.workers(qs.workers["Alice"]).update(attributes='{"languages": ["en"], "level": 1}')
    qs.ws.workers(qs.workers["Bob"]).update(attributes='{"languages": ["en"], "level": 5}')
    qs.set_activity("Alice", "Idle")  # Alice is idle longer, but order_by wins
    qs.set_activity("Bob", "Idle")
    flow = routed(qs, [{"queue": qs.queues["English"], "order_by": "worker.level DESC"}])
    task = qs.ws.tasks.create(attributes="{}", workflow_sid=flow)
    assert [r.worker_name for r in qs.reservations(task.sid)] == ["Bob"]


def test_known_worker_and_target_expression(qs: Quickstart, receiver: Receiver) -> None:
    receiver.answer(body={})
    qs.set_activity("Alice", "Idle")
    qs.set_activity("Bob", "Idle")
    english = qs.queues["English"]
    flow = routed(qs, [{"queue": english, "known_worker_friendly_name": "task.agent"}])
    task = qs.ws.tasks.create(attributes='{"agent": "Bob"}', workflow_sid=flow)
    assert [r.worker_name for r in qs.reservations(task.sid)] == ["Bob"]
    flow = routed(qs, [{"queue": english, "expression": "task.vip IN worker.languages"}])
    task = qs.ws.tasks.create(attributes='{"vip": "es"}', workflow_sid=flow)
    assert [r.worker_name for r in qs.reservations(task.sid)] == ["Alice"]


def test_default_filter_and_no_match(qs: Quickstart) -> None:
    task = qs.create_task(selected_language="fr")  # the quickstart has no default filter
    assert (task.assignment_status, task.reason) == (
        "canceled", "Task did not match any workflow filter"
    )  # fmt: skip
    flow = qs.ws.workflows.create(
        friendly_name="Defaulting",
        configuration=json.dumps(
            {"task_routing": {"filters": [], "default_filter": {"queue": qs.queues["English"]}}}
        ),
    )
    assert (
        qs.ws.tasks.create(attributes="{}", workflow_sid=flow.sid).task_queue_sid
        == qs.queues["English"]
    )


def test_re_evaluate_tasks_on_workflow_update(qs: Quickstart) -> None:
    task = qs.create_task(selected_language="es")
    assert task.task_queue_sid == qs.queues["Spanish"]
    swapped = {
        "task_routing": {
            "filters": [{"expression": "1==1", "targets": [{"queue": qs.queues["English"]}]}]
        }
    }
    flow = qs.ws.workflows(qs.workflow_sid)
    flow.update(configuration=json.dumps(swapped))
    assert qs.task(task.sid).task_queue_sid == qs.queues["Spanish"]  # not without the flag
    flow.update(configuration=json.dumps(swapped), re_evaluate_tasks=True)
    assert qs.task(task.sid).task_queue_sid == qs.queues["English"]


def test_wrapping_then_completed(qs: Quickstart, receiver: Receiver) -> None:
    receiver.answer(body={"instruction": "accept"})
    task = qs.create_task(selected_language="es")
    qs.set_activity("Alice", "Idle")
    status_of(qs, task.sid, "assigned")
    assert qs.ws.tasks(task.sid).update(assignment_status="wrapping").assignment_status == (
        "wrapping"
    )
    assert qs.reservations(task.sid)[0].reservation_status == "wrapping"
    done = qs.ws.tasks(task.sid).update(assignment_status="completed", reason="resolved")
    assert (done.assignment_status, done.reason) == ("completed", "resolved")
    assert qs.reservations(task.sid)[0].reservation_status == "completed"
    assert qs.worker("Alice").activity_name == "Busy"  # single-tasking: no automatic move
