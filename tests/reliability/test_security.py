"""Security: authentication on every route, accounts kept apart, loopback binding, signed
callbacks, and no secret in reprs, errors, logs, the banner or the callback log.

* Every route of ``taskrouter_sandbox.resources.ROUTES`` and
  ``taskrouter_sandbox.control_plane.routes``
  except ``GET /_sandbox/health`` answers 401/20003 to missing, malformed or wrong credentials.
* With several accounts (``serve --extra-account AC…:TOKEN``), account B gets 404 for every
  route naming account A's sids, its lists never show A's records, and it cannot reset the
  sandbox or move its clock (both would reach A).
* ``serve`` binds 127.0.0.1 unless told otherwise, and says WARNING when it is told otherwise.
* The notebook's ``CallbackServer`` answers 403 to unsigned and forged callbacks.
* The auth token, the ngrok authtoken and the Basic auth header value appear in no repr, no
  exception message, no log and no control-plane output.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from helpers.client import ISOLATED_ENV, SandboxHttpClient
from helpers.config import Settings, load_settings
from helpers.server import CallbackServer
from taskrouter_sandbox import control_plane, process
from taskrouter_sandbox.app import SandboxConfig
from taskrouter_sandbox.resources import ROUTES
from taskrouter_sandbox.workshop import control as workshop_control
from tests.reliability.test_bad_input import assert_envelope, sandbox_output
from tests.support.receiver import Receiver
from tests.support.sandbox import KIT_ROOT, SandboxProcess, free_port
from tests.support.scenario import eventually

HEALTH = ("GET", "/_sandbox/health")


def all_routes() -> list[tuple[str, str]]:
    """``(method, template)`` of every route the sandbox serves."""
    return [(m, t) for table in (*ROUTES, control_plane.routes) for m, t, _ in table.table]


def workshop_routes() -> list[tuple[str, str]]:
    """The workshop's control routes (seat-to-seat refusals: tests/workshop/)."""
    return [(m, t) for m, t, _ in workshop_control.routes.table]


def basic(account_sid: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{account_sid}:{token}".encode()).decode()


# -- a sandbox process started with options the session's sandbox does not have ----------------


@dataclass
class Served:
    """``python -m taskrouter_sandbox serve`` with extra options; its output is kept."""

    data_dir: Path
    args: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    output: list[str] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Served:
        command = [
            sys.executable, "-m", "taskrouter_sandbox", "serve",
            *(["--host", self.host] if self.host != "127.0.0.1" else []),
            "--port", str(self.port), "--data-dir", str(self.data_dir),
            "--account-sid", self.account_sid, "--auth-token", self.auth_token, *self.args,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=KIT_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        assert self.process.stdout is not None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError(f"sandbox exited: {self.output}")
            self.output.append(line.rstrip("\n"))
            if f":{self.port} " in line and "listening" in line:
                return self
        raise RuntimeError(f"sandbox did not start: {self.output}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.output.extend(line.rstrip("\n") for line in self.process.stdout)

    def client(self, account_sid: str, token: str) -> Client:
        http = SandboxHttpClient(self.url)
        return Client(account_sid, token, http_client=http, environment=ISOLATED_ENV)

    def session(self, account_sid: str, token: str) -> requests.Session:
        session = requests.Session()
        session.auth = (account_sid, token)
        return session


def listening_address(port: int) -> str:
    """The local address a LISTEN socket on ``port`` is bound to, from /proc/net/tcp."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, _, hex_port = local.partition(":")
        if int(hex_port, 16) == port and state == "0A":
            return socket.inet_ntoa(bytes.fromhex(address)[::-1])
    raise AssertionError(f"nothing listens on port {port}")


# -- 1. every route refuses missing or wrong credentials ---------------------------------


def fill(template: str, sids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: sids.get(m.group(1), "XX" + "0" * 32), template)


def test_every_route_is_enumerated() -> None:
    routes = all_routes()
    v1 = [r for r in routes if r[1].startswith("/v1/")]
    assert len(v1) == 61  # the spec's operations
    assert {t for _, t in routes if t.startswith("/_sandbox/")} >= {
        "/_sandbox/health", "/_sandbox/clock", "/_sandbox/reset", "/_sandbox/callbacks",
        "/_sandbox/calls", "/_sandbox/calls/{CallSid}",
    }  # fmt: skip


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    """A kept-alive session without credentials (each request sets its own header)."""
    session = requests.Session()
    yield session
    session.close()


@pytest.mark.parametrize(
    "method,template", [r for r in all_routes() + workshop_routes() if r != HEALTH]
)
def test_every_route_refuses_missing_or_wrong_credentials(
    sandbox_process: SandboxProcess, http: requests.Session, method: str, template: str
) -> None:
    sandbox = sandbox_process  # nothing to reset: no request may get past authentication
    url = sandbox.url + fill(template, {})
    sid, token = sandbox.account_sid, sandbox.auth_token
    wrong = [
        None,
        "",
        "Basic",
        "Basic ",
        "Bearer " + token,
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(sid.encode()).decode(),  # no colon
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),  # not UTF-8
        basic(sid, token + "x"),
        basic(sid, token[:-1]),
        basic(sid, token.upper()),
        basic(sid, ""),
        basic("AC" + "0" * 32, token),
        basic(sid.lower(), token),
        basic(f" {sid}", token),
        basic(sid, token) + "==",
        "basic " + basic(sid, token + "x").split(" ", 1)[1],
    ]
    for header in wrong:
        headers = {} if header is None else {"Authorization": header}
        response = http.request(method, url, headers=headers, data={"X": "1"}, timeout=10)
        body = assert_envelope(response, 401)
        assert body["code"] == 20003, (header, body)
        assert token not in response.text


def test_health_needs_no_credentials_and_reveals_nothing(sandbox: SandboxProcess) -> None:
    for headers in ({}, {"Authorization": basic("AC" + "0" * 32, "nope")}):
        response = requests.get(f"{sandbox.url}/_sandbox/health", headers=headers, timeout=5)
        assert response.status_code == 200 and response.json() == {"status": "ok"}
    for method in ("POST", "DELETE"):
        response = requests.request(method, f"{sandbox.url}/_sandbox/health", timeout=5)
        assert response.status_code in (401, 405)
        assert_envelope(response)


def test_unknown_paths_are_401_before_404_so_routes_do_not_leak(sandbox: SandboxProcess) -> None:
    for path in ("/v1/Nowhere", "/_sandbox/secret", "/", "/v1/Workspaces/WS" + "0" * 32):
        assert_envelope(requests.get(sandbox.url + path, timeout=5), 401)


# -- 2. accounts are kept apart ---------------------------------------------------------------


@dataclass
class World:
    """Account A's records: every kind of sid a route can name."""

    sids: dict[str, str]
    names: dict[str, str]


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, str]]]:
    """A sandbox with a main account and two extra ones; ``{"A": token, "B": ..., "C": ...}``."""
    extra = {f"AC{secrets.token_hex(16)}": secrets.token_hex(16) for _ in range(2)}
    args = [arg for sid, tok in extra.items() for arg in ("--extra-account", f"{sid}:{tok}")]
    served = Served(tmp_path_factory.mktemp("accounts"), args).start()
    (b_sid, b_token), (c_sid, c_token) = extra.items()
    yield served, {
        "A": served.account_sid, "A_token": served.auth_token,
        "B": b_sid, "B_token": b_token, "C": c_sid, "C_token": c_token,
    }  # fmt: skip
    served.stop()


def build_world(served: Served, sid: str, token: str, receiver: Receiver) -> World:
    client = served.client(sid, token)
    v1 = client.taskrouter.v1
    ws = v1.workspaces.create(
        friendly_name="A's Secret Centre", template="FIFO", multi_task_enabled=False,
        event_callback_url=receiver.url("/events"),
    )  # fmt: skip
    w = v1.workspaces(ws.sid)
    flow = w.workflows.list()[0]
    w.workflows(flow.sid).update(assignment_callback_url=receiver.url("/assignment"))
    available = next(a for a in w.activities.list() if a.friendly_name == "Available")
    worker = w.workers.create(friendly_name="Alice A", activity_sid=available.sid)
    task = w.tasks.create(workflow_sid=flow.sid, attributes='{"secret": "A"}')
    reservation = eventually(lambda: w.tasks(task.sid).reservations.list(), bool)[0]
    w.tasks(task.sid).reservations(reservation.sid).update(
        instruction="call", call_from="+15550001111", call_to="+15550002222",
        call_url="http://127.0.0.1:9/twiml", call_accept=True,
    )  # fmt: skip
    channel = w.workers(worker.sid).worker_channels.list()[0]
    event = w.events.list(limit=1)[0]
    session = served.session(sid, token)
    calls = session.get(f"{served.url}/_sandbox/calls", timeout=5).json()["calls"]
    assert calls, "the call instruction made a simulated call"
    queue = w.task_queues.list()[0]
    sids = {
        "WorkspaceSid": ws.sid, "TaskSid": task.sid, "TaskQueueSid": queue.sid,
        "WorkerSid": worker.sid, "WorkflowSid": flow.sid, "CallSid": calls[0]["sid"],
    }  # fmt: skip
    by_collection = {
        "Activities": available.sid, "Events": event.sid, "Tasks": task.sid,
        "TaskChannels": w.task_channels.list()[0].sid, "TaskQueues": queue.sid,
        "Reservations": reservation.sid, "Workers": worker.sid, "Channels": channel.sid,
        "Workflows": flow.sid, "Workspaces": ws.sid,
    }  # fmt: skip
    sids.update({f"Sid@{k}": v for k, v in by_collection.items()})
    names = {"workspace": ws.friendly_name, "worker": worker.friendly_name}
    return World(sids, names)


def fill_for(template: str, world: World) -> str:
    segments = template.split("/")
    out = []
    for index, segment in enumerate(segments):
        if segment == "{Sid}":
            out.append(world.sids[f"Sid@{segments[index - 1]}"])
        elif segment.startswith("{"):
            out.append(world.sids[segment[1:-1]])
        else:
            out.append(segment)
    return "/".join(out)


@pytest.fixture(scope="module")
def world(accounts: tuple[Served, dict[str, str]]) -> Iterator[World]:
    served, creds = accounts
    receiver = Receiver(creds["A_token"])
    receiver.answer("/assignment", body={})  # decide later: the reservation stays pending
    try:
        yield build_world(served, creds["A"], creds["A_token"], receiver)
    finally:
        receiver.close()


def a_state(served: Served, creds: dict[str, str], world: World) -> dict[str, Any]:
    """What account A sees of its records (to prove B changed nothing)."""
    session = served.session(creds["A"], creds["A_token"])
    out = {}
    for method, template in all_routes():
        if method == "GET" and "{" in template and template.startswith("/v1/"):
            if "Statistics" in template or template.endswith("/Events"):
                continue  # moving figures and growing logs
            response = session.get(served.url + fill_for(template, world), timeout=10)
            assert response.status_code == 200, (template, response.text)
            out[template] = without_age(response.json())
    return out


def without_age(value: Any) -> Any:
    """``age`` (a task's seconds since creation) moves with the clock, nothing else may."""
    if isinstance(value, dict):
        return {k: without_age(v) for k, v in value.items() if k != "age"}
    if isinstance(value, list):
        return [without_age(v) for v in value]
    return value


def valid_form(world: World) -> dict[str, str]:
    """Parameters that every create/update route accepts, so only ownership can refuse."""
    configuration = {"task_routing": {"default_filter": {"queue": world.sids["TaskQueueSid"]}}}
    return {
        "FriendlyName": "B was here", "UniqueName": "b_was_here", "Attributes": "{}",
        "Priority": "1", "Available": "true", "Capacity": "1", "ReservationStatus": "accepted",
        "Configuration": json.dumps(configuration), "Status": "completed",
    }  # fmt: skip


def test_another_account_gets_404_for_every_route_naming_a_s_sids(
    accounts: tuple[Served, dict[str, str]], world: World
) -> None:
    served, creds = accounts
    before = a_state(served, creds, world)
    b = served.session(creds["B"], creds["B_token"])
    nowhere = World({k: v[:2] + secrets.token_hex(16) for k, v in world.sids.items()}, {})
    checked = 0
    for method, template in all_routes():
        if "{" not in template:
            continue
        url = served.url + fill_for(template, world)
        response = b.request(method, url, data=valid_form(world), timeout=10)
        body = assert_envelope(response)
        assert response.status_code == 404, (method, template, body)
        # with a form it refuses, B learns no more than about sids that do not exist
        foreign = b.request(method, url, data={"X": "1"}, timeout=10)
        missing = b.request(method, served.url + fill_for(template, nowhere), data={"X": "1"})
        assert (foreign.status_code, foreign.json()["code"]) == (
            missing.status_code, missing.json()["code"]
        ), (method, template, foreign.text, missing.text)  # fmt: skip
        assert world.names["workspace"] not in response.text, body
        checked += 1
    assert checked >= 56
    bulk = b.post(
        f"{served.url}/v1/Workspaces/{world.sids['WorkspaceSid']}/TaskQueues/RealTimeStatistics",
        json={"queueSids": [world.sids["TaskQueueSid"]]},
        timeout=10,
    )
    assert_envelope(bulk, 404)
    assert a_state(served, creds, world) == before


def test_lists_never_show_another_account_s_records(
    accounts: tuple[Served, dict[str, str]], world: World
) -> None:
    served, creds = accounts
    b = served.session(creds["B"], creds["B_token"])
    own = b.post(f"{served.url}/v1/Workspaces", data={"FriendlyName": world.names["workspace"]})
    assert own.status_code == 201, own.text  # names are per account: no clash, no hint
    for query in ({}, {"FriendlyName": world.names["workspace"]}, {"PageSize": "1000"}):
        listed = b.get(f"{served.url}/v1/Workspaces", params=query, timeout=10).json()
        assert [w["sid"] for w in listed["workspaces"]] == [own.json()["sid"]]
    leaked = set(world.sids.values())
    for path in ("/_sandbox/callbacks", "/_sandbox/calls",
                 f"/_sandbox/callbacks?WorkspaceSid={world.sids['WorkspaceSid']}"):  # fmt: skip
        text = b.get(served.url + path, timeout=10).text
        assert not any(sid in text for sid in leaked), (path, text[:500])
        assert world.names["workspace"] not in text
    a = served.session(creds["A"], creds["A_token"])
    a_callbacks = a.get(f"{served.url}/_sandbox/callbacks", timeout=10).json()["callbacks"]
    assert any(e["workspace_sid"] == world.sids["WorkspaceSid"] for e in a_callbacks)
    a_workspaces = a.get(f"{served.url}/v1/Workspaces", timeout=10).json()["workspaces"]
    assert own.json()["sid"] not in {w["sid"] for w in a_workspaces}


def test_callbacks_of_each_account_are_signed_with_its_own_token(
    accounts: tuple[Served, dict[str, str]],
) -> None:
    served, creds = accounts
    receiver = Receiver(creds["C_token"])
    try:
        c = served.client(creds["C"], creds["C_token"])
        ws = c.taskrouter.v1.workspaces.create(
            friendly_name="C's", event_callback_url=receiver.url("/events")
        )
        c.taskrouter.v1.workspaces(ws.sid).activities.create(friendly_name="Coffee")
        received = receiver.wait_for("/events", 2)
        assert all(r.signature_valid for r in received)  # C's token, not the main one
    finally:
        receiver.close()


def test_only_the_main_account_may_reset_or_move_the_clock(
    accounts: tuple[Served, dict[str, str]], world: World
) -> None:
    served, creds = accounts
    b = served.session(creds["B"], creds["B_token"])
    for path, form in (("/_sandbox/reset", {}), ("/_sandbox/clock", {"Advance": "3600"})):
        assert assert_envelope(b.post(served.url + path, data=form, timeout=10), 403)["code"] == (
            20403
        )
    assert b.get(f"{served.url}/_sandbox/clock", timeout=10).status_code == 200
    a = served.session(creds["A"], creds["A_token"])
    ws = a.get(f"{served.url}/v1/Workspaces/{world.sids['WorkspaceSid']}", timeout=10)
    assert ws.status_code == 200  # B's reset did not happen


def test_extra_accounts_are_validated_and_their_tokens_never_printed(tmp_path: Path) -> None:
    token = secrets.token_hex(16)
    bad = subprocess.run(
        [sys.executable, "-m", "taskrouter_sandbox", "serve", "--data-dir", str(tmp_path),
         "--port", str(free_port()), "--extra-account", f"ACnothex:{token}"],
        capture_output=True, text=True, cwd=KIT_ROOT, timeout=30,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "--extra-account" in bad.stderr and token not in bad.stderr + bad.stdout
    sid = "AC" + secrets.token_hex(16)
    served = Served(tmp_path / "ok", ["--extra-account", f"{sid}:{token}"]).start()
    try:
        assert "and 1 more" in served.output[-1]
        response = served.session(sid, token).get(f"{served.url}/v1/Workspaces", timeout=5)
        assert response.status_code == 200
    finally:
        served.stop()
    assert token not in "\n".join(served.output)
    config = SandboxConfig("AC" + "1" * 32, "main-token", extra_accounts=((sid, token),))
    assert token not in repr(config) and "main-token" not in repr(config) and sid in repr(config)


# -- 3. loopback unless told otherwise ------------------------------------------------------


def test_the_sandbox_binds_loopback_by_default(
    sandbox: SandboxProcess, accounts: tuple[Served, dict[str, str]]
) -> None:
    assert listening_address(sandbox.port) == "127.0.0.1"
    assert "WARNING" not in sandbox.banner
    served, _ = accounts  # serve without --host
    assert "--host" not in served.args
    assert listening_address(served.port) == "127.0.0.1"
    assert not any("WARNING" in line for line in served.output), served.output


def test_binding_all_interfaces_prints_a_warning(tmp_path: Path) -> None:
    served = Served(tmp_path, host="0.0.0.0").start()
    try:
        assert listening_address(served.port) == "0.0.0.0"
        warnings = [line for line in served.output if line.startswith("WARNING")]
        assert warnings and "0.0.0.0" in warnings[0] and "not loopback" in warnings[0]
        assert served.auth_token not in "\n".join(served.output)
    finally:
        served.stop()


def test_the_callback_server_binds_loopback_by_default() -> None:
    with CallbackServer(port=0, auth_token="t" * 32) as server:
        assert listening_address(server.port) == "127.0.0.1"
        assert server.url == f"http://127.0.0.1:{server.port}"


# -- 4. the callback server refuses unsigned or forged requests -----------------------------


def test_the_callback_server_refuses_unsigned_and_forged_callbacks() -> None:
    token = secrets.token_hex(16)
    form = {"TaskSid": "WT" + "0" * 32, "ReservationSid": "WR" + "0" * 32,
            "TaskAttributes": '{"type": "support"}'}  # fmt: skip
    with CallbackServer({"instruction": "accept"}, port=0, auth_token=token) as server:
        url, events = server.assignment_url, server.events_url
        right = RequestValidator(token).compute_signature(url, form)
        forged = [
            {},  # unsigned
            {"X-Twilio-Signature": ""},
            {"X-Twilio-Signature": "not base64 at all"},
            {"X-Twilio-Signature": RequestValidator("wrong" + token).compute_signature(url, form)},
            {"X-Twilio-Signature": RequestValidator(token).compute_signature(url + "x", form)},
            {"X-Twilio-Signature": RequestValidator(token).compute_signature(
                url, {**form, "TaskSid": "WT" + "1" * 32})},
            {"X-Twilio-Signature": right.upper()},
        ]  # fmt: skip
        for headers in forged:
            response = requests.post(url, data=form, headers=headers, timeout=5)
            assert response.status_code == 403, (headers, response.text)
            assert token not in response.text
        for headers in forged[:2]:
            assert requests.post(events, data=form, headers=headers, timeout=5).status_code == 403
        assert requests.get(url, timeout=5).status_code == 403
        tampered = {**form, "TaskAttributes": '{"type": "sales"}'}
        response = requests.post(url, data=tampered, headers={"X-Twilio-Signature": right})
        assert response.status_code == 403
        answered = requests.post(url, data=form, headers={"X-Twilio-Signature": right}, timeout=5)
        assert answered.status_code == 200 and answered.json() == {"instruction": "accept"}
        refused = list(server.refused)  # kept apart: never counted as callbacks
        assert len(refused) == len(forged) + 4
        assert all(r.signature in ("missing", "invalid") for r in refused)
        # behind a tunnel: the public URL is what TaskRouter signs
        server.public_url = "https://kit-test.ngrok.app"
        public = server.assignment_url
        signed = RequestValidator(token).compute_signature(public, form)
        ok = requests.post(url, data=form, headers={"X-Twilio-Signature": signed}, timeout=5)
        assert ok.status_code == 200
        forged_public = RequestValidator(token).compute_signature(public + "/evil", form)
        response = requests.post(url, data=form, headers={"X-Twilio-Signature": forged_public})
        assert response.status_code == 403


# -- 5. no secret in reprs, messages, logs, banners, control-plane output ---------------------


def secrets_of(account_sid: str, token: str, *more: str) -> list[str]:
    header = basic(account_sid, token)
    return [token, header, header.split(" ", 1)[1], *more]


def assert_clean(text: str, forbidden: list[str], where: str) -> None:
    for secret in forbidden:
        assert secret not in text, f"a secret ({secret[:4]}…) appears in {where}: {text[:300]!r}"


def test_reprs_of_settings_config_credentials_and_servers_hide_secrets() -> None:
    token, ngrok = secrets.token_hex(16), "2ab" + secrets.token_hex(20)
    sid = "AC" + secrets.token_hex(16)
    forbidden = secrets_of(sid, token, ngrok)
    settings = load_settings(
        {"TASKROUTER_MODE": "live", "TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": token,
         "NGROK_AUTHTOKEN": ngrok}, dotenv_path=Path("/nonexistent/.env"),
    )  # fmt: skip
    assert settings.auth_token == token and settings.ngrok_authtoken == ngrok
    objects: list[Any] = [
        settings,
        Settings(account_sid=sid, auth_token=token, ngrok_authtoken=ngrok),
        SandboxConfig(sid, token, extra_accounts=(("AC" + "2" * 32, token),)),
        process.Credentials(sid, token),
    ]
    server = CallbackServer(port=0, auth_token=token)
    objects.append(server)
    with server:
        server.public_url = "https://kit-test.ngrok.app"
        objects.append(server)
        texts = [repr(o) for o in objects] + [str(o) for o in objects]
        texts.append(server._repr_html_())
    for text in texts:
        assert_clean(text, forbidden, "a repr")


def test_sdk_errors_from_the_sandbox_carry_no_secret(sandbox: SandboxProcess) -> None:
    forbidden = secrets_of(sandbox.account_sid, sandbox.auth_token)
    client = sandbox.client()
    wrong = Client(
        sandbox.account_sid, sandbox.auth_token + "x",
        http_client=SandboxHttpClient(sandbox.url), environment=ISOLATED_ENV,
    )  # fmt: skip
    calls = [
        lambda: client.taskrouter.v1.workspaces("WS" + "0" * 32).fetch(),
        lambda: client.taskrouter.v1.workspaces.create(friendly_name=""),
        lambda: client.taskrouter.v1.workspaces.create(friendly_name="x" * 65),
        lambda: wrong.taskrouter.v1.workspaces.list(),
        lambda: wrong.taskrouter.v1.workspaces.create(friendly_name="W"),
    ]
    seen = 0
    for call in calls:
        with pytest.raises(TwilioException) as caught:  # lists raise the base class
            call()
        error = caught.value
        texts = [str(error), repr(error), *map(str, error.args)]
        if isinstance(error, TwilioRestException):
            texts += [error.msg, error.uri, json.dumps(error.details or {})]
        for text in texts:
            assert_clean(str(text), [*forbidden, sandbox.auth_token + "x"], "an SDK error")
        seen += 1
    assert seen == len(calls)


def test_the_banner_the_log_file_and_the_callback_log_carry_no_secret(
    tmp_path: Path, sandbox: SandboxProcess
) -> None:
    assert sandbox.account_sid in sandbox.banner  # the banner says which account...
    assert_clean(sandbox.banner, secrets_of(sandbox.account_sid, sandbox.auth_token), "banner")

    data_dir = tmp_path / "background"
    port = free_port()
    url = process.start(data_dir, "127.0.0.1", port)
    try:
        creds = process.credentials(data_dir)
        forbidden = secrets_of(creds.account_sid, creds.auth_token)
        receiver = Receiver(creds.auth_token)
        receiver.answer("/assignment", body={"instruction": "accept"})
        try:
            exercise_background_sandbox(url, creds, receiver)
        finally:
            receiver.close()
        session = requests.Session()
        session.auth = (creds.account_sid, creds.auth_token)
        callbacks = session.get(f"{url}/_sandbox/callbacks", timeout=10)
        assert callbacks.status_code == 200 and len(callbacks.json()["callbacks"]) >= 3
        assert_clean(callbacks.text, forbidden, "GET /_sandbox/callbacks")
        calls = session.get(f"{url}/_sandbox/calls", timeout=10)
        assert_clean(calls.text, forbidden, "GET /_sandbox/calls")
    finally:
        process.stop(data_dir)
    log = (data_dir / process.LOG_FILE).read_text(errors="replace")
    assert "listening" in log
    assert_clean(log, forbidden, "sandbox.log")
    assert_clean("\n".join(sandbox_output(sandbox)), forbidden, "the sandbox's output")


def exercise_background_sandbox(url: str, creds: process.Credentials, receiver: Receiver) -> None:
    """Callbacks that succeed, fail and time out; errors of every kind; wrong credentials."""
    client = Client(
        creds.account_sid, creds.auth_token,
        http_client=SandboxHttpClient(url), environment=ISOLATED_ENV,
    )  # fmt: skip
    v1 = client.taskrouter.v1
    ws = v1.workspaces.create(
        friendly_name="Secrets", template="FIFO", event_callback_url=receiver.url("/events")
    )
    w = v1.workspaces(ws.sid)
    flow = w.workflows.list()[0]
    w.workflows(flow.sid).update(
        assignment_callback_url=receiver.url("/assignment"),
        fallback_assignment_callback_url=f"http://127.0.0.1:{free_port()}/dead",
    )
    available = next(a for a in w.activities.list() if a.friendly_name == "Available")
    w.workers.create(friendly_name="Alice", activity_sid=available.sid)
    task = w.tasks.create(workflow_sid=flow.sid, attributes="{}")
    eventually(lambda: w.tasks(task.sid).fetch().assignment_status, lambda s: s == "assigned")
    w.update(event_callback_url=f"http://127.0.0.1:{free_port()}/dead")
    w.activities.create(friendly_name="Lunch")  # an event to a dead URL
    for bad in (
        lambda: w.workers("WK" + "0" * 32).fetch(),
        lambda: w.tasks.create(attributes="not json"),
    ):
        with pytest.raises(TwilioRestException):
            bad()
    for auth in ((creds.account_sid, creds.auth_token + "x"), ("AC" + "0" * 32, creds.auth_token)):
        assert requests.get(f"{url}/v1/Workspaces", auth=auth, timeout=5).status_code == 401
    raw = f"GET /v1/Workspaces HTTP/1.1\r\nAuthorization: {basic(*auth)}\r\nBAD\r\n\r\n"
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=5) as sock:
        sock.sendall(raw.encode())
        sock.recv(65536)
    eventually(
        lambda: requests.get(
            f"{url}/_sandbox/callbacks", auth=(creds.account_sid, creds.auth_token), timeout=5
        ).json()["callbacks"],
        lambda entries: any("dead" in (e["url"] or "") for e in entries),
    )
