"""Property tests of the one integer reader and the one callback URL validator (issue 19,
defects 6, 7, 12), over every parameter that uses them, against a real sandbox process.

``str.isdigit()`` once let "²", "١٢" and 5,000-digit numbers through to ``int()``: a 500, or a
workflow target ``timeout`` of 10**400 that was stored and broke the timer thread later. Every
numeric input now goes through :func:`taskrouter_sandbox.params.bounded_int`, every callback URL
through :func:`taskrouter_sandbox.urls.check_callback_url`. Here hostile values are drawn for each
such parameter: the answer is never a 5xx, a refusal is Twilio's envelope (400, code 20001),
and nothing is accepted that the reader or validator would refuse.

CI size: 30 examples per parameter; ``KIT_LONG=1``: 300.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from helpers.config import ConfigError, default_port
from taskrouter_sandbox import urls
from taskrouter_sandbox.api_errors import BadRequest
from taskrouter_sandbox.params import MAX_PRIORITY, MAX_TASK_TIMEOUT, bounded_int
from tests.reliability.support import scaled
from tests.reliability.test_bad_input import Site, assert_envelope, build_site
from tests.support.sandbox import SandboxProcess

EXAMPLES = scaled(30, 300)
ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TEXT = st.characters(blacklist_categories=("Cs",))  # what a form can carry (no surrogates)

integer_texts = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.text(alphabet=st.sampled_from("0123456789²³١٢۴６𝟏+- _.,eE\t"), max_size=25),
    st.integers(0, 6000).map(lambda n: "9" * n),  # 5,000 digits and more
    st.sampled_from(["10" + "0" * 400, "²", "PT", "0x10", "1e3", "١٢", "1_000", " 7 ", "+5"]),
    st.text(alphabet=TEXT, max_size=12),
)
json_numbers = st.one_of(
    st.integers(-(10**400), 10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    integer_texts,
    st.lists(st.integers(0, 9), max_size=2),
)


@pytest.fixture
def api(sandbox: SandboxProcess) -> Iterator[requests.Session]:
    session = requests.Session()
    session.auth = (sandbox.account_sid, sandbox.auth_token)
    yield session
    session.close()


@pytest.fixture
def site(sandbox: SandboxProcess, api: requests.Session) -> Site:
    return build_site(sandbox, api)


def refused_or_accepted(response: requests.Response) -> bool:
    """True when accepted (2xx); a refusal must be Twilio's 400 envelope; never a 5xx."""
    if response.status_code < 300:
        return True
    assert_envelope(response, 400)
    return False


NumericCase = tuple[str, str, str, Callable[[Site], dict[str, str]]]
NUMERIC: list[NumericCase] = [
    ("GET", "/v1/Workspaces", "PageSize", lambda s: {}),
    ("GET", "/v1/Workspaces", "Page", lambda s: {}),
    ("GET", "/v1/Workspaces", "PageToken", lambda s: {}),
    ("POST", "{ws}/Tasks", "Priority", lambda s: {"WorkflowSid": s.workflow}),
    ("POST", "{ws}/Tasks", "Timeout", lambda s: {"WorkflowSid": s.workflow}),
    ("POST", "{ws}/Tasks/{task}", "Priority", lambda s: {}),
    ("GET", "{ws}/Tasks", "Priority", lambda s: {}),
    ("POST", "{ws}/Workflows/{workflow}", "TaskReservationTimeout", lambda s: {}),
    ("POST", "{ws}/TaskQueues/{queue}", "MaxReservedWorkers", lambda s: {}),
    ("POST", "{ws}/Workers/{worker}/Channels/default", "Capacity", lambda s: {}),
    ("GET", "{ws}/Events", "Minutes", lambda s: {}),
    ("GET", "{ws}/CumulativeStatistics", "Minutes", lambda s: {}),
    ("GET", "{ws}/CumulativeStatistics", "SplitByWaitTime", lambda s: {}),
]


def _url(at: Site, template: str) -> str:
    path = template.format(ws=f"/v1/Workspaces/{at.ws}", task=at.task, workflow=at.workflow,
                           queue=at.queue, worker=at.worker)  # fmt: skip
    return at.url + path


@given(value=integer_texts)
@PROPERTY
def test_bounded_int_refuses_with_bad_request_or_returns_the_ascii_number(value: str) -> None:
    try:
        number = bounded_int(value, "X", low=0, high=10**6)
    except BadRequest as error:
        assert "X must be a whole number" in error.message and len(error.message) < 200
        return
    assert ASCII_INTEGER.fullmatch(value.strip(" \t")) and 0 <= number <= 10**6
    assert number == int(value.strip(" \t"))


@pytest.mark.parametrize(("method", "template", "param", "extra"), NUMERIC,
                         ids=[f"{m} {t} {p}" for m, t, p, _ in NUMERIC])  # fmt: skip
def test_every_numeric_parameter_is_400_or_a_valid_whole_number(
    api: requests.Session,
    site: Site,
    method: str,
    template: str,
    param: str,
    extra: Callable[[Site], dict[str, str]],
) -> None:
    url = _url(site, template)

    @given(value=integer_texts)
    @PROPERTY
    def check(value: str) -> None:
        sent = "PT" + value if param == "PageToken" else value
        data = {**extra(site), param: sent}
        if method == "GET":
            response = api.get(url, params=data, timeout=30)
        else:
            response = api.post(url, data=data, timeout=30)
        note(f"{param}={sent!r} -> {response.status_code} {response.text[:200]}")
        if refused_or_accepted(response):
            parts = value.split(",") if param == "SplitByWaitTime" else [value]
            assert all(ASCII_INTEGER.fullmatch(p.strip()) for p in parts), (param, value)

    check()


@given(priority=json_numbers, timeout=json_numbers)
@PROPERTY
def test_workflow_target_priority_and_timeout_are_400_or_bounded_whole_numbers(
    api: requests.Session,
    site: Site,
    priority: Any,
    timeout: Any,
) -> None:
    target: dict[str, Any] = {"queue": site.queue}
    if priority is not None:
        target["priority"] = priority
    if timeout is not None:
        target["timeout"] = timeout
    document = {"task_routing": {"filters": [
        {"expression": "1==1", "targets": [target]}]}}  # fmt: skip
    text = json.dumps(document)  # floats inf/nan become Infinity/NaN, which JSON readers take
    response = api.post(
        _url(site, "{ws}/Workflows/{workflow}"), data={"Configuration": text}, timeout=30
    )
    note(f"{text[:200]} -> {response.status_code} {response.text[:200]}")
    if refused_or_accepted(response):
        assert _whole(priority, 0, MAX_PRIORITY) and _whole(timeout, 1, MAX_TASK_TIMEOUT)
    # Whatever was stored still routes: a task of this workflow is created, never a 500.
    created = api.post(_url(site, "{ws}/Tasks"), data={"WorkflowSid": site.workflow}, timeout=30)
    assert created.status_code == 201, created.text


def _whole(value: Any, low: int, high: int) -> bool:
    if value is None:
        return True
    if isinstance(value, (bool, float, list)):
        return False
    if isinstance(value, str):
        if not ASCII_INTEGER.fullmatch(value.strip(" \t")):
            return False
        value = int(value.strip(" \t"))
    return bool(low <= value <= high)


@given(advance=st.one_of(integer_texts, st.floats().map(repr)))
@PROPERTY
def test_advancing_the_clock_is_400_or_done_never_500(
    sandbox: SandboxProcess,
    api: requests.Session,
    advance: str,
) -> None:
    response = api.post(f"{sandbox.url}/_sandbox/clock", data={"Advance": advance}, timeout=30)
    if refused_or_accepted(response):
        assert math.isfinite(float(advance)) and float(advance) >= 0


# -- callback URLs ----------------------------------------------------------------------------

HOSTILE_URLS = [
    "file:///etc/passwd", "gopher://127.0.0.1:25/x", "ftp://h/x", "javascript:alert(1)",
    "not a url", "http://", "http://[", "http://h:99999/", "http://h:0/", "//h/x",
    "http://user:pw@127.0.0.1:9/x", "https://127.0.0.1:9/a?b=c", "HTTP://127.0.0.1:9/",
    "http://127.0.0.1:9/a b", "http://127.0.0.1:9/\x00", "data:text/html,x",
]  # fmt: skip
url_texts = st.one_of(
    st.text(alphabet=TEXT, max_size=40),
    st.sampled_from(HOSTILE_URLS),
    st.builds(
        lambda scheme, auth, port, path: f"{scheme}://{auth}127.0.0.1{port}/{path}",
        st.sampled_from(["http", "https", "HTTPS", "ws", "file", ""]),
        st.sampled_from(["", "u:p@", "u@", ":@", "a%40b:c%3Ad@"]),
        st.sampled_from(["", ":9", ":0", ":65536", ":x", ":-1"]),
        st.text(alphabet=TEXT, max_size=10),
    ),
)


@given(url=url_texts)
@PROPERTY
def test_every_callback_url_parameter_takes_exactly_what_the_validator_takes(
    sandbox: SandboxProcess,
    api: requests.Session,
    site: Site,
    url: str,
) -> None:
    # Event callbacks of this workspace are filtered to an event that never happens here, so
    # an accepted URL is stored but never called (no traffic to whatever host it names).
    api.post(site.path(), data={"EventsFilter": "task.system-deleted"}, timeout=30)
    expected = not url or urls.problem(url) is None
    for where, param in (
        (_url(site, "{ws}/Workflows/{workflow}"), "AssignmentCallbackUrl"),
        (_url(site, "{ws}/Workflows/{workflow}"), "FallbackAssignmentCallbackUrl"),
        (site.path(), "EventCallbackUrl"),
    ):
        response = api.post(where, data={param: url}, timeout=30)
        note(f"{param}={url!r} -> {response.status_code} {response.text[:200]}")
        assert refused_or_accepted(response) == expected, (param, url)
    if expected and url:
        parts = urls.call_target(url)
        assert parts.scheme in ("http", "https") and parts.netloc
        assert "@" not in parts.netloc and "@" not in parts.signed_url.split("/")[2]


@pytest.mark.parametrize("port", ["²", "١٢٣", "9" * 5000, "0", "65536", "80 80", ""])
def test_a_sandbox_port_setting_that_is_not_a_port_is_a_config_error(port: str) -> None:
    env = {"TASKROUTER_SANDBOX_PORT": port} if port else {"TASKROUTER_SANDBOX_PORT": "x"}
    with pytest.raises(ConfigError) as info:
        default_port(env)
    assert "TASKROUTER_SANDBOX_PORT" in str(info.value)
