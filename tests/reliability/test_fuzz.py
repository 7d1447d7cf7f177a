"""Schemathesis against a real sandbox: all 61 operations of the spec, positive and negative data.

Every operation gets ``EXAMPLES`` generated requests per generation mode (positive: data the spec
allows; negative: data it forbids), sent with the sandbox's Basic auth over loopback. Path and
sid-valued parameters are rewritten part of the time to sids of *real* records (a FIFO workspace
with workers, queues, a workflow, tasks in several states, a pending reservation), to sids of
the wrong type, of another workspace, or random ones, so the handlers behind the lookups are
reached too. Every response must be:

* never a 5xx;
* a 4xx in Twilio's envelope ``{"code", "message", "more_info", "status"}`` with an integer
  code and ``status`` equal to the HTTP status;
* a 2xx with the operation's documented success status and a body that passes
  :func:`tests.conformance.spec.validate` (schema, every declared key, wire formats).

The sandbox's own output is read too: a thread that died there (an event lane, say) answers
nothing, so only its traceback tells.

CI size: 4 examples per operation and mode (~490 requests). Long run: ``KIT_LONG=1`` (100 per
operation and mode, ~12,200 requests). ``KIT_FUZZ_EXAMPLES=N`` overrides either. The summary is
printed and written to ``test-output/reliability/fuzz.json``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.conformance import spec
from tests.reliability.test_bad_input import check_envelope, sandbox_output
from tests.support.receiver import Receiver
from tests.support.sandbox import KIT_ROOT, SandboxProcess

LONG = os.environ.get("KIT_LONG") == "1"
EXAMPLES = int(os.environ.get("KIT_FUZZ_EXAMPLES") or (100 if LONG else 4))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@functools.cache
def operations() -> dict[str, Any]:
    """``{operation id: schemathesis APIOperation}``, loaded once (it takes a few seconds)."""
    schema = schemathesis.openapi.from_path(str(spec.SPEC_PATH))
    # Authentication is ours (the sandbox's credentials on every request): schemathesis must
    # not replace it with generated Authorization headers. NUL bytes stay: bad input too.
    schema.config.generation.update(with_security_parameters=False, allow_x00=True)
    loaded = (result.ok() for result in schema.get_all_operations())
    return {schema.get_operation_id(op): op for op in loaded}


# Which kind of sid a path parameter names: by its name, or for ``{Sid}`` by the collection
# segment before it.
KIND_OF_PARAM = {
    "WorkspaceSid": "WS",
    "TaskSid": "WT",
    "TaskQueueSid": "WQ",
    "WorkerSid": "WK",
    "WorkflowSid": "WW",
}
KIND_OF_COLLECTION = {
    "Activities": "WA",
    "Events": "EV",
    "Tasks": "WT",
    "TaskChannels": "TC",
    "TaskQueues": "WQ",
    "Reservations": "WR",
    "Workers": "WK",
    "Channels": "WC",
    "Workflows": "WW",
    "Workspaces": "WS",
}
# Body and query parameters holding sids, by name suffix.
KIND_OF_FIELD = {
    "ActivitySid": "WA",
    "WorkflowSid": "WW",
    "TaskQueueSid": "WQ",
    "WorkerSid": "WK",
    "TaskSid": "WT",
    "ReservationSid": "WR",
}
# The only URLs the sandbox calls; anything generated for them is pointed back at loopback.
CALLED_URLS = ("EventCallbackUrl", "AssignmentCallbackUrl", "FallbackAssignmentCallbackUrl")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

STATS: Counter[str] = Counter()
REPORT = KIT_ROOT / "test-output" / "reliability" / "fuzz.json"


def path_kinds(path: str) -> dict[str, str]:
    """``{param: sid prefix}`` for the path template's placeholders."""
    segments = path.split("/")
    out = {}
    for index, segment in enumerate(segments):
        if segment.startswith("{"):
            name = segment[1:-1]
            out[name] = KIND_OF_PARAM.get(name) or KIND_OF_COLLECTION[segments[index - 1]]
    return out


def field_kind(name: str) -> str | None:
    return next((kind for suffix, kind in KIND_OF_FIELD.items() if name.endswith(suffix)), None)


@dataclass
class World:
    """Real records in two workspaces of the sandbox's account; ``main[kind][0]`` are anchors
    that belong together (Alice, her pending reservation WR for task WT, her channels WC)."""

    main: dict[str, list[str]] = field(default_factory=dict)
    other: dict[str, list[str]] = field(default_factory=dict)
    dirty: bool = False

    def all_sids(self) -> list[str]:
        return [sid for pools in (self.main, self.other) for sids in pools.values() for sid in sids]


class Api:
    """Minimal raw client for building the world (asserts every call succeeds)."""

    def __init__(self, session: requests.Session, base: str) -> None:
        self.session = session
        self.base = base

    def __call__(self, method: str, path: str, **form: Any) -> Any:
        response = self.session.request(method, self.base + path, data=form or None, timeout=10)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json() if response.content else None


def build_workspace(api: Api, name: str, callback_url: str, *, full: bool) -> dict[str, list[str]]:
    ws = api("POST", "/v1/Workspaces", FriendlyName=name, Template="FIFO", MultiTaskEnabled="false")
    base = f"/v1/Workspaces/{ws['sid']}"
    activities = {
        a["friendly_name"]: a["sid"] for a in api("GET", f"{base}/Activities")["activities"]
    }
    if full:
        activities["Break"] = api("POST", f"{base}/Activities", FriendlyName="Break")["sid"]
    channels = [c["sid"] for c in api("GET", f"{base}/TaskChannels")["channels"]]
    queues = [q["sid"] for q in api("GET", f"{base}/TaskQueues")["task_queues"]]
    if full:
        queues.append(
            api(
                "POST",
                f"{base}/TaskQueues",
                FriendlyName="Spanish",
                TargetWorkers='languages HAS "es"',
                ReservationActivitySid=activities["Unavailable"],
                AssignmentActivitySid=activities["Unavailable"],
            )["sid"]
        )
    flows = [w["sid"] for w in api("GET", f"{base}/Workflows")["workflows"]]
    api("POST", f"{base}/Workflows/{flows[0]}", AssignmentCallbackUrl=callback_url)
    alice = api(
        "POST",
        f"{base}/Workers",
        FriendlyName="Alice",
        ActivitySid=activities["Available"],
        Attributes=json.dumps({"languages": ["en", "es"]}),
    )["sid"]
    workers = [alice]
    if full:
        workers.append(api("POST", f"{base}/Workers", FriendlyName="Bob")["sid"])
    task_form = {"WorkflowSid": flows[0], "Attributes": json.dumps({"selected_language": "es"})}
    tasks = [api("POST", f"{base}/Tasks", **task_form)["sid"]]  # reserved for Alice
    if full:
        tasks.append(api("POST", f"{base}/Tasks", **task_form)["sid"])  # pending
        canceled = api("POST", f"{base}/Tasks", **task_form)["sid"]
        api("POST", f"{base}/Tasks/{canceled}", AssignmentStatus="canceled", Reason="fuzz")
        tasks.append(canceled)
    reservations = [
        r["sid"] for r in api("GET", f"{base}/Tasks/{tasks[0]}/Reservations")["reservations"]
    ]
    assert reservations, "the first task must hold a reservation for Alice"
    worker_channels = [c["sid"] for c in api("GET", f"{base}/Workers/{alice}/Channels")["channels"]]
    events = [e["sid"] for e in api("GET", f"{base}/Events?PageSize=5")["events"]]
    return {
        "WS": [ws["sid"]],
        "WA": list(activities.values()),
        "TC": channels,
        "WQ": queues,
        "WW": flows,
        "WK": workers,
        "WT": tasks,
        "WR": reservations,
        "WC": worker_channels,
        "EV": events,
    }


def build_world(sandbox: SandboxProcess, session: requests.Session, callback_url: str) -> World:
    sandbox.reset()
    api = Api(session, sandbox.url)
    return World(
        main=build_workspace(api, "Fuzz Main", callback_url, full=True),
        other=build_workspace(api, "Fuzz Other", callback_url, full=False),
    )


def random_sid(kind: str) -> str:
    return kind + secrets.token_hex(16)


def draw_sid(draw: Any, world: World, kind: str, generated: Any, *, anchor: bool) -> Any:
    """A value for a sid-valued parameter: a real one most of the time, else a trap."""
    how = draw(st.sampled_from(["real", "real", "wrong-type", "other-ws", "random", "generated"]))
    if how == "real":
        pool = world.main[kind]
        return pool[0] if anchor else draw(st.sampled_from(pool))
    if how == "wrong-type":
        return draw(st.sampled_from([s for s in world.all_sids() if not s.startswith(kind)]))
    if how == "other-ws":
        return draw(st.sampled_from(world.other[kind]))
    if how == "random":
        return random_sid(kind)
    return generated


def rewrite(case: Any, path: str, world: World, draw: Any, receiver_url: str) -> str:
    """Point parameters at real (or deliberately wrong) records; returns how it chose."""
    how = draw(st.sampled_from(["generated", "consistent", "consistent", "mixed"]))
    kinds = path_kinds(path)
    if how == "consistent":
        leaf = list(kinds)[-1] if kinds else None
        for name, kind in kinds.items():
            pool = world.main[kind]
            case.path_parameters[name] = draw(st.sampled_from(pool)) if name == leaf else pool[0]
    elif how == "mixed":
        for name, kind in kinds.items():
            generated = case.path_parameters.get(name)
            case.path_parameters[name] = draw_sid(draw, world, kind, generated, anchor=True)
    for container in (case.body, case.query):
        if not isinstance(container, dict):
            continue
        for name, value in list(container.items()):
            kind = field_kind(name)
            if kind is not None and how != "generated":
                container[name] = draw_sid(draw, world, kind, value, anchor=False)
            elif name == "TaskChannel" and how != "generated":
                container[name] = draw(st.sampled_from(["voice", "default", *world.main["TC"]]))
            elif name == "Attributes" and how != "generated":
                container[name] = draw(
                    st.sampled_from(['{"selected_language": "es"}', "{}", value])
                )
    if isinstance(case.body, dict):
        for name in CALLED_URLS:
            if name in case.body and not _stays_on_loopback(case.body[name]):
                case.body[name] = receiver_url
    return how


def _stays_on_loopback(value: Any) -> bool:
    """Whether the sandbox calling ``value`` (if it ever does) stays on this machine."""
    if not isinstance(value, str):
        return True  # serialised as text the sandbox cannot treat as a host
    try:
        host = urlsplit(value.strip()).hostname
    except ValueError:
        return True  # no host at all: must be refused, never called
    return host is None or host in LOOPBACK


@functools.cache
def templates() -> list[tuple[re.Pattern[str], dict[str, str]]]:
    """``(path regex, {METHOD: operation id})`` in the router's order: literal segments win."""
    by_template: dict[str, dict[str, str]] = {}
    for operation_id, method, template in spec.operations():
        by_template.setdefault(template, {})[method] = operation_id
    ordered = sorted(by_template, key=lambda t: tuple(s.startswith("{") for s in t.split("/")))
    return [
        (re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", t) + "$"), by_template[t]) for t in ordered
    ]


def operation_at(method: str, url: str) -> str | None:
    """The operation a request really reached. A generated path value can name another route:
    ``/Workers/{Sid}`` with Sid ``Statistics`` is FetchWorkersStatistics, and ``..`` is
    resolved away by the HTTP client before the request leaves."""
    path = urlsplit(url).path.rstrip("/") or "/"
    path = path.removesuffix(".json")
    for pattern, methods in templates():
        if pattern.match(path):
            return methods.get(method)
    return None


def check(operation_id: str, response: schemathesis.Response) -> None:
    status = response.status_code
    assert status < 500, f"{operation_id}: server error {status}: {response.text[:500]}"
    if status >= 400:
        content_type = (response.headers.get("content-type") or [""])[0]
        check_envelope(status, content_type, response.content)
        return
    reached = operation_at(response.request.method or "", response.request.url or "")
    assert reached is not None, f"{operation_id}: {status} from a path no operation has"
    assert status == spec.success_status(reached), (
        f"{reached}: {status} is not the documented success status"
    )
    body = response.json() if response.content else None
    spec.validate(reached, body)


class Fuzzer:
    """The module's sandbox, session and callback receiver, and the world they fuzz.

    The world is built once and rebuilt only when needed: before the next request after a
    DELETE succeeded (the pools hold a deleted sid), before the next test after anything
    else changed state, so each test starts from the same records.
    """

    def __init__(self, sandbox: SandboxProcess, receiver: Receiver) -> None:
        self.sandbox = sandbox
        sandbox_output(sandbox)
        time.sleep(0.2)  # the reader catches up with what was printed before the fuzzing
        self.output_seen = len(sandbox_output(sandbox))
        self.receiver_url = receiver.url("/assignment")
        self.session = requests.Session()
        self.session.auth = (sandbox.account_sid, sandbox.auth_token)
        self._world: World | None = None
        self.changed = True

    def world(self) -> World:
        if self._world is None or self._world.dirty:
            self._world = build_world(self.sandbox, self.session, self.receiver_url)
            self.changed = False
            STATS["rebuilds"] += 1
        return self._world

    def start_test(self) -> None:
        if self.changed and self._world is not None:
            self._world.dirty = True

    def observed(self, method: str, status: int) -> None:
        if status < 300 and method != "GET":
            self.changed = True
            if method == "DELETE":
                self.world().dirty = True


@pytest.fixture(scope="module")
def fuzzer(sandbox_process: SandboxProcess) -> Iterator[Fuzzer]:
    """Assignment callbacks are answered ``{}`` (decide later): reservations stay pending."""
    receiver = Receiver(sandbox_process.auth_token)
    fuzzer = Fuzzer(sandbox_process, receiver)
    yield fuzzer
    fuzzer.session.close()
    receiver.close()


@pytest.fixture(scope="module", autouse=True)
def report(request: pytest.FixtureRequest) -> Iterator[None]:
    started = time.monotonic()
    yield
    if STATS["requests"]:
        statuses = {k: v for k, v in sorted(STATS.items()) if k[0].isdigit()}
        summary = {
            "requests": STATS["requests"], "operation_runs": STATS["operations"],
            "failed_runs": STATS["failed"], "examples_per_mode": EXAMPLES, "statuses": statuses,
            "server_errors": sum(v for k, v in statuses.items() if k.startswith("5")),
            "world_builds": STATS["rebuilds"], "seconds": round(time.monotonic() - started, 1),
        }  # fmt: skip
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps(summary, indent=2) + "\n")
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            print(
                f"\nfuzz: {summary['requests']} requests over {summary['operation_runs']} "
                f"operation runs ({EXAMPLES} examples per mode) in {summary['seconds']} s; "
                f"failed runs {summary['failed_runs']}, 5xx {summary['server_errors']}; "
                f"statuses {statuses}; world builds {summary['world_builds']}",
                flush=True,
            )


def test_every_operation_of_the_spec_is_fuzzed() -> None:
    assert len(operations()) == 61
    assert set(operations()) == set(spec.operation_ids())


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("operation_id", spec.operation_ids())
def test_fuzz_operation(operation_id: str, mode: GenerationMode, fuzzer: Fuzzer) -> None:
    operation = operations()[operation_id]
    fuzzer.start_test()
    STATS["operations"] += 1

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        world = fuzzer.world()
        how = rewrite(case, operation.path, world, data.draw, fuzzer.receiver_url)
        response = case.call(base_url=fuzzer.sandbox.url, session=fuzzer.session, timeout=15)
        STATS["requests"] += 1
        STATS[str(response.status_code)] += 1
        STATS[f"how:{how}"] += 1
        fuzzer.observed(response.request.method or "", response.status_code)
        note(f"{how}: {case.as_curl_command(base_url=fuzzer.sandbox.url)}")
        note(f"-> {response.status_code} {response.text[:1000]}")
        check(operation_id, response)

    try:
        run()
    except BaseException:
        fuzzer.changed = True
        STATS["failed"] += 1
        raise


def test_the_sandbox_printed_no_traceback_while_fuzzed(fuzzer: Fuzzer) -> None:
    """A thread that died (an event lane, a dispatcher) prints a traceback and answers nothing:
    only its output tells."""
    time.sleep(0.3)  # let the reader thread catch up
    printed = sandbox_output(fuzzer.sandbox)[fuzzer.output_seen :]
    assert not [line for line in printed if "Traceback" in line or "Error" in line], printed
