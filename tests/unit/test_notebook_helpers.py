"""preflight, the control-plane helpers and wait_for_task's diagnosis, against a real sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import helpers
from helpers.config import Settings
from helpers.control import advance_clock, reset_sandbox, sandbox_callbacks
from helpers.preflight import preflight
from helpers.quickstart import ensure_quickstart
from helpers.waiting import WaitTimeout, wait_for_task
from taskrouter_sandbox import process
from tests.support.sandbox import free_port


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    settings = Settings(sandbox_dir=tmp_path / "kit", sandbox_port=free_port())
    yield settings
    process.stop(settings.sandbox_dir)


def test_preflight_in_sandbox_mode(settings: Settings) -> None:
    report = preflight(settings)
    names = {c.name: c for c in report.checks}
    assert names["TaskRouter"].ok and "healthy" in names["TaskRouter"].detail
    assert names["mode"].detail.startswith("sandbox")
    creds = process.credentials(settings.sandbox_dir)
    assert creds.auth_token not in str(report) and creds.auth_token not in report._repr_html_()


def test_preflight_live_without_ngrok_says_how_to_fix(settings: Settings) -> None:
    live = Settings(mode="live", account_sid="AC" + "1" * 32, auth_token="x" * 32,
                    sandbox_dir=settings.sandbox_dir)  # fmt: skip
    ngrok = next(c for c in preflight(live).checks if c.name == "ngrok authtoken")
    assert not ngrok.ok and "NGROK_AUTHTOKEN" in ngrok.fix


def test_clock_callbacks_reset_and_diagnosis(settings: Settings) -> None:
    client = helpers.connect(settings)
    qs = ensure_quickstart(client)
    ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
    task = ws.tasks.create(attributes='{"selected_language": "es"}', workflow_sid=qs.workflow_sid)
    with pytest.raises(WaitTimeout, match="Alice is Offline"):
        wait_for_task(client, qs, task.sid, timeout=0.3, settings=settings)
    ws.workers(qs.workers["Alice"]).update(activity_sid=qs.activities["Idle"])
    with pytest.raises(WaitTimeout, match="no assignment callback URL"):
        wait_for_task(client, qs, task.sid, timeout=0.3, settings=settings)
    assert sandbox_callbacks(qs.workspace_sid, settings) == []
    advance_clock(1201, settings)  # the quickstart's reservation timeout is 1200 s
    assert ws.workers(qs.workers["Alice"]).fetch().activity_name == "Offline"
    reset_sandbox(settings)
    assert client.taskrouter.v1.workspaces.list() == []
