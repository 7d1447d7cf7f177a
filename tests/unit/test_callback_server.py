"""CallbackServer + callbacks app against the real sandbox over loopback: signatures, the
instructions' effects on TaskRouter state, and re-run / stop / interrupt hygiene."""

from __future__ import annotations

import _thread
import http.client
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator
from twilio.rest import Client

import helpers
from helpers import server as server_module
from tests.support.sandbox import SandboxProcess, free_port

# -- a TaskRouter scenario in the sandbox (also used by test_tunnel.py) ----------------------


def until(check: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@dataclass
class Scenario:
    """A single-tasking workspace: Idle/Busy/Reserved, one queue, one workflow, Alice."""

    client: Client
    workspace_sid: str
    workspace: Any
    activities: dict[str, str]
    queue_sid: str
    workflow_sid: str
    worker_sid: str

    @classmethod
    def build(cls, client: Client) -> Scenario:
        tr = client.taskrouter.v1
        ws = tr.workspaces.create(friendly_name="Callbacks", multi_task_enabled=False)
        workspace = tr.workspaces(ws.sid)
        activities = {
            name: workspace.activities.create(friendly_name=name, available=name == "Idle").sid
            for name in ("Idle", "Busy", "Reserved")
        }
        queue = workspace.task_queues.create(
            friendly_name="Everyone",
            target_workers="1==1",
            reservation_activity_sid=activities["Reserved"],
            assignment_activity_sid=activities["Busy"],
        )
        config = {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
        workflow = workspace.workflows.create(
            friendly_name="Route", configuration=json.dumps(config)
        )
        worker = workspace.workers.create(
            friendly_name="Alice", attributes='{"languages": ["en", "es"]}'
        )
        return cls(client, ws.sid, workspace, activities, queue.sid, workflow.sid, worker.sid)

    def task(self, **attributes: Any) -> str:
        return self.workspace.tasks.create(
            workflow_sid=self.workflow_sid, attributes=json.dumps(attributes)
        ).sid

    def set_activity(self, name: str) -> None:
        self.workspace.workers(self.worker_sid).update(activity_sid=self.activities[name])

    def task_status(self, sid: str) -> str:
        return str(self.workspace.tasks(sid).fetch().assignment_status)

    def worker_activity(self) -> str:
        return str(self.workspace.workers(self.worker_sid).fetch().activity_name)

    def reservations(self, task_sid: str) -> list[Any]:
        return list(self.workspace.tasks(task_sid).reservations.list())


@pytest.fixture
def scenario(client: Client) -> Scenario:
    return Scenario.build(client)


@pytest.fixture
def server(sandbox: SandboxProcess) -> Iterator[helpers.CallbackServer]:
    srv = helpers.CallbackServer(port=0, auth_token=sandbox.auth_token).start()
    yield srv
    srv.stop()


def post(url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> tuple:
    request = urllib.request.Request(
        url, data=urlencode(form).encode(), method="POST", headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def port_is_free(port: int) -> bool:
    """Bindable the way a server binds (SO_REUSEADDR): fails while anything still listens."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(1)
        except OSError:
            return False
    return True


def thread_names() -> list[str]:
    return sorted(t.name for t in threading.enumerate())


# -- signatures and instructions -------------------------------------------------------------


def test_accept_assigns_with_a_valid_signature_and_events_are_logged(
    scenario: Scenario, server: helpers.CallbackServer
) -> None:
    urls = helpers.point_workflow(
        scenario.client, scenario.workspace_sid, scenario.workflow_sid, server,
        events=True,
    )  # fmt: skip
    assert urls["assignment_callback_url"] == f"{server.url}/assignment_callback"
    task = scenario.task(selected_language="en")
    scenario.set_activity("Idle")

    until(lambda: scenario.task_status(task) == "assigned", what="the task to be assigned")
    assert [r.reservation_status for r in scenario.reservations(task)] == ["accepted"]
    assert scenario.worker_activity() == "Busy"  # the queue's assignment activity
    record = server.assignments[-1]
    assert (record.signature, record.status, record.answer) == (
        "valid", 200, {"instruction": "accept"},
    )  # fmt: skip
    assert record.params["TaskSid"] == task and record.task_attributes == {
        "selected_language": "en"
    }
    assert record.latency_ms < 100
    event = until(lambda: [e for e in server.events if e.params["EventType"] == "task.created"])
    assert event[0].status == 204 and event[0].signature == "valid"
    assert "auth_token" not in repr(server) and server._auth_token not in repr(server)
    assert server._auth_token not in server._repr_html_()


def test_forged_and_unsigned_callbacks_are_refused_and_logged(
    server: helpers.CallbackServer, sandbox: SandboxProcess
) -> None:
    url = server.assignment_url
    form = {"TaskSid": "WT" + "0" * 32, "TaskAttributes": "{}"}
    status, content_type, body = post(url, form)
    assert (status, content_type) == (403, "application/json")
    assert "X-Twilio-Signature" in json.loads(body)["error"]
    forged = RequestValidator("not-the-token").compute_signature(url, form)
    status, _, body = post(url, form, {"X-Twilio-Signature": forged})
    assert status == 403 and "does not match" in json.loads(body)["error"]
    tampered = RequestValidator(sandbox.auth_token).compute_signature(url, form)
    status, _, _ = post(url, {**form, "TaskAttributes": '{"vip": true}'}, {
        "X-Twilio-Signature": tampered
    })  # fmt: skip
    assert status == 403
    assert [(r.signature, r.status) for r in server.refused] == [
        ("missing", 403), ("invalid", 403), ("invalid", 403),
    ]  # fmt: skip
    assert list(server.requests) == []  # refused requests are not callbacks
    with pytest.raises(urllib.error.HTTPError) as info:  # a browser visiting the URL
        urllib.request.urlopen(url, timeout=5)
    assert info.value.code == 403

    status, _, _ = post(url, form, {"X-Twilio-Signature": tampered})
    assert status == 200 and server.requests[-1].signature == "valid"


def test_signatures_are_checked_against_the_public_url(
    server: helpers.CallbackServer, sandbox: SandboxProcess
) -> None:
    server.public_url = "https://kit-demo.ngrok-free.dev"
    assert server.assignment_url == "https://kit-demo.ngrok-free.dev/assignment_callback"
    form = {"TaskSid": "WT1", "Timestamp": "1"}
    validator = RequestValidator(sandbox.auth_token)
    public = f"{server.public_url}/assignment_callback?attempt=1"
    signature = validator.compute_signature(public, form)
    status, _, _ = post(f"{server.url}/assignment_callback?attempt=1", form, {
        "X-Twilio-Signature": signature
    })  # fmt: skip
    assert status == 200 and server.requests[-1].url == public
    elsewhere = validator.compute_signature("https://elsewhere.example/assignment_callback", form)
    status, _, _ = post(f"{server.url}/assignment_callback", form, {
        "X-Twilio-Signature": elsewhere
    })  # fmt: skip
    assert status == 403


def test_empty_instruction_leaves_the_reservation_pending(
    scenario: Scenario, server: helpers.CallbackServer, sandbox: SandboxProcess
) -> None:
    server.instruction = {}  # changed while running: decide later via REST
    helpers.point_workflow(scenario.client, scenario.workspace_sid, scenario.workflow_sid, server)
    task = scenario.task(selected_language="es")
    scenario.set_activity("Idle")
    record = server.wait_for(timeout=5)
    assert record.answer == {} and record.status == 200

    def judged() -> list[dict]:
        entries = sandbox.control("GET", "/_sandbox/callbacks")["callbacks"]
        return [e for e in entries if e["reservation_sid"] == record.params["ReservationSid"]]

    assert until(judged, what="the sandbox to judge the answer")[0]["code"] == 40005
    assert scenario.task_status(task) == "reserved"
    assert [r.reservation_status for r in scenario.reservations(task)] == ["pending"]
    assert scenario.worker_activity() == "Reserved"


def test_a_function_instruction_sees_the_decoded_attributes(
    scenario: Scenario, server: helpers.CallbackServer
) -> None:
    seen: list[Any] = []

    def decide(callback: Any) -> dict[str, str]:
        seen.append((callback.task_attributes, callback["WorkerAttributes"], callback.task_sid))
        return {"instruction": "accept"} if callback.task_attributes["vip"] else {}

    server.instruction = decide
    helpers.point_workflow(
        scenario.client, scenario.workspace_sid, scenario.workflow_sid,
        server.assignment_url,
    )  # fmt: skip
    task = scenario.task(vip=True, selected_language="es")
    scenario.set_activity("Idle")
    until(lambda: scenario.task_status(task) == "assigned", what="the task to be assigned")
    assert seen == [({"vip": True, "selected_language": "es"}, {"languages": ["en", "es"]}, task)]
    assert "decide" in repr(server)


def test_a_broken_instruction_function_answers_500_with_the_reason(
    server: helpers.CallbackServer,
) -> None:
    unchecked = helpers.CallbackServer(lambda cb: None, port=0, verify_signatures=False).start()
    try:
        status, _, body = post(unchecked.assignment_url, {"TaskSid": "WT1"})
        assert status == 500 and "return a dict" in json.loads(body)["error"]
        assert unchecked.requests[-1].signature == "skipped"
        unchecked.instruction = lambda cb: 1 / 0
        status, _, body = post(unchecked.assignment_url, {"TaskSid": "WT1"})
        assert status == 500 and "ZeroDivisionError" in json.loads(body)["error"]
        with pytest.raises(helpers.CallbackServerError, match="dict or a function"):
            unchecked.instruction = "accept"  # type: ignore[assignment]
        health = urllib.request.urlopen(f"{unchecked.url}/health", timeout=5)
        assert json.loads(health.read()) == {"status": "ok"}
    finally:
        unchecked.stop()


# -- re-runs, stop/start, interrupts ----------------------------------------------------------


def test_rerunning_start_on_one_port_never_stacks_servers() -> None:
    before = thread_names()
    port = free_port()
    kept_alive = []
    for _ in range(10):  # the same cell, run ten times
        server = helpers.CallbackServer(port=port, verify_signatures=False).start()
        assert server.start() is server  # idempotent
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/health")  # a kept-alive connection, like TaskRouter's
        assert connection.getresponse().read() == b'{"status": "ok"}'
        kept_alive.append(connection)
    assert server_module.running_server(port) is server
    assert len([t for t in threading.enumerate() if t.name.startswith("callback-server")]) == 1
    server.stop()
    server.stop()  # twice is fine
    for connection in kept_alive:
        connection.close()
    assert port_is_free(port)
    until(lambda: thread_names() == before, 2, "the server threads to end")


def test_stop_start_cycles_free_the_port_each_time() -> None:
    before = thread_names()
    server = helpers.CallbackServer(port=free_port(), verify_signatures=False)
    for _ in range(5):
        server.start()
        assert server.running and not port_is_free(server.port)
        server.stop()
        assert not server.running and port_is_free(server.port)
    assert thread_names() == before


def test_busy_port_explains_itself() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        with pytest.raises(helpers.CallbackServerError, match="Cannot listen") as info:
            helpers.CallbackServer(port=port, verify_signatures=False).start()
    assert "port=0" in info.value.hint


def test_interrupt_in_the_middle_of_start_leaks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    before = thread_names()
    port = free_port()
    real = server_module.make_server

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise KeyboardInterrupt  # Kernel ▸ Interrupt lands between bind and serve

    monkeypatch.setattr(server_module, "make_server", interrupted)
    server = helpers.CallbackServer(port=port, verify_signatures=False)
    with pytest.raises(KeyboardInterrupt):
        server.start()
    assert port_is_free(port) and not server.running and thread_names() == before
    monkeypatch.setattr(server_module, "make_server", real)
    assert server.start().running  # the re-run works
    server.stop()
    assert port_is_free(port)


def test_interrupt_while_waiting_keeps_serving_and_rerun_replaces_it() -> None:
    before = thread_names()
    port = free_port()
    first = helpers.CallbackServer(port=port, verify_signatures=False).start()
    timer = threading.Timer(0.2, _thread.interrupt_main)  # Ctrl-C in the kernel's main thread
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        first.wait_for(timeout=5)
    timer.join()
    assert post(first.assignment_url, {"TaskSid": "WT1"})[0] == 200  # still serving
    second = helpers.CallbackServer({}, port=port, verify_signatures=False).start()
    assert not first.running and second.running
    assert json.loads(post(second.assignment_url, {"TaskSid": "WT2"})[2]) == {}
    second.stop()
    assert port_is_free(port)
    until(lambda: thread_names() == before, 2, "the server threads to end")


def test_wait_for_timeout_tells_what_to_check() -> None:
    with helpers.CallbackServer(port=0, verify_signatures=False) as server:
        with pytest.raises(helpers.CallbackServerError, match="No matching callback") as info:
            server.wait_for(timeout=0.1)
        assert "point_workflow" in info.value.hint


def test_point_workflow_refuses_loopback_urls_in_live_mode() -> None:
    live = Client("AC" + "1" * 32, "0" * 32)  # no request is made
    with pytest.raises(helpers.CallbackServerError, match="loopback") as info:
        helpers.point_workflow(live, "WS1", "WW1", "http://127.0.0.1:5050")
    assert "expose" in info.value.hint
