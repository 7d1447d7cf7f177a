"""The timeline is rebuilt from the sandbox's Events resource and drawn to a real PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure
from twilio.rest import Client

from helpers.errors import UsageError
from helpers.quickstart import Quickstart, ensure_quickstart
from helpers.sids import short_sid
from helpers.timeline import COLOURS, plot_timeline, timeline_segments


@pytest.fixture
def qs(client: Client) -> Quickstart:
    qs = ensure_quickstart(client)
    workspace = client.taskrouter.v1.workspaces(qs.workspace_sid)
    workspace.workflows(qs.workflow_sid).update(assignment_callback_url="")
    return qs


def drive_task(client: Client, qs: Quickstart, sandbox: Any) -> str:
    """Task pending (5 s) -> reserved as Alice goes Idle (5 s) -> assigned (Alice Busy)."""
    workspace = client.taskrouter.v1.workspaces(qs.workspace_sid)
    task = workspace.tasks.create(
        attributes=json.dumps({"selected_language": "es"}), workflow_sid=qs.workflow_sid
    )
    sandbox.advance(5)
    workspace.workers(qs.workers["Alice"]).update(activity_sid=qs.activities["Idle"])
    sandbox.advance(5)
    reservation = workspace.tasks(task.sid).reservations.list()[0]
    workspace.tasks(task.sid).reservations(reservation.sid).update(reservation_status="accepted")
    return str(task.sid)


def labels(segments: list[Any]) -> list[str]:
    return [s.label for s in segments]


def test_segments_follow_the_task_and_the_worker(
    client: Client, qs: Quickstart, sandbox: Any
) -> None:
    task_sid = drive_task(client, qs, sandbox)

    timeline = timeline_segments(client, qs, task_sid, "Alice")

    assert labels(timeline.task) == ["pending", "reserved", "assigned"]
    assert labels(timeline.worker_lane) == ["Offline", "Idle", "Reserved", "Busy"]
    pending, reserved, assigned = timeline.task
    assert pending.start == pytest.approx(1.5, abs=0.1)  # 15 % of its 10 s life as context
    assert pending.end - pending.start == pytest.approx(5, abs=0.5)
    assert reserved.end - reserved.start == pytest.approx(5, abs=0.5)
    assert assigned.end == timeline.end > assigned.start
    offline, idle, reserved_activity, busy = timeline.worker_lane
    assert offline.end == idle.start == idle.end == reserved_activity.start  # Idle: an instant
    assert reserved_activity.end == busy.start == assigned.start
    assert timeline.callbacks == [reserved.start]  # reservation.created = the callback moment
    assert list(timeline.lanes) == [f"task {short_sid(task_sid)}", "Alice"]


def test_plot_timeline_renders_a_png(
    client: Client, qs: Quickstart, sandbox: Any, tmp_path: Path
) -> None:
    task_sid = drive_task(client, qs, sandbox)

    figure = plot_timeline(client, qs, task_sid, worker="Alice")

    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"pending", "reserved", "assigned", "Offline", "Idle", "Reserved", "Busy"} <= legend
    assert "assignment callback" in {t.get_text() for t in ax.texts}
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"task {short_sid(task_sid)}", "Alice"]
    path = tmp_path / "timeline.png"
    figure.savefig(path)
    assert path.exists() and path.stat().st_size > 10_000


def test_unknown_task_is_explained(client: Client, qs: Quickstart) -> None:
    with pytest.raises(UsageError, match="no events for task"):
        timeline_segments(client, qs, "WT" + "0" * 32)


def test_the_timeline_centres_on_the_task_not_the_workers_history(
    client: Client, qs: Quickstart, sandbox: Any
) -> None:
    """In 02 after 01 Alice has minutes of history; the task's life must fill the picture."""
    workspace = client.taskrouter.v1.workspaces(qs.workspace_sid)
    alice = workspace.workers(qs.workers["Alice"])
    for activity in ("Idle", "Offline", "Idle", "Offline"):  # an earlier notebook's moves
        alice.update(activity_sid=qs.activities[activity])
        sandbox.advance(20)
    task_sid = drive_task(client, qs, sandbox)

    timeline = timeline_segments(client, qs, task_sid, "Alice")

    life = timeline.task[-1].start - timeline.task[0].start  # created .. assigned: 10 s
    assert timeline.end <= life * 1.5 + 2  # not 90 s of history
    assert labels(timeline.worker_lane) == ["Offline", "Idle", "Reserved", "Busy"]
    assert timeline.worker_lane[0].start == 0


def test_every_state_has_its_own_colour() -> None:
    colours = {label: colour for label, colour in COLOURS.items() if label != "Available"}
    assert len(set(colours.values())) == len(colours)
    assert COLOURS["reserved"] != COLOURS["Reserved"]
