"""Every notebook, executed top to bottom in a real kernel against a fresh sandbox.

Asserts on outcomes (the task assigned, Alice Busy…) by reading the sandbox afterwards, not only
on "no error". Notebooks 01 and 02 run a second time with the tunnel forced through pyngrok and
the fake ngrok agent, so the live path (public URL, signature over it) is exercised.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

import helpers
from taskrouter_sandbox import process
from tests.notebooks.conftest import Kit
from tests.support.sandbox import KIT_ROOT

NOTEBOOKS = sorted((KIT_ROOT / "notebooks").glob("*.ipynb"))
FAKE_NGROK = KIT_ROOT / "tests" / "fakes" / "ngrok"


def outputs_text(notebook: nbformat.NotebookNode) -> str:
    return json.dumps([cell.get("outputs", []) for cell in notebook.cells])


def assert_no_secret(notebook: nbformat.NotebookNode, kit: Kit) -> None:
    token = process.credentials(kit.settings.sandbox_dir).auth_token
    text = outputs_text(notebook)
    assert token not in text
    # what a learner reads: no SDK object reprs, no dataclass dumps of sids, no emoji marks
    for unreadable in ("<Twilio.", "Instance ", "Quickstart(workspace_sid", "\\u2705", "\\u274c"):
        assert unreadable not in text, unreadable


def quickstart(kit: Kit) -> helpers.Quickstart:
    return helpers.ensure_quickstart(kit.client)


def test_00_set_up_the_workspace(kit: Kit) -> None:
    notebook = kit.run("00-set-up-the-workspace.ipynb")
    qs = quickstart(kit)
    assert kit.worker(qs, "Alice").activity_name == "Offline"
    assert "The workspace is ready" in outputs_text(notebook)
    assert_no_secret(notebook, kit)


def test_01_accept_via_rest(kit: Kit) -> None:
    notebook = kit.run("01-create-a-task-accept-via-rest.ipynb")
    qs = quickstart(kit)
    (task,) = kit.tasks(qs)
    assert task.assignment_status == "assigned"
    assert kit.worker(qs, "Alice").activity_name == "Busy"
    assert_no_secret(notebook, kit)


def test_02_accept_via_callback(kit: Kit) -> None:
    notebook = kit.run("02-accept-via-the-assignment-callback.ipynb")
    qs = quickstart(kit)
    assigned = [t for t in kit.tasks(qs) if t.assignment_status == "assigned"]
    assert len(assigned) == 1 and kit.worker(qs, "Alice").activity_name == "Busy"
    assert "image/png" in outputs_text(notebook)  # the timeline was drawn
    assert_no_secret(notebook, kit)


def test_03_instructions(kit: Kit) -> None:
    notebook = kit.run("03-instructions-and-what-goes-wrong.ipynb")
    qs = quickstart(kit)
    assert all(t.assignment_status in ("completed", "canceled") for t in kit.tasks(qs))
    text = outputs_text(notebook)
    for seen in ("rejected", "timeout", "rescinded", "worker_call_sid", "Seen: reject"):
        assert seen in text, seen
    codes = [e["code"] for e in helpers.sandbox_callbacks(qs.workspace_sid, kit.settings)]
    assert 11200 in codes  # the broken callback's 500, as TaskRouter's debugger records it
    assert_no_secret(notebook, kit)


def test_04_events(kit: Kit) -> None:
    notebook = kit.run("04-events-and-the-timeline.ipynb")
    qs = quickstart(kit)
    assert any(t.assignment_status == "assigned" for t in kit.tasks(qs))
    assert "reservation.accepted" in outputs_text(notebook)
    assert_no_secret(notebook, kit)


def test_05_tasks_from_phone_calls(kit: Kit) -> None:
    notebook = kit.run("05-tasks-from-phone-calls.ipynb")
    check_05(kit, notebook)


def check_05(kit: Kit, notebook: nbformat.NotebookNode) -> None:
    qs = quickstart(kit)
    (task,) = [t for t in kit.tasks(qs) if t.assignment_status == "assigned"]
    attributes = json.loads(task.attributes)
    assert attributes["selected_language"] == "es" and attributes["direction"] == "inbound"
    calls = {c.sid: c for c in kit.client.calls.list()}
    assert calls[attributes["call_sid"]].status == "completed"
    assert calls[attributes["worker_call_sid"]].duration == "30"
    leg = calls[attributes["worker_call_sid"]]
    assert (leg.to, leg._from) == ("+15555555555", attributes["to"])  # from: the dialled number
    assert kit.worker(qs, "Alice").activity_name == "WrapUp"
    text = outputs_text(notebook)
    assert "oprime el uno." in text and "connected to" in text
    assert "image/png" in text and "A call became a task" in text
    assert_no_secret(notebook, kit)


def test_06_worker_page(kit: Kit) -> None:
    """The Python side of the page (nbclient has no browser): tokens, the bridge's requests,
    reservation accepted, completed, rejected to Bob, activities in agreement."""
    notebook = kit.run("06-the-worker-page.ipynb")
    qs = quickstart(kit)
    text = outputs_text(notebook)
    for seen in ("task_router", "ebServer", "new TaskRouter.Worker", "now offered to Bob: True",
                 "page and switcher agree: Alice is Offline"):  # fmt: skip
        assert seen in text, seen
    assert all(t.assignment_status in ("completed", "canceled") for t in kit.tasks(qs))
    assert kit.worker(qs, "Alice").activity_name == "Offline"
    assert_no_secret(notebook, kit)


def test_07_experiment(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKROUTER_EXPERIMENT_HOURS", "0.25")  # CI's size; the full day: bench
    notebook = kit.run("07-experiment-a-day-in-seconds.ipynb")
    api = kit.client.taskrouter.v1
    names = {w.friendly_name: w.sid for w in api.workspaces.list()}
    for design in ("strict", "overflow after 30 s"):
        sid = names[f"Experiment: {design} (seed 7)"]
        statuses = {t.assignment_status for t in api.workspaces(sid).tasks.list()}
        assert statuses <= {"completed", "canceled"}, statuses  # the day ran to its end
    text = outputs_text(notebook)
    for seen in (
        "selected_language=es",
        "queue Everyone",
        '+            \\"timeout\\": 30',
        "image/png",
        "overflow after 30 s</b>, seed 7",
    ):
        assert seen in text, seen
    assert_no_secret(notebook, kit)


def test_99_clean_up(kit: Kit) -> None:
    kit.run("02-accept-via-the-assignment-callback.ipynb")
    kit.run("99-clean-up.ipynb")
    qs = quickstart(kit)
    assert all(t.assignment_status == "completed" for t in kit.tasks(qs))
    assert kit.worker(qs, "Alice").activity_name == "Offline"


@pytest.fixture
def tunneled(kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kit:
    monkeypatch.setenv("TASKROUTER_TUNNEL", "1")
    monkeypatch.setenv("PYNGROK_NGROK_PATH", str(FAKE_NGROK))
    monkeypatch.setenv("TASKROUTER_NGROK_CONFIG", str(tmp_path / "ngrok" / "ngrok.yml"))
    monkeypatch.setenv("NGROK_AUTHTOKEN", "fake-ngrok-token-for-tests")
    return kit


@pytest.mark.parametrize(
    "name",
    ["01-create-a-task-accept-via-rest.ipynb", "02-accept-via-the-assignment-callback.ipynb"],
)
def test_live_path_through_the_tunnel(tunneled: Kit, name: str) -> None:
    notebook = tunneled.run(name)
    qs = quickstart(tunneled)
    flow = tunneled.client.taskrouter.v1.workspaces(qs.workspace_sid).workflows(qs.workflow_sid)
    url = flow.fetch().assignment_callback_url
    assert url.startswith("http://localhost:"), url  # the fake agent's public URL, not loopback
    assert any(t.assignment_status == "assigned" for t in tunneled.tasks(qs))
    assert "fake-ngrok-token-for-tests" not in outputs_text(notebook)
    assert f"signature: valid for {url.removesuffix('/assignment_callback')}" in outputs_text(
        notebook
    ) or "signature: valid" in outputs_text(notebook)


def test_05_through_the_tunnel(tunneled: Kit) -> None:
    """The voice URL and the callback go through the fake ngrok agent's public URL."""
    notebook = tunneled.run("05-tasks-from-phone-calls.ipynb")
    check_05(tunneled, notebook)
    (number,) = tunneled.client.incoming_phone_numbers.list()
    assert number.voice_url.startswith("http://localhost:"), number.voice_url
    assert "fake-ngrok-token-for-tests" not in outputs_text(notebook)


def test_every_notebook_is_tested() -> None:
    tested = {"00", "01", "02", "03", "04", "05", "06", "07", "99"}
    assert {p.name[:2] for p in NOTEBOOKS} == tested, os.listdir(KIT_ROOT / "notebooks")
