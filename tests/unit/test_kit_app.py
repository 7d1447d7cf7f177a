"""The kit's callback app (plain WSGI, no Flask) and the kept-alive response path, over real
HTTP: the routes answer as the Flask version did, the query and the form reach the log as
``request.values`` did, and a learner's app still gets streamed, HEAD and 500 answers right
on a kept-alive connection."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response
from twilio.request_validator import RequestValidator

import helpers

TOKEN = "12345678901234567890123456789012"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def call(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    assert not response.will_close, (method, path)  # every answer keeps the connection
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def test_the_kit_routes_answer_as_before() -> None:
    with helpers.CallbackServer(port=0, auth_token=TOKEN) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        status, headers, body = call(connection, "GET", "/health")
        assert (status, headers["content-type"], json.loads(body)) == (
            200, "application/json", {"status": "ok"},
        )  # fmt: skip
        assert call(connection, "GET", "/nowhere")[0] == 404
        status, headers, _ = call(connection, "GET", "/events")
        assert status == 405 and headers["allow"] == "OPTIONS, POST"
        status, headers, body = call(connection, "OPTIONS", "/assignment_callback")
        assert status == 200 and "POST" in headers["allow"] and body == b""
        assert list(server.requests) == list(server.refused) == []  # none of these is logged

        url = f"{server.url}/assignment_callback?attempt=2"
        form = {"TaskSid": "WT1", "attempt": "form", "Blank": ""}
        signature = RequestValidator(TOKEN).compute_signature(url, form)
        status, headers, body = call(
            connection, "POST", "/assignment_callback?attempt=2", urlencode(form).encode(),
            {**FORM, "X-Twilio-Signature": signature},
        )  # fmt: skip
        assert (status, headers["content-type"], json.loads(body)) == (
            200, "application/json", {"instruction": "accept"},
        )  # fmt: skip
        record = server.assignments[-1]
        assert record.signature == "valid" and record.url == url
        assert record.params == {"attempt": "2", "TaskSid": "WT1", "Blank": ""}  # query first

        status, _, body = call(connection, "POST", "/events", b"EventType=x", FORM)
        assert status == 403 and "X-Twilio-Signature" in json.loads(body)["error"]
        assert [r.kind for r in server.refused] == ["event"]
        connection.close()


def streamed_app() -> Flask:
    app = Flask("streams")

    @app.get("/stream")
    def stream() -> Response:
        def parts() -> Iterator[str]:
            yield "one,"
            yield ""
            yield "two"

        return Response(parts(), mimetype="text/plain")

    @app.get("/empty")
    def empty() -> tuple[str, int]:
        return "", 204

    return app


def test_a_learners_streamed_and_head_answers_on_a_kept_connection() -> None:
    # helpers.serve(app) without a handler; the token given, so no sandbox is looked up
    learners_alone = helpers.CallbackServer(app=streamed_app(), port=0, auth_token=TOKEN)
    with learners_alone as server:  # the log's middleware reads it all
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        status, headers, body = call(connection, "GET", "/stream")
        assert (status, headers["content-length"], body) == (200, "7", b"one,two")
        assert server.requests[-1].answer == "one,two"
    beside_kit = helpers.CallbackServer({}, app=streamed_app(), port=0, auth_token=TOKEN)
    with beside_kit as server:  # the learner's routes beside the kit's: streamed as they come
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        status, headers, body = call(connection, "GET", "/stream")
        assert (status, headers["transfer-encoding"], body) == (200, "chunked", b"one,two")
        status, headers, body = call(connection, "HEAD", "/stream")
        assert status == 200 and body == b"" and "transfer-encoding" not in headers
        assert call(connection, "GET", "/empty")[:3:2] == (204, b"")
        assert call(connection, "GET", "/stream")[2] == b"one,two"  # the connection still works
        connection.close()


def test_a_generator_app_beside_the_kit_is_streamed() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])  # runs on the first next()
        yield b"a"
        yield b"b"

    def sized(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", "2")])
        yield b"ok"

    for wsgi, expected in ((app, "chunked"), (sized, None)):
        with helpers.CallbackServer({}, app=wsgi, port=0, auth_token=TOKEN) as server:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            for _ in range(2):
                status, headers, body = call(connection, "GET", "/anything")
                assert status == 200 and headers.get("transfer-encoding") == expected
                assert body == (b"ab" if expected else b"ok")
            connection.close()


def test_a_bare_wsgi_app_that_raises_gets_500_and_the_connection_lives_on() -> None:
    calls: list[str] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        calls.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("the learner's bug")
        start_response("200 OK", [("Content-Type", "text/plain")])  # no Content-Length
        return [b"fine"]

    with helpers.CallbackServer(app=app, port=0, auth_token=TOKEN) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        assert call(connection, "GET", "/boom")[0] == 500
        status, headers, body = call(connection, "GET", "/ok")
        assert (status, headers["content-length"], body) == (200, "4", b"fine")
        assert calls == ["/boom", "/ok"]
        connection.close()


def test_raw_headers_are_read_as_http_server_read_them() -> None:
    seen: list[tuple[str | None, str | None]] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append((environ.get("HTTP_X_FOLDED"), environ.get("HTTP_X_PLAIN")))
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    server = helpers.CallbackServer(app=app, port=0, auth_token=TOKEN).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\nX-Folded: one\r\n  two\r\n"
                         b"X-Plain:\t  spaced  \r\n\r\n")  # fmt: skip
            assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
            many = b"".join(b"X-%d: v\r\n" % n for n in range(101))
            sock.sendall(b"GET /b HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 431 ")
    finally:
        server.stop()
    assert seen == [("one  two", "spaced  ")]  # werkzeug's environ joins folded lines
