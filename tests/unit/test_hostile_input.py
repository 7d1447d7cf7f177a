"""Hostile or careless text never becomes markup or mathtext, and a damaged file never raises.

Names, attributes and URLs are set through the real SDK on the real sandbox, callbacks are
real HTTP requests to the real callback server; then every widget's HTML and every
``_repr_html_`` is parsed and must hold only the kit's own tags, with the hostile text as text.
``plot_timeline`` draws ``$`` as ``$``; ``preflight`` reports a damaged ``credentials.json``.
"""

from __future__ import annotations

import ast
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

import helpers
from helpers.config import Settings
from helpers.preflight import preflight
from helpers.quickstart import Quickstart, WorkspaceView, ensure_quickstart
from helpers.server import CallbackServer
from helpers.timeline import plot_timeline, timeline_segments
from helpers.widgets import ActivitySwitcher, EventLog, TaskBoard
from tests.support.sandbox import SandboxProcess, free_port

HELPERS = Path(helpers.__file__).parent
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = '"><script>alert(2)</script>'
SVG = "'><svg onload=alert(3)>"
HOSTILE = (IMG, SCRIPT, SVG)
KIT_TAGS = {"b", "i", "br", "div", "span", "small", "code", "pre", "p", "h4", "table", "tr",
            "th", "td"}  # fmt: skip


class Markup(HTMLParser):
    """Every tag and attribute a browser would build from the HTML."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert(html: str, where: str, shown: tuple[str, ...] = ()) -> None:
    """Only the kit's tags, no event-handler attribute, and ``shown`` visible as plain text."""
    markup = Markup(html)
    for tag, attrs in markup.tags:
        assert tag in KIT_TAGS, f"{where}: a <{tag}> element came from data: {html[:400]}"
        names = {name for name, _ in attrs}
        assert names <= {"style"}, f"{where}: attributes {names} on <{tag}>"  # no onerror=…
    text = "".join(markup.text)
    for value in shown:
        assert value in text, f"{where}: {value!r} is not shown as text"


@pytest.fixture
def made() -> Iterator[list[Any]]:
    widgets: list[Any] = []
    yield widgets
    for widget in widgets:
        widget.close()


@pytest.fixture
def hostile_qs(client: Client) -> Quickstart:
    """The quickstart with hostile text in every name, attribute and URL a widget shows."""
    qs = ensure_quickstart(client, name=f"WS {SVG}")
    ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
    trap = ws.activities.create(friendly_name=f"Away {IMG}", available=False).sid
    ws.update(default_activity_sid=trap, timeout_activity_sid=trap)
    ws.workers(qs.workers["Alice"]).update(
        activity_sid=trap, attributes=json.dumps({"languages": ["en", "es"], "note": SCRIPT})
    )
    ws.workers(qs.workers["Bob"]).update(friendly_name=f"Bob {IMG}")
    ws.task_queues(qs.queues["Spanish"]).update(friendly_name=f"Spanish {SCRIPT}")
    ws.workflows(qs.workflow_sid).update(
        friendly_name=f"Flow {IMG}", assignment_callback_url=f"http://127.0.0.1:1/{SCRIPT}"
    )
    ws.tasks.create(
        attributes=json.dumps({"selected_language": "es", "name": IMG}),
        workflow_sid=qs.workflow_sid,
    )
    lunch = ws.activities.create(friendly_name=f"Lunch {SVG}", available=False).sid
    activities = {**qs.activities, f"Away {IMG}": trap, f"Lunch {SVG}": lunch}
    workers = {"Alice": qs.workers["Alice"], f"Bob {IMG}": qs.workers["Bob"]}
    return Quickstart(qs.workspace_sid, qs.workflow_sid, activities, workers, qs.queues)


def post(url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(
        url, data=urlencode(form).encode(), method="POST", headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def signed_post(token: str, url: str, form: dict[str, str]) -> int:
    signature = RequestValidator(token).compute_signature(url, form)
    return post(url, form, {"X-Twilio-Signature": signature})


def test_every_widget_and_repr_shows_hostile_text_as_text(
    client: Client, hostile_qs: Quickstart, sandbox: SandboxProcess, made: list
) -> None:
    view = WorkspaceView(client, hostile_qs)
    assert_inert(view._repr_html_(), "WorkspaceView", (IMG, SCRIPT, SVG))

    board = TaskBoard(client, hostile_qs)
    made.append(board)
    assert_inert(board.table.value, "TaskBoard", (f"Bob {IMG}", f"Away {IMG}", SCRIPT))

    switch = ActivitySwitcher(client, hostile_qs, "Alice")
    made.append(switch)
    assert_inert(switch.status.value, "ActivitySwitcher", (f"Away {IMG}",))
    hostile_bob = ActivitySwitcher(client, hostile_qs, f"Bob {IMG}")
    made.append(hostile_bob)
    assert_inert(hostile_bob.status.value, "ActivitySwitcher(Bob)", (f"Bob {IMG}",))
    lunch = f"Lunch {SVG}"
    ws = client.taskrouter.v1.workspaces(hostile_qs.workspace_sid)
    ws.activities(hostile_qs.activities[lunch]).delete()  # the button now points nowhere
    with pytest.raises(TwilioRestException):
        switch.select(lunch)
    assert_inert(switch.message.value, "ActivitySwitcher message", (lunch,))

    with CallbackServer(port=0, auth_token=sandbox.auth_token) as server:
        server.public_url = f"https://tunnel.example/{SCRIPT}"
        base = server.url
        hostile_form = {"EventType": IMG, "EventDescription": SCRIPT, "TaskSid": SVG,
                        "Sid": IMG, "Timestamp": SCRIPT, "TimestampMs": IMG}  # fmt: skip
        assert post(f"{base}/events", hostile_form) == 403  # refused, still shown
        assert signed_post(sandbox.auth_token, f"{base}/events", hostile_form) == 204
        assert signed_post(sandbox.auth_token, f"{base}/assignment_callback",
                           hostile_form) == 200  # fmt: skip
        log = EventLog(client, hostile_qs, server)
        made.append(log)
        log.refresh()
        assert log.source == "event callbacks"
        assert_inert(log.events_html.value, "EventLog events", (IMG, SCRIPT))
        assert_inert(log.requests_html.value, "EventLog requests", (IMG, "refused"))
        assert_inert(server._repr_html_(), "CallbackServer", (SVG, SCRIPT))

    rest_log = EventLog(client, hostile_qs)  # the Events REST resource as the source
    made.append(rest_log)
    assert rest_log.source == "events API" and rest_log.event_rows
    assert_inert(rest_log.events_html.value, "EventLog (REST)")


def test_preflight_output_escapes_what_it_reports(tmp_path: Path) -> None:
    data_dir = tmp_path / IMG  # a directory name is text too
    data_dir.mkdir()
    (data_dir / "credentials.json").write_text(SCRIPT)
    settings = Settings(sandbox_dir=data_dir, sandbox_port=free_port())

    report = preflight(settings)

    assert_inert(report._repr_html_(), "preflight", (IMG,))


def test_only_helpers_html_escapes_and_every_html_producer_uses_it() -> None:
    """The class, not the instances: one escaping path, so a new widget cannot skip it."""
    offenders, producers = [], []
    for path in sorted(HELPERS.rglob("*.py")):
        if path.name == "_html.py":
            continue
        source = path.read_text()
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name == "html" for a in node.names):
                offenders.append(str(path.relative_to(HELPERS)))
            if isinstance(node, ast.ImportFrom) and node.module == "html":
                offenders.append(str(path.relative_to(HELPERS)))
        if "_repr_html_" in source or "widgets.HTML(" in source or "Markdown(" in source:
            producers.append(path)
    assert offenders == [], f"escape through helpers._html.escape, not html: {offenders}"
    assert producers, "no HTML producer found: the scan itself is broken"
    # Modules that only show another object's escaped _repr_html_ (a live copy of it).
    delegates = {"server_status.py": "shows CallbackServer._repr_html_(), escaped there"}
    for path in producers:
        if path.name in delegates:
            assert "_repr_html_()" in path.read_text(), path.name
            continue
        assert "from ._html import escape" in path.read_text() or (
            "from .._html import escape" in path.read_text()
        ), f"{path.name} renders HTML without helpers._html.escape"


# -- text from TaskRouter is drawn as text (matplotlib mathtext) --------------------------------


def test_plot_timeline_draws_dollar_names_as_text(
    client: Client, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    qs = ensure_quickstart(client)
    ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
    ws.workflows(qs.workflow_sid).update(assignment_callback_url="")
    names = ("On hold ($$)", "$x^2$ sales", "Costs $5 and $6")  # a ValueError, then math
    # The task first: the timeline is centred on the task's life, so the activities it shows
    # are the ones Alice held while the task waited.
    task = ws.tasks.create(attributes='{"selected_language": "es"}', workflow_sid=qs.workflow_sid)
    sandbox.advance(5)
    for name in names:
        activity = ws.activities.create(friendly_name=name, available=False).sid
        ws.workers(qs.workers["Alice"]).update(activity_sid=activity)
        sandbox.advance(5)
    ws.workers(qs.workers["Alice"]).update(activity_sid=qs.activities["Idle"])
    sandbox.advance(5)

    figure = plot_timeline(client, qs, task.sid, "Alice")
    figure.savefig(tmp_path / "timeline.png")  # drawing is where mathtext raised

    drawn = [*figure.axes[0].get_legend().get_texts(), *figure.axes[0].texts]
    shown = {text._preprocess_math(text.get_text()) for text in drawn}  # what reaches the glyphs
    assert (names[-1], False) in shown  # the last activity, in the legend, as plain text
    assert all(not is_math for _, is_math in shown)
    assert "On hold ($$)" in [s.label for s in timeline_segments(client, qs, task.sid).worker_lane]


# -- preflight on a damaged credentials file --------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    ["not json", "[]", '"a string"', '{"account_sid": "AC1"}', b"\xff\xfe\x00", "directory"],
)
def test_preflight_reports_damaged_credentials_never_raises(
    tmp_path: Path, damage: str | bytes
) -> None:
    data_dir = tmp_path / "kit"
    data_dir.mkdir()
    path = data_dir / "credentials.json"
    if damage == "directory":
        path.mkdir()
    elif isinstance(damage, bytes):
        path.write_bytes(damage)
    else:
        path.write_text(damage)
    settings = Settings(sandbox_dir=data_dir, sandbox_port=free_port())

    report = preflight(settings)

    checks = {c.name: c for c in report.checks}
    credentials = checks["credentials"]
    assert not credentials.ok and not report.ok
    assert str(path) in credentials.detail
    assert "delete" in credentials.fix and "taskrouter_sandbox stop" in credentials.fix
    assert not checks["TaskRouter"].ok and checks["TaskRouter"].fix  # it cannot start either
    assert list(checks) == ["Python", "packages", "mode", "credentials", "TaskRouter",
                            "ngrok authtoken", "callback port"]  # fmt: skip
    assert "fix:" in str(report) and "how to fix" in report._repr_html_()
    assert not (data_dir / "sandbox.json").exists()  # no half-started sandbox left behind
