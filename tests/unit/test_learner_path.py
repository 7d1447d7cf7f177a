"""The learner-facing defects of the person's path (issue 12), each pinned by a test.

make lab's messages and live-mode errors, placeholder credentials, no emoji for meaning, one
sid abbreviation, the server's live display, the 55555 diagnosis, the callback servers of
other kernels, and running the learner's own Flask app with helpers.serve.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from flask import Flask, abort, request
from twilio.request_validator import RequestValidator
from twilio.rest import Client

import helpers
from helpers import kernel_servers, lab
from helpers.config import Settings, is_placeholder, load_settings
from helpers.errors import ConfigError
from helpers.preflight import Report, preflight
from tests.support.sandbox import KIT_ROOT, SandboxProcess
from tests.unit.test_callback_server import Scenario

EMOJI = re.compile("[\u2600-\u27bf\U0001f300-\U0001faff\u2b00-\u2bff\u25a0-\u25ff]")
PLACEHOLDERS = {
    "TASKROUTER_MODE": "live",
    "TWILIO_ACCOUNT_SID": "AC" + "x" * 32,
    "TWILIO_AUTH_TOKEN": "your_auth_token",
}  # fmt: skip (as in .env.example)


def test_make_lab_opens_notebook_00_and_saves_notebooks_without_outputs() -> None:
    command = " ".join(lab.command(KIT_ROOT / "notebooks", 8899, open_browser=False))
    assert "--ServerApp.default_url=/lab/tree/00-set-up-the-workspace.ipynb" in command
    assert "--FileContentsManager.pre_save_hook=helpers.lab.strip_on_save" in command
    assert "--port=8899" in command
    makefile = (KIT_ROOT / "Makefile").read_text()
    assert "$(if $(LAB_PORT),--port $(LAB_PORT))" in makefile
    assert "LAB_PORT" in (KIT_ROOT / "README.md").read_text()


def test_make_lab_in_live_mode_without_credentials_explains_itself(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TASKROUTER_"))}
    env.update(TASKROUTER_MODE="live", TASKROUTER_SANDBOX_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "helpers.lab", "--no-browser"], cwd=KIT_ROOT,
                          env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert "Live mode needs TWILIO_ACCOUNT_SID" in done.stderr and "How to fix" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_placeholder_credentials_are_named_not_accepted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert is_placeholder("AC" + "x" * 32) and is_placeholder("your_ngrok_authtoken")
    assert not is_placeholder("AC" + "0123456789abcdef" * 2) and not is_placeholder(None)
    with pytest.raises(ConfigError, match=r"placeholder from \.env\.example"):
        load_settings(env=PLACEHOLDERS, dotenv_path=tmp_path / "none")
    for name, value in PLACEHOLDERS.items():
        monkeypatch.setenv(name, value)
    report = preflight()
    assert report.mode == "live (not ready)" and "unknown" not in str(report)
    (check,) = report.checks
    assert not check.ok and "placeholder" in check.detail and "Twilio Console" in check.fix


def test_preflight_and_progress_use_words_not_emoji() -> None:
    report = Report("sandbox")
    from helpers.preflight import Check

    report.checks += [Check("a", True, "fine"), Check("b", False, "broken", "do this")]
    for text in (str(report), report._repr_html_()):
        assert not EMOJI.search(text), EMOJI.findall(text)
    assert "text-align:left" in report._repr_html_()  # results read left to right
    source = "".join(
        (KIT_ROOT / "helpers" / name).read_text()
        for name in ("waiting.py", "server.py", "preflight.py", "widgets/_live.py")
    )
    assert not EMOJI.search(source), EMOJI.findall(source)
    for notebook in (KIT_ROOT / "notebooks").glob("*.ipynb"):
        assert not re.search("[\u2705\u274c\u23f3\u2714\u2718]", notebook.read_text()), notebook


def test_one_sid_abbreviation() -> None:
    sid = "WT722c8e0000000000000000000927e50"
    assert helpers.short_sid(sid) == "WT…927e50"
    from helpers.timeline import Timeline

    lanes = Timeline(sid, "Alice", 0.0, 1.0).lanes
    assert "task WT…927e50" in lanes


def signed_post(url: str, token: str, params: dict[str, str]) -> int:
    signature = RequestValidator(token).compute_signature(url, params)
    data = "&".join(f"{k}={v}" for k, v in params.items()).encode()
    req = urllib.request.Request(url, data=data, headers={"X-Twilio-Signature": signature})
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def learners_app(answer: dict) -> tuple[Flask, dict]:
    app = Flask("learner")
    holder: dict = {}
    validator = RequestValidator(holder.setdefault("token", "t" * 32))

    @app.post("/assignment_callback")
    def assignment_callback() -> dict:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(holder["server"].assignment_url, request.form, signature):
            abort(403)
        return answer

    return app, holder


def test_serve_runs_the_learners_app_and_logs_what_it_answered(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TASKROUTER_SANDBOX_DIR", str(tmp_path))
    monkeypatch.delenv("TASKROUTER_CALLBACK_PORT", raising=False)
    app, holder = learners_app({"instruction": "accept"})
    server = helpers.CallbackServer(app=app, auth_token=holder["token"]).start()
    holder["server"] = server
    try:
        assert signed_post(server.assignment_url, "t" * 32, {"TaskSid": "WT1"}) == 200
        assert signed_post(server.assignment_url, "wrong" * 8, {"TaskSid": "WT2"}) == 403
        good, forged = server.requests.snapshot()
        assert (good.status, good.answer, good.signature) == (200, {"instruction": "accept"},
                                                              "valid")  # fmt: skip
        assert (forged.status, forged.signature) == (403, "invalid")
        assert "2 callbacks received" in server._repr_html_()  # the live display's content
        (entry,) = helpers.callback_servers()
        assert entry.port == server.port and entry.this_kernel
        again = helpers.CallbackServer(app=app, auth_token=holder["token"]).start()  # re-run
        assert again.port == server.port and not server.running  # replaced, same port
        holder["server"] = again
    finally:
        helpers.stop_callback_servers()
    assert helpers.callback_servers() == []


def test_the_display_follows_the_log() -> None:
    from helpers.widgets.server_status import ServerStatus

    server = helpers.CallbackServer({}, port=0, verify_signatures=False).start()
    try:
        status = ServerStatus(server)
        assert "0 callbacks received" in status.html.value
        urllib.request.urlopen(
            urllib.request.Request(server.assignment_url, data=b"TaskSid=WT1"), timeout=5
        ).close()
        assert "1 callback received" in status.html.value  # updated by the server's thread
    finally:
        server.stop()
    assert "stopped" in status.html.value


def test_a_stop_request_needs_the_servers_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TASKROUTER_SANDBOX_DIR", str(tmp_path))
    server = helpers.CallbackServer({}, port=0, verify_signatures=False).start()
    try:
        (entry,) = kernel_servers.entries()
        forged = kernel_servers.ServerEntry(**{**entry.__dict__, "token": "guess"})
        assert not kernel_servers.stop_remote(forged, timeout=1) and server.running
        assert kernel_servers.stop_remote(entry) and not server.running
    finally:
        server.stop()


def test_a_typo_in_the_instruction_is_quoted_with_the_valid_ones(
    sandbox: SandboxProcess, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers.waiting import diagnose

    server = helpers.CallbackServer({"instruction": "acept"}, port=0,
                                    auth_token=sandbox.auth_token).start()  # fmt: skip
    try:
        scenario = Scenario.build(client)
        helpers.point_workflow(client, scenario.workspace_sid, scenario.workflow_sid, server)
        task = scenario.task(selected_language="en")
        scenario.set_activity("Idle")
        server.wait_for()
        qs = helpers.Quickstart(scenario.workspace_sid, scenario.workflow_sid,
                                workers={"Alice": scenario.worker_sid})  # fmt: skip
        live_like = Settings(mode="live", account_sid=sandbox.account_sid, auth_token="t" * 32)
        why = diagnose(client, qs, task, server, live_like)  # from the server's own log
    finally:
        server.stop()
    assert "'acept'" in why and "accept, reject" in why, why


def test_the_board_shows_current_tasks_and_no_rejection_for_tidied_ones(
    client: Client, sandbox: SandboxProcess
) -> None:
    from helpers.widgets import TaskBoard

    qs = helpers.ensure_quickstart(client)
    ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
    ws.workflows(qs.workflow_sid).update(assignment_callback_url="")
    spanish = json.dumps({"selected_language": "es"})
    old = ws.tasks.create(attributes=spanish, workflow_sid=qs.workflow_sid)
    helpers.tidy_up(client, qs)  # an earlier notebook's task, finished
    board = TaskBoard(client, qs, interval=60)
    try:
        assert board.status_of(old.sid) is None  # not this notebook's story
        task = ws.tasks.create(attributes=spanish, workflow_sid=qs.workflow_sid)
        ws.workers(qs.workers["Alice"]).update(activity_sid=qs.activities["Idle"])
        board.refresh()
        assert board.status_of(task.sid) == "reserved"
        helpers.tidy_up(client, qs)
        board.refresh()
        row = next(r for r in board.tasks if r.sid == task.sid)
        assert row.status == "canceled"  # it stays, so the learner sees it finish
        assert row.reservations == (("Alice", "ended (canceled by tidy_up)"),)
        assert "rejected" not in board.table.value
    finally:
        board.close()


def test_the_event_log_says_how_far_apart_its_two_clocks_are(
    client: Client, sandbox: SandboxProcess
) -> None:
    from helpers.widgets import EventLog

    qs = helpers.ensure_quickstart(client)
    sandbox.advance(16)  # what notebook 03 does
    server = helpers.CallbackServer({"instruction": "accept"}, port=0,
                                    auth_token=sandbox.auth_token).start()  # fmt: skip
    log = EventLog(client, qs, server, interval=60)
    try:
        helpers.point_workflow(client, qs.workspace_sid, qs.workflow_sid, server, events=True)
        ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
        ws.tasks.create(attributes='{"selected_language": "es"}', workflow_sid=qs.workflow_sid)
        server.wait_for(lambda record: record.kind == "event")
        log.refresh()
        offset = float(sandbox.control("GET", "/_sandbox/clock")["offset"])  # >= 16 s
        assert log.clock_offset is not None and abs(log.clock_offset - offset) < 1.5
        ahead = f"TaskRouter's clock is {log.clock_offset:.0f} s ahead of this machine's"
        assert ahead in log.events_html.value
        assert log.events_html.layout.overflow == "hidden"  # columns never run into each other
    finally:
        log.close()
        server.stop()


def test_what_notebook_03_changes_is_repaired_by_ensure_quickstart(
    client: Client, sandbox: SandboxProcess
) -> None:
    """A 03 cell that fails halfway (timeout 15 s, two reserved workers) leaves nothing that
    re-running a notebook's first cell does not put back."""
    qs = helpers.ensure_quickstart(client)
    ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
    ws.workflows(qs.workflow_sid).update(task_reservation_timeout=15)
    ws.task_queues(qs.queues["English"]).update(max_reserved_workers=2)
    helpers.ensure_quickstart(client)
    assert ws.workflows(qs.workflow_sid).fetch().task_reservation_timeout == 1200
    assert ws.task_queues(qs.queues["English"]).fetch().max_reserved_workers == 1
