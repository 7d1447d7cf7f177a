"""A workflow edited under waiting tasks (issue 19, defect 1), with the real SDK and process.

The reported case: a task waits in filter 1 with a step timeout, the workflow is updated to
have fewer filters, and the step timer indexed ``filters[1]``: the ``IndexError`` killed the one
timer thread for every account, again at every start-up. Now the task's position is
re-resolved against the new configuration (it re-enters the new configuration's routing), and
a timer that fails anyway is contained and listed in ``/_sandbox/callbacks`` with code 20500.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.support.sandbox import SandboxProcess
from tests.support.scenario import Quickstart, build_quickstart

SANDBOX_FAULT = 20500


def two_filters(qs: Quickstart, english_timeout: Any = 60) -> str:
    return json.dumps({"task_routing": {"filters": [
        {"filter_friendly_name": "Spanish", "expression": 'selected_language == "es"',
         "targets": [{"queue": qs.queues["Spanish"], "timeout": 30}]},
        {"filter_friendly_name": "English", "expression": 'selected_language == "en"',
         "targets": [{"queue": qs.queues["English"], "timeout": english_timeout}]},
    ]}})  # fmt: skip


def one_filter(qs: Quickstart) -> str:
    return json.dumps({"task_routing": {
        "filters": [{"filter_friendly_name": "Spanish", "expression": 'selected_language == "es"',
                     "targets": [{"queue": qs.queues["Spanish"]}]}],
        "default_filter": {"queue": qs.queues["English"]},
    }})  # fmt: skip


def waiting_in_second_filter(client: Client) -> tuple[Quickstart, Any]:
    qs = build_quickstart(client)
    qs.ws.workflows(qs.workflow_sid).update(configuration=two_filters(qs))
    task = qs.create_task(selected_language="en")  # nobody is Idle: it waits in filter 1
    assert (task.assignment_status, task.task_queue_sid) == ("pending", qs.queues["English"])
    qs.ws.workflows(qs.workflow_sid).update(configuration=one_filter(qs))  # fewer filters
    return qs, task


def faults(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    entries = sandbox.control("GET", "/_sandbox/callbacks")["callbacks"]
    return [e for e in entries if e["code"] == SANDBOX_FAULT]


def assert_timers_still_fire(sandbox: SandboxProcess, qs: Quickstart) -> None:
    """The timer machinery is alive: a fresh reservation times out when its time comes."""
    qs.create_task(selected_language="es")
    qs.set_activity("Alice", "Idle")  # reserved at once, for whichever task waits longest
    alice = qs.ws.workers(qs.workers["Alice"])
    (reservation,) = alice.reservations.list(reservation_status="pending")
    sandbox.advance(121)
    assert alice.reservations(reservation.sid).fetch().reservation_status == "timeout"


def test_a_step_timeout_after_the_workflow_lost_filters_re_routes_the_task(
    client: Client, sandbox: SandboxProcess
) -> None:
    qs, task = waiting_in_second_filter(client)
    sandbox.advance(61)  # filter 1's step timeout falls due: filter 1 no longer exists
    moved = qs.task(task.sid)
    # It re-entered the new configuration: no filter matches "en", so the default filter.
    assert (moved.assignment_status, moved.task_queue_sid) == ("pending", qs.queues["English"])
    types = [e.event_type for e in qs.ws.events.list(task_sid=task.sid)]
    assert types.count("workflow.target-matched") == 2, types
    assert faults(sandbox) == []
    qs.set_activity("Bob", "Idle")  # routing works for it from its new place
    assert qs.task(task.sid).assignment_status == "reserved"
    assert_timers_still_fire(sandbox, qs)


def test_a_re_ordered_workflow_does_not_apply_another_queue_s_target(
    client: Client, sandbox: SandboxProcess
) -> None:
    """Same number of filters, another queue at the task's position: re-resolved too."""
    qs = build_quickstart(client)
    qs.ws.workflows(qs.workflow_sid).update(configuration=two_filters(qs))
    task = qs.create_task(selected_language="en")
    swapped = json.loads(two_filters(qs))
    filters = swapped["task_routing"]["filters"]
    filters[0]["targets"][0]["queue"], filters[1]["targets"][0]["queue"] = (
        filters[1]["targets"][0]["queue"], filters[0]["targets"][0]["queue"],
    )  # fmt: skip
    # Target timeouts count from the task's age (issue 13): give the new step room beyond
    # the 61 s the task will be old when it re-enters, or it would fall through at once.
    filters[1]["targets"][0]["timeout"] = 120
    qs.ws.workflows(qs.workflow_sid).update(configuration=json.dumps(swapped))
    sandbox.advance(61)
    moved = qs.task(task.sid)
    assert moved.assignment_status == "pending"
    assert moved.task_queue_sid == qs.queues["Spanish"]  # filter 1 ("en") now targets Spanish
    assert faults(sandbox) == []


@pytest.mark.parametrize(
    "timeout", [10**400, "10" + "0" * 400, "²", "1" * 5000, -1, 0, 1.5, "30s", True, [30]]
)
def test_a_target_timeout_that_is_not_a_bounded_whole_number_is_refused(
    client: Client, timeout: Any
) -> None:
    qs = build_quickstart(client)
    flows = qs.ws.workflows
    configuration = two_filters(qs, english_timeout=timeout)
    for attempt in (
        lambda: flows.create(friendly_name="Huge", configuration=configuration),
        lambda: flows(qs.workflow_sid).update(configuration=configuration),
    ):
        with pytest.raises(TwilioRestException) as info:
            attempt()
        assert info.value.status == 400
        assert "timeout" in info.value.msg
    assert qs.create_task(selected_language="en").assignment_status == "pending"


def test_the_stale_step_timer_survives_a_restart_and_fires_once(tmp_path: Path) -> None:
    """The timer of a task whose workflow lost its filter is rebuilt at start-up: it must not
    kill the new timer thread either."""
    sandbox = SandboxProcess(data_dir=tmp_path / "data").start()
    try:
        qs, task = waiting_in_second_filter(sandbox.client())
        sandbox.stop()
        sandbox.start()
        qs.client = sandbox.client()
        sandbox.advance(61)
        assert qs.task(task.sid).task_queue_sid == qs.queues["English"]
        assert faults(sandbox) == []
        assert_timers_still_fire(sandbox, qs)
    finally:
        sandbox.stop()


def test_a_timer_that_fails_at_start_up_is_listed_and_the_others_fire(tmp_path: Path) -> None:
    """A configuration stored by an older sandbox that no longer parses (a 10**400 timeout):
    the step timer of its task fails every time; it is contained and listed, never fatal."""
    data_dir = tmp_path / "data"
    sandbox = SandboxProcess(data_dir=data_dir).start()
    try:
        qs = build_quickstart(sandbox.client())
        qs.ws.workflows(qs.workflow_sid).update(configuration=two_filters(qs))
        task = qs.create_task(selected_language="en")
        sandbox.stop()
        poisoned = two_filters(qs, english_timeout=60).replace('"timeout": 60', '"timeout": 1e999')
        with sqlite3.connect(data_dir / "sandbox.sqlite3") as db:
            (row,) = db.execute("SELECT data FROM records WHERE sid = ?", (qs.workflow_sid,))
            flow = json.loads(row[0])
            flow["configuration"] = poisoned
            db.execute(
                "UPDATE records SET data = ? WHERE sid = ?", (json.dumps(flow), qs.workflow_sid)
            )
        sandbox.start()
        qs.client = sandbox.client()
        sandbox.advance(61)  # the poisoned step timer falls due, and fails
        (fault,) = faults(sandbox)
        assert fault["kind"] == "timer" and task.sid in fault["message"]
        assert fault["workspace_sid"] == qs.sid and fault["level"] == "error"
        assert qs.task(task.sid).assignment_status == "pending"  # rolled back, not lost
        # Every other timer still fires: Alice's reservation (for that very task) times out.
        qs.set_activity("Alice", "Idle")
        alice = qs.ws.workers(qs.workers["Alice"])
        (reservation,) = alice.reservations.list(reservation_status="pending")
        assert reservation.task_sid == task.sid
        sandbox.advance(121)
        assert alice.reservations(reservation.sid).fetch().reservation_status == "timeout"
    finally:
        sandbox.stop()


def test_a_task_re_evaluated_past_its_timeouts_leaves_now_and_is_purged_five_minutes_later(
    client: Client, sandbox: SandboxProcess
) -> None:
    """Target timeouts count from the task's age; a task re-evaluated when it is older than
    every timeout leaves the workflow at once — at the time of the edit, not at the past
    deadlines — so it can still be read for the five minutes before it is purged (found by
    the reliability state machine: it was purged in the same clock move)."""
    qs = build_quickstart(client)
    task = qs.create_task(selected_language="en")  # nobody is Idle: it waits
    sandbox.advance(330)
    config = json.dumps({"task_routing": {"filters": [
        {"filter_friendly_name": "English", "expression": 'selected_language == "en"',
         "targets": [{"queue": qs.queues["English"], "timeout": 30}]},
    ]}})  # fmt: skip
    qs.ws.workflows(qs.workflow_sid).update(configuration=config, re_evaluate_tasks="true")
    left = qs.task(task.sid)
    assert (left.assignment_status, left.reason) == (
        "canceled",
        "Task canceled on Workflow timeout",
    )
    assert left.age >= 330  # it left at the time of the edit
    sandbox.advance(290)
    assert qs.task(task.sid).assignment_status == "canceled"  # still there: not purged yet
    sandbox.advance(20)
    with pytest.raises(TwilioRestException) as info:
        qs.task(task.sid)
    assert info.value.status == 404
