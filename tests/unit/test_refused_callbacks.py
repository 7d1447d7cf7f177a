"""Only callbacks TaskRouter signed count as callbacks; nothing from the network breaks EventLog.

Any web page the learner visits can POST a form to the loopback callback server (a simple
form POST needs no CORS preflight), so forged and unsigned requests are real traffic: they
are answered 403 and kept in ``server.refused``, apart from ``server.requests``, ``.events``,
``.assignments``, ``wait_for`` and the EventLog's events.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator
from twilio.rest import Client

import helpers
from helpers.quickstart import Quickstart, ensure_quickstart
from helpers.widgets import EventLog
from tests.support.sandbox import SandboxProcess

GARBAGE_TIMES = ("soon", "", "nan", "inf", "-inf", "1e400", "9" * 400, "-5", "0x10", "12:00")


@pytest.fixture
def qs(client: Client) -> Quickstart:
    qs = ensure_quickstart(client)
    workspace = client.taskrouter.v1.workspaces(qs.workspace_sid)
    workspace.workflows(qs.workflow_sid).update(assignment_callback_url="")
    return qs


@pytest.fixture
def server(sandbox: SandboxProcess) -> Iterator[helpers.CallbackServer]:
    srv = helpers.CallbackServer(port=0, auth_token=sandbox.auth_token).start()
    yield srv
    srv.stop()


@pytest.fixture
def made() -> Iterator[list[Any]]:
    widgets: list[Any] = []
    yield widgets
    for widget in widgets:
        widget.close()


def post(url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(
        url, data=urlencode(form).encode(), method="POST", headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def forged_event(**params: str) -> dict[str, str]:
    return {"EventType": "task.canceled", "EventDescription": "Task canceled (forged)",
            "Sid": "EV" + "f" * 32, "TaskSid": "WT" + "f" * 32, **params}  # fmt: skip


def test_forged_and_unsigned_requests_are_refused_never_callbacks(
    client: Client, qs: Quickstart, server: helpers.CallbackServer, made: list
) -> None:
    events, assignment = server.events_url, server.assignment_url
    form = forged_event()
    wrong = RequestValidator("another-accounts-token").compute_signature(events, form)
    assert post(events, form) == 403  # what any web page's form can send
    assert post(events, form, {"X-Twilio-Signature": wrong}) == 403
    task_form = {"TaskSid": "WT" + "f" * 32, "ReservationSid": "WR" + "f" * 32}
    assert post(assignment, task_form) == 403

    assert server.events == [] and server.assignments == [] and list(server.requests) == []
    assert [(r.kind, r.signature, r.status) for r in server.refused] == [
        ("event", "missing", 403), ("event", "invalid", 403), ("assignment", "missing", 403),
    ]  # fmt: skip
    assert not any(r.verified for r in server.refused)
    with pytest.raises(helpers.CallbackServerError, match="No matching callback"):
        server.wait_for(lambda r: True, timeout=0.2)  # a refused record never satisfies it
    assert "refused=3" in repr(server) and "3 unsigned or forged" in server._repr_html_()

    log = EventLog(client, qs, server)
    made.append(log)
    log.refresh()
    assert log.source == "events API"  # the forged event did not replace TaskRouter's
    assert "task.canceled" not in [e.event_type for e in log.event_rows]
    assert len(log.request_rows) == 3 and log.requests_html.value.count("<b>refused</b>") == 3

    helpers.point_workflow(client, qs.workspace_sid, qs.workflow_sid, server, events=True)
    workspace = client.taskrouter.v1.workspaces(qs.workspace_sid)
    workspace.workers(qs.workers["Alice"]).update(activity_sid=qs.activities["Idle"])
    record = server.wait_for(lambda r: r.params.get("EventType") == "worker.activity.update", 5)
    assert record.verified and record.signature == "valid"  # the real one, signed
    assert all(r.verified for r in server.requests) and len(server.refused) == 3
    log.refresh()
    assert log.source == "event callbacks"
    assert "worker.activity.update" in [e.event_type for e in log.event_rows]
    assert "task.canceled" not in [e.event_type for e in log.event_rows]


@pytest.mark.parametrize("field", ["Timestamp", "TimestampMs"])
def test_garbage_fields_from_the_network_never_break_event_log_refreshes(
    client: Client,
    qs: Quickstart,
    sandbox: SandboxProcess,
    server: helpers.CallbackServer,
    made: list,
    field: str,
) -> None:
    log = EventLog(client, qs, server)
    made.append(log)
    url = server.events_url
    validator = RequestValidator(sandbox.auth_token)
    started = time.time()
    for garbage in GARBAGE_TIMES:
        form = forged_event(**{field: garbage})
        assert post(url, form) == 403  # unsigned: refused, listed as refused
        signed = {"X-Twilio-Signature": validator.compute_signature(url, form)}
        assert post(url, form, signed) == 204  # signed, yet odd: still a callback
        log.refresh()  # raised ValueError ("soon") / OverflowError ("inf", 9 * 400) before
    assert log.source == "event callbacks"
    assert len(log.event_rows) == len(GARBAGE_TIMES)
    for row in log.event_rows:  # an unreadable time falls back to when the request arrived
        assert started - 1 <= row.at <= time.time() + 1
    assert log.requests_html.value.count("<b>refused</b>") == len(GARBAGE_TIMES)
    assert "⚠" not in log.message.value


def test_event_log_survives_a_duck_typed_server_with_odd_records(
    client: Client, qs: Quickstart, made: list
) -> None:
    odd = {"kind": "event", "path": "/events", "params": {"EventType": "x", "Timestamp": "soon"},
           "status": "204?", "answer": object(), "latency_ms": "fast", "time": "later",
           "error": 42}  # fmt: skip
    records = [SimpleNamespace(**odd, signature="valid"), SimpleNamespace(**odd, signature="?")]
    server = SimpleNamespace(requests=records)
    log = EventLog(client, qs, server)
    made.append(log)
    log.refresh()
    assert [e.event_type for e in log.event_rows] == ["x"]  # the unverified one is no event
    assert "refused" in log.requests_html.value
    json.dumps([r.status for r in log.request_rows])  # normalised to plain values
