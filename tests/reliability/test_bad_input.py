"""Hand-written bad input against a real sandbox process: what a fuzzer rarely builds.

Huge bodies, lying or missing framing headers, bytes that are not UTF-8, SQL and JSON
injection, JSON nested thousands deep, unicode names at the length limit, sids of the wrong
type or of another workspace, malformed paths and request lines, unknown methods. Every answer
must be a clean 2xx or Twilio's error envelope, never a 500, a crash or a hung connection.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.support.receiver import Receiver
from tests.support.sandbox import SandboxProcess
from tests.support.scenario import eventually

ENVELOPE_KEYS = {"code", "message", "more_info", "status"}
MAX_BODY = 2 * 1024 * 1024
DEEP = 10_000
SQL_INJECTIONS = (
    "'; DROP TABLE records; --",
    "Robert'); DELETE FROM records WHERE ('1'='1",
    '" OR ""="',
    "1' OR '1'='1' /*",
    "x'); UPDATE records SET data = '{}' --",
)
JSON_INJECTIONS = (
    '", "sid": "WS00000000000000000000000000000000", "x": "',
    '"}, {"friendly_name": "evil"',
    '\\u0000\\" \\\\ </script>',
)


# -- checks shared with the other reliability modules -------------------------------------


def assert_envelope(response: requests.Response, status: int | None = None) -> dict[str, Any]:
    """The response is Twilio's error envelope with an integer code and the HTTP status."""
    content_type = response.headers.get("Content-Type", "")
    return check_envelope(response.status_code, content_type, response.content, status)


def check_envelope(
    http_status: int, content_type: str, content: bytes, status: int | None = None
) -> dict[str, Any]:
    """:func:`assert_envelope` on the parts of a response (any HTTP library's)."""
    try:
        body = json.loads(content)
    except ValueError:
        raise AssertionError(f"{http_status}: not JSON: {content[:300]!r}") from None
    assert isinstance(body, dict) and set(body) == ENVELOPE_KEYS, body
    assert isinstance(body["code"], int) and not isinstance(body["code"], bool), body
    assert body["status"] == http_status, body
    if status is not None:
        assert http_status == status, body
    assert isinstance(body["message"], str) and body["message"], body
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{body['code']}", body
    assert content_type.startswith("application/json"), content_type
    return body


_OUTPUT: dict[int, list[str]] = {}
_OUTPUT_LOCK = threading.Lock()


def sandbox_output(sandbox: SandboxProcess) -> list[str]:
    """What the sandbox process printed after its banner, read by one daemon thread per process
    so its stdout pipe never fills up (a full pipe would block the sandbox on its next print)."""
    assert sandbox.process is not None and sandbox.process.stdout is not None
    with _OUTPUT_LOCK:
        lines = _OUTPUT.get(id(sandbox.process))
        if lines is None:
            lines = _OUTPUT[id(sandbox.process)] = []
            stream = sandbox.process.stdout

            def drain() -> None:
                for line in stream:
                    lines.append(line.rstrip("\n"))

            threading.Thread(target=drain, name="sandbox-output", daemon=True).start()
    return lines


# -- raw HTTP, for what requests and the SDK would never send ------------------------------


@dataclass
class Raw:
    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool = False  # the server closed the connection after this answer

    def envelope(self, status: int | None = None) -> dict[str, Any]:
        return check_envelope(self.status, self.headers.get("content-type", ""), self.body, status)


@dataclass
class Exchange:
    responses: list[Raw] = field(default_factory=list)
    closed: bool = False


def auth_header(sandbox: SandboxProcess) -> str:
    token = base64.b64encode(f"{sandbox.account_sid}:{sandbox.auth_token}".encode()).decode()
    return f"Basic {token}"


def request_bytes(
    sandbox: SandboxProcess,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    auth: bool = True,
    content_length: str | None = None,
) -> bytes:
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{sandbox.port}"]
    if auth:
        head.append(f"Authorization: {auth_header(sandbox)}")
    length = str(len(body)) if content_length is None else content_length
    if length:
        head.append(f"Content-Length: {length}")
    head.extend(f"{k}: {v}" for k, v in (headers or {}).items())
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def exchange(
    sandbox: SandboxProcess,
    data: bytes,
    *,
    half_close: bool = False,
    expect: int = 1,
    timeout: float = 10.0,
    head: bool = False,
) -> Exchange:
    """Send ``data`` on a fresh connection; read ``expect`` answers (and the close, if any)."""
    result = Exchange()
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=timeout) as sock:
        # the server may answer and close before it has read everything sent
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        buffer = _Reader(sock)
        while len(result.responses) < expect:
            response = buffer.response(head=head)
            if response is None:
                result.closed = True
                break
            result.responses.append(response)
        else:  # a server that says it closes must close; a kept-alive one is not waited for
            if result.responses[-1].closed:
                result.closed = buffer.at_eof(wait=5.0)
    return result


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.data = b""
        self.eof = False

    def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        except TimeoutError:
            raise AssertionError(
                f"the sandbox did not answer in time (hung connection); got {self.data[:200]!r}"
            ) from None
        if not chunk:
            self.eof = True
            return False
        self.data += chunk
        return True

    def response(self, *, head: bool = False) -> Raw | None:
        while b"\r\n\r\n" not in self.data:
            if not self._fill():
                assert not self.data, f"truncated answer: {self.data[:300]!r}"
                return None
        header_block, _, self.data = self.data.partition(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        version, status, *_ = lines[0].split(" ", 2)
        assert version == "HTTP/1.1", lines[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head else int(headers.get("content-length", "0"))
        while len(self.data) < length:
            assert self._fill(), f"body cut short: {self.data[:200]!r}"
        body, self.data = self.data[:length], self.data[length:]
        closes = headers.get("connection", "").lower() == "close"
        return Raw(int(status), headers, body, closes)

    def at_eof(self, wait: float) -> bool:
        if self.data or self.eof:
            return self.eof and not self.data
        self.sock.settimeout(wait)
        try:
            return not self._fill()
        except AssertionError:
            return False


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def api(sandbox: SandboxProcess) -> Iterator[requests.Session]:
    session = requests.Session()
    session.auth = (sandbox.account_sid, sandbox.auth_token)
    yield session
    session.close()


@dataclass
class Site:
    """A FIFO workspace with a worker, a queue, a workflow and a task, plus a second one."""

    url: str
    ws: str
    other_ws: str
    activities: dict[str, str]
    worker: str
    queue: str
    workflow: str
    task: str
    other_worker: str
    other_queue: str
    other_activity: str

    def path(self, suffix: str = "", ws: str | None = None) -> str:
        return f"{self.url}/v1/Workspaces/{ws or self.ws}{suffix}"


def _ok(response: requests.Response) -> Any:
    assert response.status_code < 300, (response.status_code, response.text)
    return response.json() if response.content else None


@pytest.fixture
def site(sandbox: SandboxProcess, api: requests.Session) -> Site:
    return build_site(sandbox, api)


def build_site(sandbox: SandboxProcess, api: requests.Session) -> Site:
    def make(name: str) -> tuple[str, dict[str, str], str, str, str]:
        form = {"FriendlyName": name, "Template": "FIFO"}
        ws = _ok(api.post(f"{sandbox.url}/v1/Workspaces", data=form))["sid"]
        base = f"{sandbox.url}/v1/Workspaces/{ws}"
        listed = _ok(api.get(f"{base}/Activities"))["activities"]
        activities = {a["friendly_name"]: a["sid"] for a in listed}
        worker = _ok(
            api.post(
                f"{base}/Workers",
                data={"FriendlyName": "Alice", "Attributes": '{"languages": ["es"]}'},
            )
        )["sid"]
        queue = _ok(api.get(f"{base}/TaskQueues"))["task_queues"][0]["sid"]
        flow = _ok(api.get(f"{base}/Workflows"))["workflows"][0]["sid"]
        return ws, activities, worker, queue, flow

    ws, activities, worker, queue, flow = make("Bad Input")
    other_ws, other_activities, other_worker, other_queue, _ = make("Other")
    task = _ok(
        api.post(
            f"{sandbox.url}/v1/Workspaces/{ws}/Tasks",
            data={"WorkflowSid": flow, "Attributes": '{"type": "support"}'},
        )
    )["sid"]
    return Site(
        sandbox.url, ws, other_ws, activities, worker, queue, flow, task, other_worker,
        other_queue, other_activities["Available"],
    )  # fmt: skip


def snapshot(api: requests.Session, site: Site) -> dict[str, Any]:
    """Everything of both workspaces that an injection must not touch."""
    out: dict[str, Any] = {}
    for ws in (site.ws, site.other_ws):
        for collection, key in (
            ("/Workers", "workers"),
            ("/TaskQueues", "task_queues"),
            ("/Activities", "activities"),
            ("/Workflows", "workflows"),
        ):
            records = _ok(api.get(site.path(collection, ws), params={"PageSize": 1000}))[key]
            out[ws + collection] = sorted(records, key=lambda r: r["sid"])  # fmt: skip
        out[ws] = _ok(api.get(site.path("", ws)))
    return out


# -- size and framing ----------------------------------------------------------------------


def test_a_huge_form_body_is_refused_with_413_and_the_sandbox_goes_on(
    sandbox: SandboxProcess, api: requests.Session
) -> None:
    started = time.monotonic()
    response = api.post(
        f"{sandbox.url}/v1/Workspaces", data={"FriendlyName": "x" * (3 * 1024 * 1024)}, timeout=10
    )
    assert_envelope(response, 413)
    assert response.headers.get("Connection", "").lower() == "close"
    assert time.monotonic() - started < 5
    assert _ok(api.get(f"{sandbox.url}/v1/Workspaces"))["workspaces"] == []


def test_a_huge_body_announced_but_not_sent_is_answered_at_once(sandbox: SandboxProcess) -> None:
    """The answer comes from the headers alone, then the server closes: nothing waits for 3 MB."""
    data = request_bytes(
        sandbox, "POST", "/v1/Workspaces", content_length=str(3 * MAX_BODY),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    result = exchange(sandbox, data, timeout=5)
    result.responses[0].envelope(413)
    assert result.closed


def test_a_huge_json_body_is_413_too(sandbox: SandboxProcess, site: Site) -> None:
    body = json.dumps({"queueSids": [site.queue] * 200_000}).encode()
    assert len(body) > MAX_BODY
    data = request_bytes(
        sandbox, "POST", f"/v1/Workspaces/{site.ws}/TaskQueues/RealTimeStatistics", body,
        {"Content-Type": "application/json"},
    )  # fmt: skip
    exchange(sandbox, data).responses[0].envelope(413)


def test_a_body_shorter_than_its_content_length_is_400_and_creates_nothing(
    sandbox: SandboxProcess, api: requests.Session
) -> None:
    data = request_bytes(
        sandbox, "POST", "/v1/Workspaces", b"FriendlyName=Short", content_length="100",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    result = exchange(sandbox, data, half_close=True)
    assert "Content-Length" in result.responses[0].envelope(400)["message"]
    assert _ok(api.get(f"{sandbox.url}/v1/Workspaces"))["workspaces"] == []


def test_a_client_that_never_sends_its_body_does_not_hang_the_sandbox(
    sandbox: SandboxProcess, api: requests.Session
) -> None:
    data = request_bytes(sandbox, "POST", "/v1/Workspaces", b"Friendly", content_length="1000")
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=5) as stuck:
        stuck.sendall(data)
        started = time.monotonic()
        for _ in range(5):  # others are served meanwhile
            assert api.get(f"{sandbox.url}/v1/Workspaces", timeout=5).status_code == 200
        assert time.monotonic() - started < 2


def test_a_body_longer_than_its_content_length_is_not_taken_for_a_second_request(
    sandbox: SandboxProcess, api: requests.Session
) -> None:
    """Only the announced bytes are the body; the rest is a malformed request: 400, closed."""
    data = request_bytes(
        sandbox, "POST", "/v1/Workspaces", b"FriendlyName=Lie&Template=FIFO\r\n\r\n",
        content_length="16", headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    result = exchange(sandbox, data, expect=2, half_close=True)
    first, second = result.responses
    assert first.status == 201
    assert json.loads(first.body)["friendly_name"] == "Lie"
    second.envelope(400)
    assert second.closed and result.closed
    workspaces = _ok(api.get(f"{sandbox.url}/v1/Workspaces"))["workspaces"]
    assert [w["friendly_name"] for w in workspaces] == ["Lie"]
    flows = _ok(api.get(f"{sandbox.url}/v1/Workspaces/{workspaces[0]['sid']}/Workflows"))
    assert flows["workflows"] == []  # the cut-off Template=FIFO was not applied


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "0x10", " "])
def test_a_content_length_that_is_not_a_byte_count_is_400(
    sandbox: SandboxProcess, length: str
) -> None:
    data = request_bytes(
        sandbox, "POST", "/v1/Workspaces", b"FriendlyName=X", content_length=length
    )
    result = exchange(sandbox, data)
    result.responses[0].envelope(400)
    assert result.closed


def test_a_chunked_body_is_411_and_never_read_as_the_next_request(sandbox: SandboxProcess) -> None:
    body = b"E\r\nFriendlyName=Q\r\n0\r\n\r\n"
    data = request_bytes(
        sandbox, "POST", "/v1/Workspaces", body, content_length="",
        headers={"Transfer-Encoding": "chunked",
                 "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    result = exchange(sandbox, data, expect=2)
    assert len(result.responses) == 1 and result.closed
    result.responses[0].envelope(411)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/octet-stream"])
def test_a_form_body_without_the_form_content_type_is_still_read(
    sandbox: SandboxProcess, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    data = request_bytes(sandbox, "POST", "/v1/Workspaces", b"FriendlyName=Plain", headers=headers)
    response = exchange(sandbox, data).responses[0]
    assert response.status == 201, response.body
    assert json.loads(response.body)["friendly_name"] == "Plain"


def test_a_form_body_sent_as_json_is_a_clear_400(sandbox: SandboxProcess) -> None:
    data = request_bytes(
        sandbox, "POST", "/v1/Workspaces", b"FriendlyName=J",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert "FriendlyName" in exchange(sandbox, data).responses[0].envelope(400)["message"]


# -- encodings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        b"%FF%FE",  # not UTF-8
        b"%C0%AF",  # overlong
        b"%ED%A0%80",  # a UTF-16 surrogate
        b"caf%E9",  # latin-1
        b"\xff\xfe raw",  # raw bytes, not percent-encoded
    ],
)
def test_non_utf8_form_values_are_400(sandbox: SandboxProcess, value: bytes) -> None:
    data = request_bytes(
        sandbox, "POST", "/v1/Workspaces", b"FriendlyName=" + value,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert "post body" in exchange(sandbox, data).responses[0].envelope(400)["message"]


@pytest.mark.parametrize("query", ["FriendlyName=%FF", "FriendlyName=caf%E9", "%C0%AF=1"])
def test_non_utf8_query_strings_are_400(sandbox: SandboxProcess, query: str) -> None:
    data = request_bytes(sandbox, "GET", f"/v1/Workspaces?{query}")
    assert "query string" in exchange(sandbox, data).responses[0].envelope(400)["message"]


def test_raw_non_ascii_bytes_in_the_request_line_are_400(sandbox: SandboxProcess) -> None:
    data = request_bytes(sandbox, "GET", "/v1/Workspaces?FriendlyName=\xe9\xff")
    exchange(sandbox, data).responses[0].envelope(400)


def test_percent_encoded_utf8_and_nul_round_trip(
    api: requests.Session, sandbox: SandboxProcess
) -> None:
    for name in ("Café ☕", "tab\there", "nul\x00byte"):
        created = api.post(f"{sandbox.url}/v1/Workspaces", data={"FriendlyName": name})
        if created.status_code == 400:
            assert_envelope(created, 400)
            continue
        assert created.status_code == 201, created.text
        fetched = _ok(api.get(f"{sandbox.url}/v1/Workspaces/{created.json()['sid']}"))
        assert fetched["friendly_name"] == name
        listed = _ok(api.get(f"{sandbox.url}/v1/Workspaces", params={"FriendlyName": name}))
        assert [w["friendly_name"] for w in listed["workspaces"]] == [name]


# -- injection -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", [*SQL_INJECTIONS, *JSON_INJECTIONS])
def test_injection_in_names_attributes_and_expressions_is_stored_verbatim(
    api: requests.Session, site: Site, text: str
) -> None:
    before = snapshot(api, site)
    name = text[:64]
    attributes = json.dumps({"note": text, "languages": [text]})
    worker = api.post(site.path("/Workers"), data={"FriendlyName": name, "Attributes": attributes})
    assert worker.status_code == 201, worker.text
    assert worker.json()["friendly_name"] == name
    assert worker.json()["attributes"] == attributes
    literal = json.dumps(text)  # a double-quoted expression string, escapes and all
    queue = api.post(
        site.path("/TaskQueues"),
        data={"FriendlyName": name, "TargetWorkers": f"languages HAS {literal}"},
    )
    if queue.status_code == 400:  # the expression language has no escapes for every string
        assert_envelope(queue, 400)
    else:
        assert queue.status_code == 201, queue.text
        assert queue.json()["target_workers"] == f"languages HAS {literal}"
        assert queue.json()["friendly_name"] == name
    activity = _ok(api.post(site.path("/Activities"), data={"FriendlyName": name}))
    assert activity["friendly_name"] == name
    task = _ok(api.post(site.path("/Tasks"), data={"Attributes": attributes}))
    assert task["attributes"] == attributes
    assert _ok(api.get(site.path(f"/Tasks/{task['sid']}")))["attributes"] == attributes
    fetched = _ok(api.get(site.path(f"/Workers/{worker.json()['sid']}")))
    assert (fetched["friendly_name"], fetched["attributes"]) == (name, attributes)
    # as filters: they match exactly the record that has them, nothing else
    for collection, key in (("/Workers", "workers"), ("/Activities", "activities")):
        hits = _ok(api.get(site.path(collection), params={"FriendlyName": name}))[key]
        assert [h["friendly_name"] for h in hits] == [name]
    events = _ok(api.get(site.path("/Events"), params={"TaskSid": text}))["events"]
    assert events == []
    assert _ok(api.get(f"{site.url}/v1/Workspaces", params={"FriendlyName": text}))[
        "workspaces"
    ] == []  # fmt: skip
    # other records untouched
    after = snapshot(api, site)
    for key, value in before.items():
        if key.endswith(("/Workers", "/Activities", "/TaskQueues")) and key.startswith(site.ws):
            kept = {r["sid"] for r in value}
            assert [r for r in after[key] if r["sid"] in kept] == value
        elif key != site.ws:
            assert after[key] == value


def test_json_that_is_valid_but_odd_is_stored_verbatim(api: requests.Session, site: Site) -> None:
    for attributes in (
        '{"a": 1, "a": 2}',
        '{"__proto__": {"admin": true}, "constructor": null}',
        '{"sid": "WS00000000000000000000000000000000", "account_sid": "ACx"}',
        '{ "spaces" :\t[ 1 , 2 ] }',
        '{"big": 1e999, "neg": -0}',
    ):
        worker = _ok(
            api.post(site.path(f"/Workers/{site.worker}"), data={"Attributes": attributes})
        )
        assert worker["attributes"] == attributes
        assert worker["sid"] == site.worker and worker["workspace_sid"] == site.ws


# -- depth ---------------------------------------------------------------------------------


@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}")])
def test_json_nested_ten_thousand_deep_is_a_clean_400(
    sandbox: SandboxProcess, api: requests.Session, site: Site, opener: str, closer: str
) -> None:
    deep = opener * DEEP + "1" + closer * DEEP
    deep_object = '{"x": ' + deep + "}"
    cases = [
        (site.path("/Workers"), {"FriendlyName": "Deep", "Attributes": deep_object}),
        (site.path(f"/Workers/{site.worker}"), {"Attributes": deep_object}),
        (site.path("/Tasks"), {"Attributes": deep_object}),
        (site.path("/Workflows"), {"FriendlyName": "Deep", "Configuration": deep_object}),
        (site.path(f"/Workflows/{site.workflow}"), {"Configuration": deep_object}),
    ]
    for url, form in cases:
        assert_envelope(api.post(url, data=form), 400)
    bulk = api.post(
        site.path("/TaskQueues/RealTimeStatistics"),
        data=deep.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert_envelope(bulk, 400)
    assert sandbox.control("GET", "/_sandbox/health") == {"status": "ok"}


def test_expressions_nested_ten_thousand_deep_are_a_clean_400(
    api: requests.Session, site: Site
) -> None:
    for expression in (
        "(" * DEEP + "1 == 1" + ")" * DEEP,
        "NOT " * 2000 + "languages HAS 'es'",
        " AND ".join(["a == 1"] * 2000),
    ):
        queue = api.post(
            site.path("/TaskQueues"), data={"FriendlyName": "Deep", "TargetWorkers": expression}
        )
        assert queue.status_code in (201, 400), queue.text
        if queue.status_code == 400:
            assert_envelope(queue, 400)
        listed = api.get(site.path("/Workers"), params={"TargetWorkersExpression": expression})
        assert listed.status_code in (200, 400), listed.text
        if listed.status_code == 400:
            assert_envelope(listed, 400)
    config = {"task_routing": {"filters": [{"expression": "(" * DEEP + "1==1" + ")" * DEEP,
                                            "targets": [{"queue": site.queue}]}]}}  # fmt: skip
    assert_envelope(
        api.post(site.path(f"/Workflows/{site.workflow}"), data={
            "Configuration": json.dumps(config)}), 400,
    )  # fmt: skip


def test_attributes_as_deep_as_the_decoder_allows_are_routed(
    api: requests.Session, site: Site
) -> None:
    """Accepted attributes must not crash routing, statistics or events later on."""
    attributes = '{"type": "support", "deep": ' + "[" * 500 + "]" * 500 + "}"
    _ok(api.post(site.path(f"/Workers/{site.worker}"), data={
        "Attributes": attributes, "ActivitySid": site.activities["Available"]}))  # fmt: skip
    task = _ok(api.post(site.path("/Tasks"), data={"Attributes": attributes}))
    eventually(
        lambda: (
            _ok(api.get(site.path(f"/Tasks/{task['sid']}/Reservations")))["reservations"]
            + _ok(api.get(site.path(f"/Tasks/{site.task}/Reservations")))["reservations"]
        ),
        bool,
    )
    for suffix in ("/Statistics", "/RealTimeStatistics", "/CumulativeStatistics", "/Events",
                   "/Workers/Statistics", f"/Workers/{site.worker}/Statistics"):  # fmt: skip
        assert api.get(site.path(suffix)).status_code == 200


# -- unicode names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "unit",
    [
        "😀",  # 4 bytes in UTF-8, 2 UTF-16 units, 1 character
        "ש",  # Hebrew, right to left
        "\u202e",  # RIGHT-TO-LEFT OVERRIDE
        "ﷺ",  # one code point, renders wide
        "a\u0301",  # a + COMBINING ACUTE ACCENT: 2 characters
        "Z\u0351\u036b\u0343",  # zalgo-ish combining marks
    ],
)
def test_unicode_names_count_characters_up_to_64(
    api: requests.Session, site: Site, unit: str
) -> None:
    fits = (unit * 64)[:64]
    too_long = (unit * 65)[:65]
    for collection in ("/Workers", "/Activities", "/TaskQueues", "/Workflows"):
        form = {"FriendlyName": fits}
        if collection == "/Workflows":
            form["Configuration"] = json.dumps(
                {"task_routing": {"default_filter": {"queue": site.queue}}}
            )
        created = api.post(site.path(collection), data=form)
        assert created.status_code == 201, (collection, created.text)
        assert created.json()["friendly_name"] == fits  # verbatim: no normalisation
        fetched = _ok(api.get(site.path(f"{collection}/{created.json()['sid']}")))
        assert fetched["friendly_name"] == fits
        assert_envelope(
            api.post(site.path(collection), data={**form, "FriendlyName": too_long}), 400
        )
    workspace = api.post(f"{site.url}/v1/Workspaces", data={"FriendlyName": fits})
    assert workspace.status_code == 201 and workspace.json()["friendly_name"] == fits
    assert_envelope(api.post(f"{site.url}/v1/Workspaces", data={"FriendlyName": too_long}), 400)


def test_unicode_lookalikes_are_different_names(api: requests.Session, site: Site) -> None:
    composed, decomposed = "Jos\u00e9", "Jose\u0301"
    for name in (composed, decomposed):
        created = _ok(api.post(site.path("/Activities"), data={"FriendlyName": name}))
        assert created["friendly_name"] == name
    hits = _ok(api.get(site.path("/Activities"), params={"FriendlyName": composed}))["activities"]
    assert [a["friendly_name"] for a in hits] == [composed]


# -- sids of the wrong type, of another workspace, malformed ---------------------------------


def test_sids_of_the_wrong_type_or_workspace_in_paths_are_404(
    api: requests.Session, site: Site
) -> None:
    paths = [
        site.path(f"/TaskQueues/{site.worker}"),  # WK where WQ belongs
        site.path(f"/Workers/{site.queue}"),
        site.path(f"/Workflows/{site.task}"),
        site.path(f"/Tasks/{site.workflow}"),
        site.path(f"/Activities/{site.worker}"),
        site.path(f"/Workers/{site.worker}/Reservations/{site.task}"),
        site.path(f"/Tasks/{site.task}/Reservations/{site.worker}"),
        site.path(f"/Workers/{site.worker}/Channels/{site.queue}"),
        site.path(f"/TaskQueues/{site.worker}/Statistics"),
        site.path(f"/Workflows/{site.queue}/Statistics"),
        site.path(f"/Workers/{site.other_worker}"),  # another workspace's worker
        site.path(f"/TaskQueues/{site.other_queue}"),
        site.path(f"/TaskQueues/{site.other_queue}/RealTimeStatistics"),
        site.path(f"/Workers/{site.other_worker}/Statistics"),
        site.path("", site.worker),  # a WK sid as workspace
        site.path(f"/Workers/{site.worker.lower()}"),
        site.path(f"/Workers/{site.worker[:-1]}"),
        site.path(f"/Workers/{site.worker}0"),
        site.path(f"/Workers/{site.worker.replace('WK', 'wk')}"),
    ]
    for url in paths:
        for method in ("GET", "POST", "DELETE"):
            response = api.request(method, url, data={"FriendlyName": "X"})
            body = assert_envelope(response)
            allowed = {404, 405} | ({400} if method == "POST" else set())  # 400: bad form
            assert response.status_code in allowed, (method, url, body)


def test_sids_of_the_wrong_type_or_workspace_in_parameters_are_400(
    api: requests.Session, site: Site
) -> None:
    cases = [
        ("/Tasks", {"WorkflowSid": site.queue}),
        ("/Tasks", {"WorkflowSid": site.worker}),
        ("/Tasks", {"TaskQueueSid": site.worker}),
        ("/Tasks", {"TaskQueueSid": site.other_queue}),
        ("/Workers", {"FriendlyName": "W", "ActivitySid": site.queue}),
        ("/Workers", {"FriendlyName": "W", "ActivitySid": site.other_activity}),
        (f"/Workers/{site.worker}", {"ActivitySid": site.other_activity}),
        (f"/Workers/{site.worker}", {"ActivitySid": site.worker}),
        ("/TaskQueues", {"FriendlyName": "Q", "ReservationActivitySid": site.other_activity}),
        ("/TaskQueues", {"FriendlyName": "Q", "AssignmentActivitySid": site.task}),
        ("", {"DefaultActivitySid": site.other_activity}),
        ("", {"TimeoutActivitySid": site.queue}),
        ("/Workflows", {"FriendlyName": "F", "Configuration": json.dumps(
            {"task_routing": {"default_filter": {"queue": site.other_queue}}})}),
        ("/Workflows", {"FriendlyName": "F", "Configuration": json.dumps(
            {"task_routing": {"default_filter": {"queue": site.worker}}})}),
    ]  # fmt: skip
    for suffix, form in cases:
        assert_envelope(api.post(site.path(suffix), data=form), 400)
    lists = [
        ("/Workers", "workers", {"TaskQueueSid": site.other_queue}),
        ("/TaskQueues", "task_queues", {"WorkerSid": site.other_worker}),
        ("/Tasks", "tasks", {"WorkflowSid": site.worker}),
        ("/Tasks", "tasks", {"TaskQueueSid": site.worker}),
    ]
    for suffix, key, query in lists:
        response = api.get(site.path(suffix), params=query)
        if response.status_code == 200:  # a filter that matches nothing is fair too
            assert response.json()[key] == []
        else:
            assert_envelope(response, 400)


def test_a_task_update_naming_another_workspace_s_objects_is_refused(
    api: requests.Session, site: Site
) -> None:
    response = api.post(site.path(f"/Tasks/{site.task}", site.other_ws), data={"Priority": "5"})
    assert_envelope(response, 404)
    response = api.post(
        site.path(f"/Tasks/{site.task}/Reservations/WR{'0' * 32}"),
        data={"ReservationStatus": "accepted"},
    )
    assert_envelope(response, 404)


# -- malformed paths, methods and request lines ------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "//v1//Workspaces",
        "/v1/Workspaces/../Workspaces",
        "/v1/Workspaces/%00",
        "/v1/Workspaces/%2F%2F",
        "/v1/Workspaces/WS" + "0" * 32 + "/Nope",
        "/v1/Workspaces/" + "A" * 20_000,
        "/v2/Workspaces",
        "/V1/WORKSPACES",
        "v1/Workspaces",
        "*",
        "/_sandbox/nope",
        "/v1/Workspaces;jsessionid=1",
    ],
)
def test_malformed_paths_are_404(sandbox: SandboxProcess, path: str) -> None:
    exchange(sandbox, request_bytes(sandbox, "GET", path)).responses[0].envelope(404)


@pytest.mark.parametrize("path", ["/v1/Workspaces/", "/v1/Workspaces.json", "/v1/Workspaces?"])
def test_harmless_path_variants_work(sandbox: SandboxProcess, path: str) -> None:
    response = exchange(sandbox, request_bytes(sandbox, "GET", path)).responses[0]
    assert response.status == 200, response.body


@pytest.mark.parametrize("method", ["PATCH", "PUT", "OPTIONS", "TRACE", "CONNECT", "BREW", "get"])
def test_unknown_methods_are_405_in_the_envelope(sandbox: SandboxProcess, method: str) -> None:
    result = exchange(sandbox, request_bytes(sandbox, method, "/v1/Workspaces"), expect=1)
    body = result.responses[0].envelope(405)
    assert body["code"] == 20004
    unauthenticated = request_bytes(sandbox, method, "/v1/Workspaces", auth=False)
    exchange(sandbox, unauthenticated).responses[0].envelope(401)
    exchange(sandbox, request_bytes(sandbox, method, "/v1/Nowhere")).responses[0].envelope(404)


def test_head_gets_headers_and_no_body_and_the_connection_stays_usable(
    sandbox: SandboxProcess,
) -> None:
    data = request_bytes(sandbox, "HEAD", "/v1/Workspaces") + request_bytes(
        sandbox, "GET", "/v1/Workspaces"
    )
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=5) as sock:
        sock.sendall(data)
        reader = _Reader(sock)
        head = reader.response(head=True)
        follow_up = reader.response()
    assert head is not None and head.status == 405 and head.body == b""
    assert follow_up is not None and follow_up.status == 200, follow_up


@pytest.mark.parametrize(
    "request_line,status",
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /v1/Workspaces HTTP/9.9\r\n\r\n", 505),
        (b"GET /v1/Workspaces HTTP/1.1 extra\r\n\r\n", 400),
        (b"\x00\x01\x02\xff\r\n\r\n", 400),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET /v1/Workspaces HTTP/1.1\r\n" + b"X-A: b\r\n" * 150 + b"\r\n", 431),
        (b"GET /v1/Workspaces HTTP/1.1\r\nX-Long: " + b"b" * 70_000 + b"\r\n\r\n", 431),
    ],
)
def test_malformed_requests_are_refused_in_the_envelope(
    sandbox: SandboxProcess, request_line: bytes, status: int
) -> None:
    result = exchange(sandbox, request_line)
    assert result.responses, "the sandbox closed without an answer"
    result.responses[0].envelope(status)
    assert result.closed


# -- regressions for defects the fuzzer found ------------------------------------------------


def test_statistics_windows_keep_four_digit_years(api: requests.Session, site: Site) -> None:
    for suffix in ("/CumulativeStatistics", f"/TaskQueues/{site.queue}/CumulativeStatistics",
                   "/Workers/CumulativeStatistics"):  # fmt: skip
        ok = _ok(api.get(site.path(suffix), params={"EndDate": "1970-01-01T00:05:00Z"}))
        assert ok["start_time"] == "1970-01-01T00:00:00Z"
        for params in ({"EndDate": "1000-01-01T00:00:00Z"}, {"StartDate": "0500-01-01T00:00:00Z"}):
            assert_envelope(api.get(site.path(suffix), params=params), 400)


def test_callback_urls_that_cannot_be_parsed_are_400_for_every_callback_parameter(
    sandbox: SandboxProcess, api: requests.Session, site: Site
) -> None:
    """One validator for every callback URL: the workflow's two and the workspace's
    EventCallbackUrl (which once took anything and let the dispatcher speak HTTP to it)."""
    bad = ("http://[", "http://[::1", "http://127.0.0.1:99999999/x", "ftp://host/x",
           "file:///etc/passwd", "gopher://127.0.0.1:25/x", "javascript:alert(1)", "not a url",
           "http://", "//host/path", "http://host/a b")  # fmt: skip
    for url in bad:
        for param in ("AssignmentCallbackUrl", "FallbackAssignmentCallbackUrl"):
            assert_envelope(
                api.post(site.path(f"/Workflows/{site.workflow}"), data={param: url}), 400
            )
        assert_envelope(api.post(site.path(), data={"EventCallbackUrl": url}), 400)
        assert_envelope(
            api.post(
                f"{sandbox.url}/v1/Workspaces", data={"FriendlyName": "X", "EventCallbackUrl": url}
            ),
            400,
        )
    receiver = Receiver(sandbox.auth_token)
    try:  # the workspace is untouched and a good URL still works
        _ok(api.post(site.path(), data={"EventCallbackUrl": receiver.url("/events")}))
        _ok(api.post(site.path("/Activities"), data={"FriendlyName": "Delivered"}))
        eventually(
            lambda: [r.form.get("EventType") for r in receiver.requests("/events")],
            lambda types: "activity.created" in types,
        )
    finally:
        receiver.close()
