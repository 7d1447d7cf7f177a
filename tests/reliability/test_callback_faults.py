"""Assignment and event callbacks that fail, each with its documented outcome (DESIGN.md
decision 7 and 8), visible in ``GET /_sandbox/callbacks``, and nothing lost.

For every fault the reservation stays pending (or goes to the fallback URL when one is set),
the failure is in the debugger log with the right code and HTTP status, and the task is not
lost: once the clock passes the reservation timeout it is back in its queue and another worker
gets it as soon as callbacks work again. Only one test waits for real (the 5-second limit).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from twilio.rest import Client

import helpers
from tests.reliability.support import callback_log
from tests.support.receiver import Receiver
from tests.support.sandbox import SandboxProcess, free_port
from tests.support.scenario import Quickstart, build_quickstart, eventually

TIMEOUT = 120  # the quickstart workflow's task_reservation_timeout here


@pytest.fixture
def receiver(sandbox: SandboxProcess) -> Iterator[Receiver]:
    app = Receiver(sandbox.auth_token)
    yield app
    app.close()


def closed_url(path: str = "/assignment") -> str:
    """A loopback URL nothing listens on: connection refused."""
    return f"http://127.0.0.1:{free_port()}{path}"


def logged(sandbox: SandboxProcess, count: int) -> list[dict]:
    """The debugger log once it holds ``count`` entries."""
    return eventually(lambda: callback_log(sandbox), lambda entries: len(entries) >= count)


def reserve_alice(qs: Quickstart) -> tuple[str, str]:
    """An English task reserved for Alice; returns (task sid, reservation sid)."""
    task = qs.create_task(selected_language="en")
    qs.set_activity("Alice", "Idle")
    (reservation,) = qs.reservations(task.sid)
    assert reservation.reservation_status == "pending"
    return task.sid, reservation.sid


def nothing_lost(
    qs: Quickstart, sandbox: SandboxProcess, task_sid: str, reservation_sid: str, url: str
) -> None:
    """Pending until its timeout, then back in the queue; assigned once callbacks work."""
    status = qs.ws.tasks(task_sid).reservations(reservation_sid).fetch().reservation_status
    assert status == "pending"
    assert qs.task(task_sid).assignment_status == "reserved"
    sandbox.advance(TIMEOUT + 1)
    status = qs.ws.tasks(task_sid).reservations(reservation_sid).fetch().reservation_status
    assert status == "timeout"
    assert qs.task(task_sid).assignment_status == "pending"
    assert qs.worker("Alice").activity_name == "Offline"  # the workspace's timeout activity
    qs.ws.workflows(qs.workflow_sid).update(
        assignment_callback_url=url, fallback_assignment_callback_url=""
    )
    qs.set_activity("Bob", "Idle")
    eventually(lambda: qs.task(task_sid).assignment_status, lambda s: s == "assigned")
    assert qs.worker("Bob").activity_name == "Busy"


def test_callback_server_down_is_11205(
    client: Client, sandbox: SandboxProcess, receiver: Receiver
) -> None:
    receiver.answer("/assignment", body={"instruction": "accept"})
    qs = build_quickstart(client, closed_url())
    task, reservation = reserve_alice(qs)
    (entry,) = logged(sandbox, 1)
    assert (entry["kind"], entry["code"], entry["status"]) == ("assignment", 11205, None)
    assert entry["reservation_sid"] == reservation and "stays pending" in entry["message"]
    nothing_lost(qs, sandbox, task, reservation, receiver.url("/assignment"))


@pytest.mark.parametrize("status", [403, 500, 503])
def test_refused_callback_is_11200(
    client: Client, sandbox: SandboxProcess, receiver: Receiver, status: int
) -> None:
    receiver.answer("/assignment", body="no", status=status, content_type="text/plain")
    qs = build_quickstart(client, receiver.url("/assignment"))
    task, reservation = reserve_alice(qs)
    (entry,) = logged(sandbox, 1)
    assert (entry["kind"], entry["code"], entry["status"]) == ("assignment", 11200, status)
    assert entry["answer"] == "no"
    receiver.answer("/assignment", body={"instruction": "accept"})
    nothing_lost(qs, sandbox, task, reservation, receiver.url("/assignment"))


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ({"body": "{not json"}, 40001),
        ({"body": '"{\\"instruction\\": \\"accept\\"}"'}, 40001),  # escaped JSON string
        ({"body": {"instruction": "accept"}, "content_type": "text/html"}, 40000),
        ({"body": {"instruction": "teleport"}}, 55555),
        ({"body": {}}, 40005),
    ],
)
def test_bad_answer_is_logged_and_leaves_it_pending(
    client: Client, sandbox: SandboxProcess, receiver: Receiver, answer: dict, code: int
) -> None:
    receiver.answer("/assignment", **answer)
    qs = build_quickstart(
        client, receiver.url("/assignment"), fallback_url=receiver.url("/fallback")
    )
    task, reservation = reserve_alice(qs)
    (entry,) = logged(sandbox, 1)
    assert (entry["kind"], entry["code"], entry["status"]) == ("assignment", code, 200)
    assert entry["reservation_sid"] == reservation
    time.sleep(0.1)
    assert receiver.requests("/fallback") == []  # a 200 is an answer: no fallback
    assert len(callback_log(sandbox)) == 1
    receiver.answer("/assignment", body={"instruction": "accept"})
    nothing_lost(qs, sandbox, task, reservation, receiver.url("/assignment"))


def test_slow_callback_times_out_to_the_fallback(
    client: Client, sandbox: SandboxProcess, receiver: Receiver
) -> None:
    """The one test that waits: no answer within 5 s -> recorded, then the fallback URL."""
    receiver.answer("/assignment", body={"instruction": "reject"}, delay=6)
    receiver.answer("/fallback", body={"instruction": "accept"})
    qs = build_quickstart(
        client, receiver.url("/assignment"), fallback_url=receiver.url("/fallback")
    )
    started = time.monotonic()
    task, reservation = reserve_alice(qs)
    primary, fallback = eventually(lambda: callback_log(sandbox), lambda log: len(log) >= 2, 15)
    waited = time.monotonic() - started
    assert (primary["kind"], primary["code"], primary["status"]) == ("assignment", 11205, None)
    assert "no answer within 5 s" in primary["message"] and "fallback" in primary["message"]
    # Given up at 5 s, before the (6 s late) answer: the fallback decided.
    assert 5000 <= primary["latency_ms"] < 6000 and waited >= 5
    assert (fallback["kind"], fallback["code"], fallback["status"]) == ("fallback", None, 200)
    assert fallback["instruction"] == "accept"
    assert qs.task(task).assignment_status == "assigned"
    status = qs.ws.tasks(task).reservations(reservation).fetch().reservation_status
    assert status == "accepted"  # the primary's late "reject" changed nothing
    assert [r.form["ReservationSid"] for r in receiver.requests("/fallback")] == [reservation]


def test_fallback_accepts_when_the_primary_fails(
    client: Client, sandbox: SandboxProcess, receiver: Receiver
) -> None:
    receiver.answer("/assignment", body="boom", status=500, content_type="text/plain")
    receiver.answer("/fallback", body={"instruction": "accept"})
    qs = build_quickstart(
        client, receiver.url("/assignment"), fallback_url=receiver.url("/fallback")
    )
    task, reservation = reserve_alice(qs)
    primary, fallback = logged(sandbox, 2)
    assert (primary["kind"], primary["code"], primary["status"]) == ("assignment", 11200, 500)
    assert (fallback["kind"], fallback["code"], fallback["instruction"]) == (
        "fallback",
        None,
        "accept",
    )
    eventually(lambda: qs.task(task).assignment_status, lambda s: s == "assigned")
    assert qs.worker("Alice").activity_name == "Busy"
    (call,) = receiver.requests("/fallback")
    assert call.signature_valid and call.form["ReservationSid"] == reservation


@pytest.mark.parametrize("primary_down", [True, False])
def test_failing_fallback_leaves_it_pending_until_the_timeout(
    client: Client, sandbox: SandboxProcess, receiver: Receiver, primary_down: bool
) -> None:
    receiver.answer("/assignment", body="", status=500)
    primary = closed_url() if primary_down else receiver.url("/assignment")
    qs = build_quickstart(client, primary, fallback_url=closed_url("/fallback"))
    task, reservation = reserve_alice(qs)
    first, second = logged(sandbox, 2)
    assert (first["kind"], first["code"]) == ("assignment", 11205 if primary_down else 11200)
    assert (second["kind"], second["code"], second["status"]) == ("fallback", 11205, None)
    assert "stays pending" in second["message"]
    time.sleep(0.1)
    assert len(callback_log(sandbox)) == 2  # the fallback is tried once; nothing is retried
    receiver.answer("/assignment", body={"instruction": "accept"})
    nothing_lost(qs, sandbox, task, reservation, receiver.url("/assignment"))


@pytest.mark.parametrize("down", [True, False])
def test_failing_event_callback_is_logged_and_the_event_kept(
    client: Client, sandbox: SandboxProcess, receiver: Receiver, down: bool
) -> None:
    receiver.answer("/events", body="", status=500)
    receiver.answer("/assignment", body={"instruction": "accept"})
    events_url = closed_url("/events") if down else receiver.url("/events")
    qs = build_quickstart(client, receiver.url("/assignment"), events_url=events_url)
    task = qs.create_task(selected_language="en")
    entries = eventually(
        lambda: [e for e in callback_log(sandbox) if e["kind"] == "event"],
        lambda log: any(e["event_type"] == "task.created" for e in log),
    )
    created = next(e for e in entries if e["event_type"] == "task.created")
    assert created["code"] == (11205 if down else 11200)
    assert created["status"] == (None if down else 500)
    assert created["url"] == events_url
    qs.set_activity("Alice", "Idle")  # routing carries on while event callbacks fail
    eventually(lambda: qs.task(task.sid).assignment_status, lambda s: s == "assigned")
    types = {e.event_type for e in qs.ws.events.list(task_sid=task.sid)}
    assert {"task.created", "reservation.created", "reservation.accepted"} <= types
    failed = eventually(
        lambda: [e for e in callback_log(sandbox) if e["kind"] == "event"],
        lambda log: any(e["event_type"] == "reservation.accepted" for e in log),
    )
    assert all(e["code"] == (11205 if down else 11200) for e in failed)
    # One attempt per event: none lost, none retried.
    every = qs.ws.events.list(minutes=60, page_size=1000)
    eventually(
        lambda: [e for e in callback_log(sandbox) if e["kind"] == "event"],
        lambda attempts: len(attempts) >= len(every),
    )
    time.sleep(0.1)
    attempts = [e["event_type"] for e in callback_log(sandbox) if e["kind"] == "event"]
    assert sorted(attempts) == sorted(e.event_type for e in every)


@pytest.fixture
def callback_server(sandbox: SandboxProcess) -> Iterator[helpers.CallbackServer]:
    def broken(callback: Any) -> dict:
        raise RuntimeError(f"learner bug for {callback.task_sid}")

    server = helpers.CallbackServer(broken, port=0, auth_token=sandbox.auth_token).start()
    yield server
    server.stop()


def test_callback_server_logs_the_500_its_instruction_caused(
    client: Client, sandbox: SandboxProcess, callback_server: helpers.CallbackServer
) -> None:
    qs = build_quickstart(client, callback_server.assignment_url)
    task, reservation = reserve_alice(qs)
    record = callback_server.wait_for()
    assert (record.status, record.signature) == (500, "valid")
    assert record.error == f"RuntimeError: learner bug for {task}"
    assert record.params["ReservationSid"] == reservation
    (entry,) = logged(sandbox, 1)
    assert (entry["kind"], entry["code"], entry["status"]) == ("assignment", 11200, 500)
    assert "learner bug" in (entry["answer"] or "")
    callback_server.instruction = {"instruction": "accept"}
    nothing_lost(qs, sandbox, task, reservation, callback_server.assignment_url)
    assert [r.status for r in callback_server.assignments] == [500, 200]


def test_a_callback_in_flight_during_a_reset_leaves_no_entry_behind(
    client: Client, sandbox: SandboxProcess, receiver: Receiver
) -> None:
    """A reset empties the debugger log for good: a callback that was on its way when the
    sandbox was reset (a workshop resetting between exercises) must not reappear in it."""
    receiver.answer("/assignment", body="no", status=500, content_type="text/plain", delay=1.0)
    qs = build_quickstart(client, receiver.url("/assignment"))
    reserve_alice(qs)
    receiver.wait_for("/assignment")  # the callback is in flight, its answer 1 s away
    sandbox.reset()
    time.sleep(1.5)  # the late 500 arrives; the sandbox records nothing of the old workspace
    assert callback_log(sandbox) == []
