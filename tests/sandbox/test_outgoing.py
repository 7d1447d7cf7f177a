"""The callback POST's own signature, form body and HTTP exchange (taskrouter_sandbox.outgoing).

The signature must be byte for byte twilio's ``RequestValidator``: learners validate callbacks
with it. The exchange is checked against real sockets answering the ways HTTP servers answer
(Content-Length, chunked, close-delimited, HTTP/1.0, a kept-alive connection closed while idle).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode

import pytest
from twilio.request_validator import RequestValidator

from taskrouter_sandbox.dispatch import Delivery, Dispatcher, Outcome
from taskrouter_sandbox.outgoing import Connection, form_body, signature
from taskrouter_sandbox.urls import call_target

AWKWARD_URLS = [
    "http://127.0.0.1:5050/assignment",
    "http://localhost/assignment?x=1&y=two%20words",
    "https://example.com:8443/a/b;c?q=%E2%82%AC#frag",
    "http://user:p%40ss@host.example:80/cb?a=1",
    "http://[::1]:9000/",
    "https://abc.ngrok-free.app/assignment?",
]
AWKWARD_PARAMS = [
    {},
    {"AccountSid": "AC123", "TaskAttributes": '{"language": "español", "n": 1}'},
    {"b": "2", "a": "1", "A": "0", "a_b": "x y+z&=", "Ü": "ü€😀", "empty": ""},
    {"WorkerAttributes": "{}", "TaskAge": "0", "Timestamp": "1733150000", "x~.-_": "~.-_"},
]


@pytest.mark.parametrize("url", AWKWARD_URLS)
@pytest.mark.parametrize("params", AWKWARD_PARAMS)
def test_signature_is_twilios(url: str, params: dict[str, str]) -> None:
    signed = call_target(url).signed_url  # what the dispatcher signs
    for token in ("secret-token", "tøken ünicode"):
        expected = RequestValidator(token).compute_signature(signed, params)
        assert signature(token, signed, params) == expected
        assert RequestValidator(token).validate(signed, params, signature(token, signed, params))


@pytest.mark.parametrize("params", AWKWARD_PARAMS)
def test_form_body_is_urlencode(params: dict[str, str]) -> None:
    assert form_body(params) == urlencode(params).encode()
    assert dict(parse_qsl(form_body(params).decode(), keep_blank_values=True)) == params


@contextmanager
def canned_server(
    *answers: bytes, close_after_each: bool = False
) -> Iterator[tuple[str, list[bytes]]]:
    """A real TCP server on a free port: reads one request per answer and sends the answer.
    Yields ("127.0.0.1:port", the raw requests it read)."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def serve() -> None:
        pending = list(answers)
        while pending:
            conn, _ = listener.accept()
            with conn:
                while pending:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    if not data:
                        break
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = _content_length(head)
                    while len(body) < length:
                        body += conn.recv(65536)
                    seen.append(head + b"\r\n\r\n" + body)
                    conn.sendall(pending.pop(0))
                    if close_after_each:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}", seen
    finally:
        listener.close()
        thread.join(timeout=5)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


HEAD = b"POST /cb HTTP/1.1\r\nContent-Length: 3\r\n"


def test_content_length_and_keep_alive() -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    with canned_server(ok, ok) as (netloc, seen):
        connection = Connection(netloc, 5.0)
        first = connection.exchange(HEAD, b"a=1", 1000)
        second = connection.exchange(HEAD, b"a=2", 1000)
        connection.close()
    assert (first.status, first.content_type, first.body, first.will_close) == (
        200, "application/json", b"{}", False)  # fmt: skip
    assert second.body == b"{}"
    assert seen[0].endswith(b"\r\n\r\na=1") and seen[1].endswith(b"\r\n\r\na=2")
    assert f"Host: {netloc}".encode() in seen[0]


def test_chunked_close_delimited_and_http10() -> None:
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n"
               b"\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\n")  # fmt: skip
    with canned_server(chunked) as (netloc, _):
        answer = Connection(netloc, 5.0).exchange(HEAD, b"a=1", 1000)
    assert (answer.body, answer.will_close) == (b"Wikipedia", False)
    with canned_server(chunked) as (netloc, _):
        cut = Connection(netloc, 5.0).exchange(HEAD, b"a=1", 6)
    assert (cut.body, cut.will_close) == (b"Wikipe", True)
    until_close = b"HTTP/1.0 500 Oops\r\nContent-Type: text/html\r\n\r\n<p>broken</p>"
    with canned_server(until_close, close_after_each=True) as (netloc, _):
        answer = Connection(netloc, 5.0).exchange(HEAD, b"a=1", 1000)
    assert (answer.status, answer.body, answer.will_close) == (500, b"<p>broken</p>", True)
    continued = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
    with canned_server(continued) as (netloc, _):
        answer = Connection(netloc, 5.0).exchange(HEAD, b"a=1", 1000)
    assert (answer.status, answer.body, answer.will_close) == (204, b"", True)


def test_dispatcher_retries_once_on_a_closed_kept_alive_connection() -> None:
    """The server closes after each answer without saying so: the second POST finds the
    kept-alive connection dead, and the dispatcher sends it again on a new one."""
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    with canned_server(ok, ok, close_after_each=True) as (netloc, seen):
        dispatcher = Dispatcher(lambda delivery, outcome: None)
        params = {"ReservationSid": "WR1", "TaskAttributes": '{"a": "b c"}'}
        delivery = Delivery("assignment", "WS1", "AC1", f"http://u:pw@{netloc}/cb?x=1", params,
                            auth_token="token")  # fmt: skip
        outcomes = [dispatcher.post(delivery, 5.0) for _ in range(2)]
    assert [(o.status, o.body, o.error) for o in outcomes] == [(200, b"{}", None)] * 2
    head = seen[0].split(b"\r\n\r\n")[0].decode()
    expected = RequestValidator("token").compute_signature(f"http://{netloc}/cb?x=1", params)
    assert f"X-Twilio-Signature: {expected}" in head.split("\r\n")
    assert "Authorization: Basic dTpwdw==" in head.split("\r\n")
    assert head.startswith("POST /cb?x=1 HTTP/1.1\r\n")


def test_dispatcher_reports_a_refused_connection_and_a_timeout() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    dispatcher = Dispatcher(lambda delivery, outcome: None)
    delivery = Delivery("assignment", "WS1", "AC1", f"http://127.0.0.1:{port}/cb", {"a": "1"},
                        auth_token="token")  # fmt: skip
    silent = dispatcher.post(delivery, 0.2)  # accepted by the kernel, never answered
    listener.close()
    refused = dispatcher.post(delivery, 0.2)
    assert silent.error == "no answer within 0.2 s" and silent.status is None
    assert refused.status is None and refused.error and "ConnectionRefusedError" in refused.error


def test_answers_are_applied_one_at_a_time_per_workspace_all_of_them_in_order() -> None:
    """Callback threads hand their answers to the workspace's answer lane: per workspace one
    is applied at a time (no pile-up on the store lock), none is lost, each thread's answers
    keep their order, and the lanes end with their workspaces."""
    active: dict[str, int] = {"WS1": 0, "WS2": 0}
    most: dict[str, int] = {"WS1": 0, "WS2": 0}
    applied: list[tuple[str, int, int]] = []
    guard = threading.Lock()
    all_applied = threading.Event()

    def on_answer(delivery: Delivery, outcome: Outcome) -> None:
        with guard:
            active[delivery.workspace_sid] += 1
            most[delivery.workspace_sid] = max(most[delivery.workspace_sid],
                                               active[delivery.workspace_sid])  # fmt: skip
        threading.Event().wait(0.0005)  # overlap with the other threads' hand-overs
        with guard:
            active[delivery.workspace_sid] -= 1
            applied.append((delivery.workspace_sid, *json.loads(delivery.params["n"])))
            if len(applied) == 8 * 40:
                all_applied.set()

    dispatcher = Dispatcher(on_answer)

    def callback_thread(number: int) -> None:
        workspace = "WS1" if number % 2 else "WS2"
        for i in range(40):
            delivery = Delivery("assignment", workspace, "AC1", "http://127.0.0.1:1/",
                                {"n": json.dumps([number, i])}, auth_token="t")  # fmt: skip
            dispatcher._apply_answer(delivery, Outcome(200))

    threads = [threading.Thread(target=callback_thread, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all_applied.wait(timeout=30), f"{len(applied)} of {8 * 40} answers applied"
    assert most == {"WS1": 1, "WS2": 1}
    for number in range(8):
        assert [i for _, n, i in applied if n == number] == list(range(40))
    names = ("sandbox-answers-WS1", "sandbox-answers-WS2")  # this dispatcher's lanes
    lanes = [t for t in threading.enumerate() if t.name in names]
    assert len(lanes) == 2
    dispatcher.forget_all()
    for lane in lanes:
        lane.join(timeout=10)
        assert not lane.is_alive()
