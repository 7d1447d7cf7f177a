"""No background loop of the sandbox dies from one bad item (issue 19, defect 1).

The sandbox runs in this process here (its real HTTP server on a free loopback port, driven by
the real twilio SDK) so that one item of each background loop can be made to fail once: the
timer thread (and the same timers fired by ``POST /_sandbox/clock``), the per-workspace event
lane, the assignment-callback pool and the after-commit listeners. Each time the failure is
recorded in the debugger log (``GET /_sandbox/callbacks``, code 20500) and the next item of
the same loop is still handled.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.inprocess import InProcess
from tests.support.scenario import Quickstart, build_quickstart, eventually


class InjectedFault(RuntimeError):
    """The failure a test plants in one item of a loop."""


@pytest.fixture
def live() -> Iterator[InProcess]:
    with InProcess.running() as sandbox:
        yield sandbox


def fail_once(function: Callable[..., Any]) -> tuple[Callable[..., Any], threading.Event]:
    """``function`` that raises :class:`InjectedFault` on its first call only."""
    failed = threading.Event()
    lock = threading.Lock()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with lock:
            first = not failed.is_set()
            failed.set()
        if first:
            raise InjectedFault("injected by the test")
        return function(*args, **kwargs)

    return wrapper, failed


def quickstart(live: InProcess, **kwargs: Any) -> Quickstart:
    return build_quickstart(live.client(), live.receiver.url("/assignment"), **kwargs)


def test_the_timer_thread_survives_a_failing_timer(live: InProcess) -> None:
    qs = quickstart(live)
    qs.set_activity("Alice", "Idle")
    qs.set_activity("Bob", "Idle")
    first = qs.create_task(selected_language="es")  # Alice
    second = qs.create_task(selected_language="en")  # Bob
    engine = live.sandbox.engine
    engine._fire, failed = fail_once(engine._fire)  # type: ignore[method-assign]
    live.sandbox.clock.advance(121)  # the timer thread, not a request, fires what is due
    eventually(lambda: live.faults("timer"), bool)
    assert failed.is_set()
    outcomes = eventually(
        lambda: [qs.reservations(t.sid)[0].reservation_status for t in (first, second)],
        lambda statuses: statuses.count("timeout") == 1,
    )
    assert sorted(outcomes) == ["pending", "timeout"]  # the failed one rolled back, whole
    (fault,) = live.faults("timer")
    assert "InjectedFault" in fault["message"] and fault["level"] == "error"
    # The loop goes on: the next timer (a third reservation's timeout) fires on its own.
    assert live.sandbox.timer_thread.is_alive()
    qs.set_activity("Alice", "Idle")  # the one who timed out went Offline: back to work
    qs.set_activity("Bob", "Idle")
    tasks = [first, second, qs.create_task(selected_language="en")]

    def timeouts() -> int:
        statuses = [r.reservation_status for t in tasks for r in qs.reservations(t.sid)]
        return statuses.count("timeout")

    before = timeouts()
    live.sandbox.clock.advance(121)
    eventually(timeouts, lambda count: count > before)
    assert len(live.faults("timer")) == 1


def test_the_timer_loop_itself_survives_a_failure(live: InProcess) -> None:
    timers = live.sandbox.timers
    timers.next_due, _ = fail_once(timers.next_due)  # type: ignore[method-assign]
    timers.wake.set()
    eventually(lambda: live.faults("timer"), bool)
    qs = quickstart(live)
    qs.set_activity("Bob", "Idle")
    task = qs.create_task(selected_language="en")
    live.sandbox.clock.advance(121)
    eventually(lambda: qs.reservations(task.sid)[0].reservation_status, "timeout".__eq__)


def test_advancing_the_clock_answers_and_fires_the_rest_when_one_timer_fails(
    live: InProcess,
) -> None:
    qs = quickstart(live)
    qs.set_activity("Alice", "Idle")
    qs.set_activity("Bob", "Idle")
    tasks = [qs.create_task(selected_language=lang) for lang in ("es", "en")]
    engine = live.sandbox.engine
    live.sandbox.timer_thread.stop(wait=2)  # only the request fires timers in this test
    engine._fire, _ = fail_once(engine._fire)  # type: ignore[method-assign]
    client = live.client()
    response = client.request(
        "POST", f"{live.url}/_sandbox/clock", data={"Advance": "121"}
    )  # the SDK's own HTTP layer: a 500 would show here
    assert response.status_code == 200, response.text
    statuses = sorted(qs.reservations(t.sid)[0].reservation_status for t in tasks)
    assert statuses == ["pending", "timeout"]
    assert len(live.faults("timer")) == 1


def test_the_event_lane_survives_a_failing_delivery(live: InProcess) -> None:
    dispatcher = live.sandbox.webhooks.dispatcher
    dispatcher._deliver_event, _ = fail_once(dispatcher._deliver_event)  # type: ignore[method-assign]
    client = live.client()
    ws = client.taskrouter.v1.workspaces.create(
        friendly_name="Events", event_callback_url=live.receiver.url("/events")
    )
    activities = client.taskrouter.v1.workspaces(ws.sid).activities
    activities.create(friendly_name="After the fault")
    received = eventually(
        lambda: [r.form.get("EventDescription", "") for r in live.receiver.requests("/events")],
        lambda descriptions: any("After the fault" in d for d in descriptions),
    )
    (fault,) = live.faults("event")
    assert fault["workspace_sid"] == ws.sid and "InjectedFault" in fault["message"]
    assert len(received) >= 2  # one event lost to the fault, the lane delivered the rest


def test_the_assignment_pool_survives_a_failing_answer(live: InProcess) -> None:
    dispatcher = live.sandbox.webhooks.dispatcher
    dispatcher.on_answer, _ = fail_once(dispatcher.on_answer)  # type: ignore[method-assign]
    live.receiver.answer("/assignment", body={"instruction": "accept"})
    qs = quickstart(live)
    qs.set_activity("Alice", "Idle")
    qs.set_activity("Bob", "Idle")
    first = qs.create_task(selected_language="es")
    eventually(lambda: live.faults("assignment"), bool)
    assert qs.task(first.sid).assignment_status == "reserved"  # its answer was lost
    second = qs.create_task(selected_language="en")
    eventually(lambda: qs.task(second.sid).assignment_status, "assigned".__eq__)


def test_a_failing_after_commit_listener_neither_fails_the_request_nor_stops_events(
    live: InProcess,
) -> None:
    store = live.sandbox.store
    position = store.listeners.index(live.sandbox.webhooks.committed)
    store.listeners[position], _ = fail_once(store.listeners[position])
    client = live.client()
    ws = client.taskrouter.v1.workspaces.create(  # answered 201 although the listener failed
        friendly_name="Listener", event_callback_url=live.receiver.url("/events")
    )
    assert ws.sid.startswith("WS")
    assert live.faults("commit")
    client.taskrouter.v1.workspaces(ws.sid).activities.create(friendly_name="Next")
    eventually(
        lambda: [r.form.get("EventType") for r in live.receiver.requests("/events")],
        lambda types: "activity.created" in types,
    )


def test_faults_are_listed_only_for_their_own_account(live: InProcess) -> None:
    engine = live.sandbox.engine
    engine._fire, _ = fail_once(engine._fire)  # type: ignore[method-assign]
    qs = quickstart(live)
    qs.set_activity("Bob", "Idle")
    qs.create_task(selected_language="en")
    live.sandbox.clock.advance(121)
    (fault,) = eventually(lambda: live.faults("timer"), bool)
    assert fault["account_sid"] == live.sandbox.config.account_sid
    assert fault["workspace_sid"] == qs.sid
    assert live.sandbox.callback_log("AC" + "0" * 32) == []
    json.dumps(fault)  # the control plane can serve it


def test_a_failing_after_commit_action_neither_fails_the_request_nor_later_callbacks(
    live: InProcess,
) -> None:
    dispatcher = live.sandbox.webhooks.dispatcher
    dispatcher.send_assignment, _ = fail_once(dispatcher.send_assignment)  # type: ignore[method-assign]
    live.receiver.answer("/assignment", body={"instruction": "accept"})
    qs = quickstart(live)
    qs.set_activity("Alice", "Idle")
    first = qs.create_task(selected_language="es")  # 201 although queueing its callback failed
    assert qs.task(first.sid).assignment_status == "reserved"  # that callback was lost
    assert live.faults("commit")
    qs.set_activity("Bob", "Idle")
    second = qs.create_task(selected_language="en")
    eventually(lambda: qs.task(second.sid).assignment_status, "assigned".__eq__)
