"""The callback server keeps connections alive (one TCP connection for many callbacks, as the
sandbox's dispatcher and Twilio's tunnel send them) and still frees everything on ``stop()``."""

from __future__ import annotations

import http.client
import json
import time

from flask import Flask, request
from twilio.rest import Client

import helpers
from helpers.keepalive import MAX_KEPT_BODY
from tests.support.sandbox import SandboxProcess
from tests.unit.test_callback_server import Scenario, port_is_free, thread_names, until

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_the_sandboxs_callbacks_reuse_one_connection(
    sandbox: SandboxProcess, client: Client
) -> None:
    scenario = Scenario.build(client)
    seen: list[tuple[str, int]] = []
    app = Flask("keepalive")

    @app.post("/events")
    def events() -> tuple[str, int]:
        seen.append((request.form["EventType"], int(request.environ["REMOTE_PORT"])))
        return "", 204

    server = helpers.CallbackServer(app=app, port=0, auth_token=sandbox.auth_token).start()
    try:
        scenario.workspace.update(event_callback_url=f"{server.url}/events")
        for number in range(5):  # nobody is available: each task only raises events
            scenario.task(number=number)
        until(lambda: len([e for e, _ in seen if e == "task.created"]) == 5, what="5 events")
        ports = {port for _, port in seen}
        assert len(seen) >= 5 and len(ports) == 1, seen  # werkzeug alone: one port per event
        assert len(server.requests) == len(seen)  # the request log saw every one
    finally:
        server.stop()


def test_a_body_the_app_did_not_read_never_leaks_into_the_next_request() -> None:
    with helpers.CallbackServer(port=0, verify_signatures=False) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        connection.request("POST", "/health", body=b"GET /evil HTTP/1.1\r\n\r\n" * 50)
        first = connection.getresponse()
        assert first.status == 405 and not first.will_close
        first.read()
        sock = connection.sock
        for _ in range(3):
            connection.request("POST", "/assignment_callback", body=b"TaskSid=WT1", headers=FORM)
            response = connection.getresponse()
            assert (response.status, json.loads(response.read())) == (
                200, {"instruction": "accept"},
            )  # fmt: skip
        assert connection.sock is sock  # the same TCP connection throughout
        assert [r.params["TaskSid"] for r in server.assignments] == ["WT1"] * 3
        connection.close()


def test_close_is_answered_with_close() -> None:
    with helpers.CallbackServer(port=0, verify_signatures=False) as server:
        asked = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        asked.request("GET", "/health", headers={"Connection": "close"})
        assert asked.getresponse().will_close
        big = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        big.request("POST", "/assignment_callback", body=b"x" * (MAX_KEPT_BODY + 1))
        response = big.getresponse()
        assert response.status == 200 and response.will_close  # a body no callback sends
        asked.close()
        big.close()


def test_stop_closes_idle_kept_alive_connections_at_once() -> None:
    before = thread_names()
    server = helpers.CallbackServer(port=0, verify_signatures=False).start()
    port = server.port
    connections = []
    for _ in range(4):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/health")
        assert connection.getresponse().read() == b'{"status": "ok"}'
        connections.append(connection)  # each now idle, its handler thread waiting on it
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 1.0
    assert port_is_free(port)
    for connection in connections:
        assert connection.sock is not None
        connection.sock.settimeout(2)
        assert connection.sock.recv(1) == b""  # the server closed its end
        connection.close()
    until(lambda: thread_names() == before, 2, "the handler threads to end")


def test_a_rerun_leaves_no_old_server_answering_on_a_kept_alive_connection() -> None:
    first = helpers.CallbackServer({"instruction": "accept"}, port=0, verify_signatures=False)
    port = first.start().port
    held = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    held.request("POST", "/assignment_callback", body=b"TaskSid=WT1", headers=FORM)
    assert json.loads(held.getresponse().read()) == {"instruction": "accept"}
    # the cell re-run with a new instruction: the old server's idle connection must not
    # keep answering with the old one
    second = helpers.CallbackServer({"instruction": "reject"}, port=port, verify_signatures=False)
    second.start()
    assert held.sock is not None
    held.sock.settimeout(2)
    assert held.sock.recv(1) == b""
    held.close()  # a client reconnects (the sandbox's dispatcher retries once) and gets the new
    held.request("POST", "/assignment_callback", body=b"TaskSid=WT2", headers=FORM)
    assert json.loads(held.getresponse().read()) == {"instruction": "reject"}
    assert [r.params["TaskSid"] for r in second.assignments] == ["WT2"]
    held.close()
    second.stop()
