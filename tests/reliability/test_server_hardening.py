"""The sandbox's front door on a shared host (issue 19, "also seen"), with raw sockets.

* idle connections and partial requests (request line, headers, body) are closed after the
  idle timeout instead of holding a thread forever; beyond the connection cap new connections
  get a 503 at once;
* credentials are checked from the headers before a byte of the body is read or parsed;
* the data dir is created 0700 and its files 0600;
* tokens can come from a file or the environment, so they are not in the process list.

The in-process tests configure a short idle timeout (0.5 s): that is the setting under test,
not a sleep through the sandbox's 30 s default.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from twilio.rest import Client

from helpers.client import ISOLATED_ENV, SandboxHttpClient
from taskrouter_sandbox.app import SandboxConfig, create_app
from taskrouter_sandbox.http_server import (
    IDLE_TIMEOUT,
    SandboxHTTPServer,
    make_server,
    serve_in_thread,
)
from tests.support.sandbox import KIT_ROOT, SandboxProcess, free_port

SHORT = 0.5  # the idle timeout of the in-process servers below


@pytest.fixture
def served() -> Iterator[tuple[SandboxHTTPServer, SandboxConfig]]:
    config = SandboxConfig("AC" + secrets.token_hex(16), secrets.token_hex(16), port=0)
    sandbox = create_app(config)
    server = make_server(sandbox, "127.0.0.1", 0, idle_timeout=SHORT, max_connections=4)
    serve_in_thread(server)
    try:
        yield server, config
    finally:
        server.shutdown()
        server.server_close()
        sandbox.close()


def connect(server: SandboxHTTPServer) -> socket.socket:
    sock = socket.create_connection(server.server_address[:2], timeout=10)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection (or 10 s pass)."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def basic(config: SandboxConfig, token: str | None = None) -> str:
    pair = f"{config.account_sid}:{token or config.auth_token}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def test_the_default_idle_timeout_is_finite() -> None:
    assert 0 < IDLE_TIMEOUT <= 60


@pytest.mark.parametrize(
    "partial",
    [
        b"",  # connected, never says anything
        b"GET /v1/Workspa",  # half a request line
        b"GET /v1/Workspaces HTTP/1.1\r\nHost: x\r\n",  # headers never end
    ],
)
def test_idle_and_partial_requests_are_closed_after_the_idle_timeout(
    served: tuple[SandboxHTTPServer, SandboxConfig], partial: bytes
) -> None:
    server, _ = served
    with connect(server) as sock:
        sock.sendall(partial)
        started = time.monotonic()
        read_all(sock)  # returns when the server closes
        waited = time.monotonic() - started
    assert SHORT * 0.8 <= waited < SHORT + 5, waited


def test_a_body_that_stops_arriving_gets_408_and_the_connection_closes(
    served: tuple[SandboxHTTPServer, SandboxConfig],
) -> None:
    server, config = served
    head = (
        "POST /v1/Workspaces HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: {basic(config)}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
        "FriendlyName=Half"
    )
    with connect(server) as sock:
        sock.sendall(head.encode())
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["status"] == 408


def test_connections_beyond_the_cap_get_503_at_once_and_the_pool_recovers(
    served: tuple[SandboxHTTPServer, SandboxConfig],
) -> None:
    server, config = served
    stray = [connect(server) for _ in range(4)]  # the cap (4 here): all threads taken
    try:
        time.sleep(0.05)  # let the server accept them (not a timeout: an accept loop turn)
        with connect(server) as extra:
            started = time.monotonic()
            answer = read_all(extra)
        assert time.monotonic() - started < SHORT, "refused at once, not after a timeout"
        assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
        assert b"Retry-After: 1" in answer
    finally:
        for sock in stray:
            sock.close()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/Workspaces"
    deadline = time.monotonic() + 5
    while True:  # the slots come back as the stray connections close
        response = requests.get(url, auth=(config.account_sid, config.auth_token), timeout=5)
        if response.status_code == 200 or time.monotonic() > deadline:
            break
    assert response.status_code == 200


def test_credentials_are_checked_before_the_body_is_read(
    served: tuple[SandboxHTTPServer, SandboxConfig],
) -> None:
    """A stranger announcing a 1 MB body is answered 401 at once, without sending it."""
    server, config = served
    for authorization in ("", f"Authorization: {basic(config, 'wrong')}\r\n"):
        head = (
            f"POST /v1/Workspaces HTTP/1.1\r\nHost: x\r\n{authorization}"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000\r\n\r\n"
        )
        with connect(server) as sock:
            sock.sendall(head.encode())
            started = time.monotonic()
            answer = read_all(sock)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        assert time.monotonic() - started < SHORT * 0.8, "it waited for the body"
        assert b"Connection: close" in answer


def test_the_data_dir_is_private_and_so_are_its_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    sandbox = SandboxProcess(data_dir=data_dir).start()
    try:
        sandbox.client().taskrouter.v1.workspaces.create(friendly_name="Private")
    finally:
        sandbox.stop()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    files = list(data_dir.iterdir())
    assert any(f.name == "sandbox.sqlite3" for f in files)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_an_old_world_readable_data_dir_is_tightened(tmp_path: Path) -> None:
    data_dir = tmp_path / "old"
    data_dir.mkdir(mode=0o755)
    db = data_dir / "sandbox.sqlite3"
    db.touch(mode=0o644)
    data_dir.chmod(0o755)
    db.chmod(0o644)
    sandbox = SandboxProcess(data_dir=data_dir).start()
    sandbox.stop()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_a_dir_with_the_user_s_own_files_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "project"
    shared.mkdir()
    (shared / "notes.txt").write_text("mine")
    shared.chmod(0o755)
    sandbox = SandboxProcess(data_dir=shared).start()
    sandbox.stop()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "sandbox.sqlite3").stat().st_mode) == 0o600


def _serve(tmp_path: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "taskrouter_sandbox", "serve", "--data-dir",
               str(tmp_path / "data"), *args]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=KIT_ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "listening on" in line, line
    return process


def _status(port: int, sid: str, token: str) -> int:
    url = f"http://127.0.0.1:{port}/v1/Workspaces"
    return requests.get(url, auth=(sid, token), timeout=5).status_code


def test_tokens_from_files_never_reach_the_process_list(tmp_path: Path) -> None:
    main = ("AC" + secrets.token_hex(16), secrets.token_hex(16))
    extra = [("AC" + secrets.token_hex(16), secrets.token_hex(16)) for _ in range(2)]
    token_file = tmp_path / "token"
    token_file.write_text(main[1] + "\n")
    accounts_file = tmp_path / "accounts"
    accounts_file.write_text("# the room\n" + "\n".join(f"{s}:{t}" for s, t in extra) + "\n")
    port = free_port()
    process = _serve(
        tmp_path,
        ["--port", str(port), "--account-sid", main[0], "--auth-token-file", str(token_file),
         "--extra-accounts-file", str(accounts_file)],
        {},
    )  # fmt: skip
    try:
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode()
        for sid, token in (main, *extra):
            assert token not in cmdline
            assert _status(port, sid, token) == 200
        assert _status(port, main[0], "wrong") == 401
    finally:
        process.terminate()
        process.wait(10)


def test_tokens_from_the_environment(tmp_path: Path) -> None:
    main = ("AC" + secrets.token_hex(16), secrets.token_hex(16))
    extra = ("AC" + secrets.token_hex(16), secrets.token_hex(16))
    port = free_port()
    env = {"TASKROUTER_SANDBOX_ACCOUNT_SID": main[0], "TASKROUTER_SANDBOX_AUTH_TOKEN": main[1],
           "TASKROUTER_SANDBOX_EXTRA_ACCOUNTS": f"{extra[0]}:{extra[1]}"}  # fmt: skip
    process = _serve(tmp_path, ["--port", str(port)], env)
    try:
        assert _status(port, *main) == 200 and _status(port, *extra) == 200
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.parametrize(
    ("args", "content", "wanted"),
    [
        (["--auth-token", "x", "--auth-token-file", "{file}"], "tok", "not both"),
        (["--auth-token-file", "{file}"], "a\nb\n", "one line"),
        (["--auth-token-file", "{missing}"], "", "cannot read"),
        (["--extra-accounts-file", "{file}"], "ACnothex:SECRET-TOKEN\n", "entry 1"),
        (["--auth-token-file", "{file}"], "SECRET-TOKEN\n", "without the other"),
        (["--account-sid", "AC" + "0" * 32], "", "without the other"),
    ],
)
def test_bad_credential_sources_are_refused_without_echoing_tokens(
    tmp_path: Path, args: list[str], content: str, wanted: str
) -> None:
    file = tmp_path / "secret"
    file.write_text(content)
    argv = [a.format(file=file, missing=tmp_path / "missing") for a in args]
    result = subprocess.run(
        [sys.executable, "-m", "taskrouter_sandbox", "serve", "--data-dir", str(tmp_path / "d"),
         "--port", str(free_port()), *argv],
        capture_output=True, text=True, cwd=KIT_ROOT, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert wanted in result.stderr
    assert "SECRET-TOKEN" not in result.stderr + result.stdout


def test_help_documents_the_credential_sources() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "taskrouter_sandbox", "serve", "--help"],
        capture_output=True, text=True, cwd=KIT_ROOT, timeout=30,
    )  # fmt: skip
    needles = ("--auth-token-file", "--extra-accounts-file", "TASKROUTER_SANDBOX_AUTH_TOKEN",
               "TASKROUTER_SANDBOX_EXTRA_ACCOUNTS", "TASKROUTER_SANDBOX_ACCOUNT_SID")  # fmt: skip
    for needle in needles:
        assert needle in result.stdout


def test_the_sdk_reconnects_transparently_after_an_idle_close(
    served: tuple[SandboxHTTPServer, SandboxConfig],
) -> None:
    """A learner's kernel idle for longer than the timeout: the next SDK call just works."""
    server, config = served
    client = Client(
        config.account_sid,
        config.auth_token,
        http_client=SandboxHttpClient(f"http://127.0.0.1:{server.server_address[1]}"),
        environment=ISOLATED_ENV,
    )
    client.taskrouter.v1.workspaces.create(friendly_name="Before")
    time.sleep(SHORT * 2)  # the server closes the kept-alive connection meanwhile
    names = [w.friendly_name for w in client.taskrouter.v1.workspaces.list()]
    assert names == ["Before"]
