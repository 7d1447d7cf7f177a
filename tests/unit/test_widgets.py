"""The live widgets against a real sandbox: no kernel, no browser, no mocked client.

ipywidgets works in a plain Python process (a ``DummyComm`` stands in for the kernel), so a
"click" is setting the ToggleButtons' ``value`` and the "display" is the widgets' state.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from helpers.errors import UsageError
from helpers.quickstart import Quickstart, ensure_quickstart
from helpers.widgets import ActivitySwitcher, EventLog, TaskBoard, poller_threads
from tests.support.scenario import eventually

FAST = 1.0  # the promise: a change TaskRouter made shows within a second


@pytest.fixture
def qs(client: Client) -> Quickstart:
    qs = ensure_quickstart(client)
    workspace = client.taskrouter.v1.workspaces(qs.workspace_sid)
    workspace.workflows(qs.workflow_sid).update(assignment_callback_url="")  # reserve, no call
    return qs


@pytest.fixture
def made() -> Iterator[list[Any]]:
    """Widgets a test creates; closed afterwards so no poller outlives its sandbox."""
    widgets: list[Any] = []
    yield widgets
    for widget in widgets:
        widget.close()


def ws(client: Client, qs: Quickstart) -> Any:
    return client.taskrouter.v1.workspaces(qs.workspace_sid)


def alice(client: Client, qs: Quickstart) -> Any:
    return ws(client, qs).workers(qs.workers["Alice"]).fetch()


def spanish_task(client: Client, qs: Quickstart) -> Any:
    return ws(client, qs).tasks.create(
        attributes=json.dumps({"selected_language": "es"}), workflow_sid=qs.workflow_sid
    )


def within(check: Callable[[], Any], timeout: float = FAST) -> Any:
    return eventually(check, bool, timeout=timeout)


class CountingSwitcher(ActivitySwitcher):
    """Counts the update requests clicks start (the guard must keep poller changes out)."""

    clicks: list[str]

    def _apply_quietly(self, activity: str) -> None:
        self.clicks.append(activity)
        super()._apply_quietly(activity)


def test_select_moves_the_worker_and_shows_it(client: Client, qs: Quickstart, made: list) -> None:
    switch = ActivitySwitcher(client, qs, "Alice")
    made.append(switch)
    assert switch.buttons.options == ("Offline", "Idle", "Busy", "Reserved", "WrapUp")
    assert switch.value == "Offline" and switch.available is False

    worker = switch.select("Idle")

    assert worker.activity_name == "Idle"
    assert alice(client, qs).activity_name == "Idle"
    assert switch.value == "Idle" and switch.available is True
    assert "Alice" in switch.status.value and "Idle" in switch.status.value
    assert "(available)" in switch.status.value
    with pytest.raises(UsageError, match="Lunch") as refused:
        switch.select("Lunch")
    assert "Idle" in refused.value.hint  # the Activities there are


def test_widgets_follow_what_taskrouter_does(
    client: Client, qs: Quickstart, sandbox: Any, made: list
) -> None:
    switch = CountingSwitcher(client, qs, "Alice")
    switch.clicks = []
    board = TaskBoard(client, qs)
    made += [switch, board]
    task = spanish_task(client, qs)
    within(lambda: board.status_of(task.sid) == "pending")

    switch.select("Idle")  # the sandbox reserves Alice at once and moves her to Reserved
    within(lambda: switch.value == "Reserved")
    within(lambda: board.status_of(task.sid) == "reserved")
    row = next(r for r in board.tasks if r.sid == task.sid)
    assert row.reservations == (("Alice", "pending"),)
    assert row.queue == "Customer Care Requests - Spanish"
    assert (task.sid, "status") in board.changed  # the fresh change is highlighted
    assert "background" in board.table.value and "reserved" in board.table.value

    reservation = ws(client, qs).tasks(task.sid).reservations.list()[0]
    ws(client, qs).tasks(task.sid).reservations(reservation.sid).update(
        reservation_status="accepted"
    )
    within(lambda: switch.value == "Busy")
    within(lambda: board.status_of(task.sid) == "assigned")
    within(lambda: board.activity_of("Alice") == "Busy")
    assert switch.available is False
    assert switch.clicks == []  # the poller's changes never turned into update requests


def test_reservation_timeout_moves_alice_offline(
    client: Client, qs: Quickstart, sandbox: Any, made: list
) -> None:
    switch = ActivitySwitcher(client, qs, "Alice")
    board = TaskBoard(client, qs)
    made += [switch, board]
    task = spanish_task(client, qs)
    switch.select("Idle")
    within(lambda: switch.value == "Reserved")

    sandbox.advance(1300)  # past the quickstart's 1200 s reservation timeout

    within(lambda: switch.value == "Offline")
    within(lambda: board.status_of(task.sid) == "pending")
    assert alice(client, qs).activity_name == "Offline"


def test_a_click_updates_the_worker_off_the_calling_thread(
    client: Client, qs: Quickstart, made: list
) -> None:
    switch = ActivitySwitcher(client, qs, "Alice")
    made.append(switch)
    updaters: list[str] = []
    original = switch._apply

    def recording_apply(activity: str, counted: bool = False) -> Any:
        updaters.append(threading.current_thread().name)
        return original(activity, counted)

    switch._apply = recording_apply  # type: ignore[method-assign]

    switch.buttons.value = "Idle"  # what a click in the browser does

    eventually(lambda: alice(client, qs).activity_name, lambda name: name == "Idle")
    within(lambda: switch.activity == "Idle")
    assert updaters == ["ActivitySwitcher-update"]


def test_a_refused_change_shows_in_the_widget(client: Client, qs: Quickstart, made: list) -> None:
    switch = ActivitySwitcher(client, qs, "Alice")
    made.append(switch)
    ws(client, qs).activities(qs.activities["WrapUp"]).delete()  # the button now points nowhere

    switch.buttons.value = "WrapUp"  # a click: must not raise

    within(lambda: "Error:" in switch.message.value)
    assert "WrapUp" in switch.message.value
    within(lambda: switch.value == "Offline")  # the buttons return to the truth
    assert alice(client, qs).activity_name == "Offline"
    with pytest.raises(TwilioRestException):  # from code, the error is raised too
        switch.select("WrapUp")


def test_a_deleted_worker_is_reported_not_raised_by_the_poller(
    client: Client, qs: Quickstart, made: list
) -> None:
    switch = ActivitySwitcher(client, qs, "Alice", interval=0.1)
    made.append(switch)
    ws(client, qs).workers(qs.workers["Alice"]).delete()

    within(lambda: "cannot read Alice" in switch.message.value)
    assert switch.polling
    with pytest.raises(TwilioRestException):
        switch.select("Idle")
    assert "Error:" in switch.message.value


def test_rerunning_the_cell_keeps_one_poller_per_widget(
    client: Client, qs: Quickstart, made: list
) -> None:
    kinds = (ActivitySwitcher, TaskBoard, EventLog)
    latest: dict[str, Any] = {}
    for _ in range(10):
        for kind in kinds:
            widget = kind(client, qs, "Alice") if kind is ActivitySwitcher else kind(client, qs)
            made.append(widget)
            latest[kind.__name__] = widget
    for kind in kinds:
        assert len(poller_threads(kind.__name__)) == 1
        assert latest[kind.__name__].polling
    retired = made[0]
    assert retired.buttons.disabled and "replaced" in retired.message.value

    for widget in latest.values():
        widget.close()
    deadline = time.monotonic() + FAST
    while poller_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert poller_threads() == []


def test_the_poller_stops_when_the_comm_is_gone(client: Client, qs: Quickstart, made: list) -> None:
    board = TaskBoard(client, qs, interval=0.1)
    made.append(board)
    assert len(poller_threads("TaskBoard")) == 1
    board.comm.close()  # the frontend closed the widget's comm
    within(lambda: not poller_threads("TaskBoard"))


def test_event_log_reads_the_events_api_without_a_server(
    client: Client, qs: Quickstart, made: list
) -> None:
    log = EventLog(client, qs, max_items=5, interval=0.1)
    made.append(log)
    assert log.source == "events API"
    assert len(log.event_rows) == 5  # bounded, newest last
    times = [e.at for e in log.event_rows]
    assert times == sorted(times)

    ws(client, qs).workers(qs.workers["Alice"]).update(activity_sid=qs.activities["Idle"])

    within(lambda: log.event_rows[-1].event_type == "worker.activity.update")
    assert "Alice" in log.event_rows[-1].description
    assert len({e.sid for e in log.event_rows}) == len(log.event_rows)  # no duplicates
    assert "no callback server given" in log.requests_html.value


def record(kind: str, at: float, **params: str) -> SimpleNamespace:
    return SimpleNamespace(kind=kind, params=params, signature="valid", status=200,
                           answer={"instruction": "accept"} if kind == "assignment" else None,
                           latency_ms=1.5, time=at, path="/" + kind, error=None)  # fmt: skip


def test_event_log_prefers_the_servers_event_records(
    client: Client, qs: Quickstart, made: list
) -> None:
    server = SimpleNamespace(requests=[])  # duck-typed: anything with a .requests sequence
    log = EventLog(client, qs, server, interval=0.1)
    made.append(log)
    assert log.source == "events API"  # no event callbacks yet: the REST resource stands in

    now = time.time()
    server.requests.append(record("assignment", now, TaskSid="WT" + "1" * 32))
    server.requests.append(
        record("event", now + 1, EventType="reservation.created", Sid="EV1",
               EventDescription="Reservation created", TimestampMs=str(int(now * 1000)))
    )  # fmt: skip

    within(lambda: log.source == "event callbacks")
    within(lambda: [e.event_type for e in log.event_rows] == ["reservation.created"])
    assert [r.kind for r in log.request_rows] == ["assignment", "event"]
    assert "accept" in log.requests_html.value and "sig:valid" in log.requests_html.value


def test_event_log_with_the_kits_callback_server(
    client: Client, qs: Quickstart, sandbox: Any, made: list
) -> None:
    from helpers.server import CallbackServer, point_workflow

    server = CallbackServer({"instruction": "accept"}, port=0, auth_token=sandbox.auth_token)
    server.start()
    try:
        point_workflow(client, qs.workspace_sid, qs.workflow_sid, server, events=True)
        log = EventLog(client, qs, server, interval=0.1)
        switch = ActivitySwitcher(client, qs, "Alice")
        made += [log, switch]
        spanish_task(client, qs)
        switch.select("Idle")

        within(lambda: switch.value == "Busy", timeout=5)  # the callback answered "accept"
        within(lambda: log.source == "event callbacks", timeout=5)
        within(lambda: "reservation.accepted" in [e.event_type for e in log.event_rows], 5)
        kinds = {r.kind for r in log.request_rows}
        assert kinds == {"assignment", "event"}
        assignment = next(r for r in log.request_rows if r.kind == "assignment")
        assert assignment.signature == "valid" and assignment.status == 200
        assert "accept" in assignment.answer
    finally:
        server.stop()
