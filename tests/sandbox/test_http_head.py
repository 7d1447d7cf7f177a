"""The sandbox's own request-head reader (``http_head``), over raw sockets to a real server.

What http.server used to decide and the SDK never exercises: folded header lines, repeated and
conflicting Content-Length, a header line without a colon, HTTP/1.0 with and without
keep-alive, ``Expect: 100-continue`` (curl sends it before a body over 1 KB), absolute-form
targets and a fragment in the target. The limits (414, 431) and the request-line refusals are
in ``tests/reliability/test_bad_input.py``.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
from collections.abc import Iterator

import pytest

from taskrouter_sandbox.app import SandboxConfig, create_app
from taskrouter_sandbox.http_server import SandboxHTTPServer, make_server, serve_in_thread


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SandboxHTTPServer, str]]:
    config = SandboxConfig("AC" + secrets.token_hex(16), secrets.token_hex(16), port=0)
    sandbox = create_app(config)
    server = make_server(sandbox, "127.0.0.1", 0, idle_timeout=5)
    serve_in_thread(server)
    pair = f"{config.account_sid}:{config.auth_token}".encode()
    try:
        yield server, "Basic " + base64.b64encode(pair).decode()
    finally:
        server.shutdown()
        server.server_close()
        sandbox.close()


class Connection:
    """A raw client connection that reads whole answers (status, headers, body)."""

    def __init__(self, server: SandboxHTTPServer) -> None:
        self.sock = socket.create_connection(server.server_address[:2], timeout=10)
        self.data = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.data:
            chunk = self.sock.recv(65536)
            assert chunk, f"closed without an answer; got {self.data!r}"
            self.data += chunk
        head, _, self.data = self.data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.data) < length:
            chunk = self.sock.recv(65536)
            assert chunk, "body cut short"
            self.data += chunk
        body, self.data = self.data[:length], self.data[length:]
        return status, headers, body

    def closed(self) -> bool:
        """True when the server closed the connection (nothing more arrives)."""
        return self.data == b"" and self.sock.recv(1) == b""

    def close(self) -> None:
        self.sock.close()


def request(auth: str, *lines: str, version: str = "HTTP/1.1", body: bytes = b"") -> bytes:
    head = [f"POST /v1/Workspaces {version}" if body else f"GET /v1/Workspaces {version}"]
    head += ["Host: x", f"Authorization: {auth}", *lines]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def test_a_folded_header_line_continues_the_field(
    served: tuple[SandboxHTTPServer, str],
) -> None:
    server, auth = served
    scheme, token = auth.split(" ")
    conn = Connection(server)
    try:  # the Authorization value folded onto a second line still authenticates
        conn.send(request(f"{scheme}\r\n {token}"))
        status, _, _ = conn.answer()
    finally:
        conn.close()
    assert status == 200


def test_a_header_line_without_a_colon_is_400_and_closes(
    served: tuple[SandboxHTTPServer, str],
) -> None:
    server, auth = served
    conn = Connection(server)
    try:
        conn.send(request(auth, "NoColonHere"))
        status, headers, body = conn.answer()
        assert conn.closed()
    finally:
        conn.close()
    assert status == 400 and headers["connection"] == "close"
    assert "NoColonHere" in json.loads(body)["message"]


def test_conflicting_content_lengths_are_400_and_repeated_equal_ones_are_fine(
    served: tuple[SandboxHTTPServer, str],
) -> None:
    server, auth = served
    form = b"FriendlyName=Twice"
    conn = Connection(server)
    try:
        ctype = "Content-Type: application/x-www-form-urlencoded"
        conn.send(request(auth, ctype, "Content-Length: 18", "Content-Length: 18", body=form))
        created, _, body = conn.answer()
        conn.send(request(auth, ctype, "Content-Length: 18", "Content-Length: 5", body=form))
        conflicting, _, _ = conn.answer()
        assert conn.closed()
    finally:
        conn.close()
    assert created == 201 and json.loads(body)["friendly_name"] == "Twice"
    assert conflicting == 400


@pytest.mark.parametrize(
    ("connection", "kept"), [(None, False), ("keep-alive", True), ("close", False)]
)
def test_http_1_0_keeps_the_connection_only_when_asked(
    served: tuple[SandboxHTTPServer, str], connection: str | None, kept: bool
) -> None:
    server, auth = served
    lines = [f"Connection: {connection}"] if connection else []
    conn = Connection(server)
    try:
        conn.send(request(auth, *lines, version="HTTP/1.0"))
        status, headers, _ = conn.answer()
        if kept:  # a second request on the same connection is served too
            conn.send(request(auth, *lines, version="HTTP/1.0"))
            assert conn.answer()[0] == 200
        else:
            assert headers["connection"] == "close" and conn.closed()
    finally:
        conn.close()
    assert status == 200


def test_expect_100_continue_is_answered_before_the_body_and_only_for_a_known_client(
    served: tuple[SandboxHTTPServer, str],
) -> None:
    server, auth = served
    form = b"FriendlyName=Curl"
    lines = ("Expect: 100-continue", f"Content-Length: {len(form)}",
             "Content-Type: application/x-www-form-urlencoded")  # fmt: skip
    conn = Connection(server)
    try:
        conn.send(request(auth, *lines, body=b"").replace(b"GET", b"POST", 1))
        interim, _, _ = conn.answer()
        conn.send(form)
        created, _, body = conn.answer()
    finally:
        conn.close()
    assert interim == 100
    assert created == 201 and json.loads(body)["friendly_name"] == "Curl"
    stranger = Connection(server)
    try:  # wrong credentials: 401 at once, no 100 that would invite the body
        stranger.send(request("Basic eDp5", *lines, body=b"").replace(b"GET", b"POST", 1))
        refused, _, _ = stranger.answer()
    finally:
        stranger.close()
    assert refused == 401


def test_absolute_form_and_fragment_targets_reach_the_route(
    served: tuple[SandboxHTTPServer, str],
) -> None:
    server, auth = served
    conn = Connection(server)
    try:
        for target in ("http://127.0.0.1/v1/Workspaces?PageSize=5", "/v1/Workspaces?PageSize=5#x"):
            conn.send(request(auth).replace(b"/v1/Workspaces", target.encode(), 1))
            status, _, body = conn.answer()
            assert status == 200, body
            assert json.loads(body)["meta"]["page_size"] == 5
    finally:
        conn.close()


def test_pipelined_heads_in_one_write_are_each_read_whole(
    served: tuple[SandboxHTTPServer, str],
) -> None:
    """Heads arriving in one write are each read to their own end: a head with no fields, one
    with a bare-LF line, a folded one, then a POST with its body."""
    server, auth = served
    scheme, token = auth.split(" ")
    conn = Connection(server)
    try:
        conn.send(
            b"GET /_sandbox/health HTTP/1.1\r\n\r\n"
            + f"GET /v1/Workspaces HTTP/1.1\nHost: x\r\nAuthorization: {auth}\r\n\r\n".encode()
            + request(f"{scheme}\r\n {token}")
            + request(
                auth,
                "Content-Type: application/x-www-form-urlencoded",
                "Content-Length: 14",
                body=b"FriendlyName=P",
            )
        )
        answers = [conn.answer() for _ in range(4)]
    finally:
        conn.close()
    assert [status for status, _, _ in answers] == [200, 200, 200, 201]
    assert json.loads(answers[3][2])["friendly_name"] == "P"
