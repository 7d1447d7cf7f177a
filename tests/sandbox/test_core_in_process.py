"""The domain core without HTTP: the same behaviour the REST resources reach, called in process
on a sandbox's own store (what an extension or an in-process test does)."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from taskrouter_sandbox.api_errors import BadRequest
from taskrouter_sandbox.core import tasks, workers, workspaces
from taskrouter_sandbox.models import Activity, Reservation, Task, TaskQueue, Worker, Workspace
from taskrouter_sandbox.testing import InProcessSandbox


def test_a_task_made_in_process_is_routed_and_answered_through_the_core(
    taskrouter_sandbox_in_process: InProcessSandbox,
) -> None:
    app = taskrouter_sandbox_in_process.app
    core, store = app.core, app.store
    now = core.now()
    with store.transaction() as tx:
        ws = workspaces.create_workspace(
            tx, app.config.account_sid, now, friendly_name="Core", template="FIFO"
        )
        available = next(
            a for a in tx.group(Activity, "workspace_sid", ws.sid).values() if a.available
        )
        alice = workers.create_worker(
            core.engine, tx, ws, now, friendly_name="Alice", attributes="{}",
            activity_sid=available.sid,
        )  # fmt: skip
    # The routing index follows commits (as each REST call is its own transaction): the
    # task comes in a transaction of its own, after its queue and worker are committed.
    with store.transaction() as tx:
        task = tasks.create_task(core.engine, tx, ws, now, attributes=json.dumps({"n": 1}))
    assert task.assignment_status == "reserved"  # routed in the same transaction
    (reservation,) = store.group(Reservation, "task_sid", task.sid).values()
    assert reservation.worker_sid == alice.sid
    queue = store.get(task.task_queue_sid or "", TaskQueue)
    assert queue is not None and queue.friendly_name == "Sample Queue"

    core.answer(reservation.sid, {"instruction": "accept"})  # what a callback answer does
    assert store.get(task.sid, Task).assignment_status == "assigned"  # type: ignore[union-attr]
    assert store.get(alice.sid, Worker) is not None
    # ... and what the Events resource lists, from the same transactions
    listed = taskrouter_sandbox_in_process.client().taskrouter.v1.workspaces(ws.sid)
    types = [e.event_type for e in listed.events.list(task_sid=task.sid)]
    assert {"task.created", "reservation.created", "reservation.accepted"} <= set(types)


def test_the_core_refuses_what_rest_refuses(
    taskrouter_sandbox_in_process: InProcessSandbox,
) -> None:
    app = taskrouter_sandbox_in_process.app
    now = app.core.now()
    with app.store.transaction() as tx:
        ws = workspaces.create_workspace(tx, app.config.account_sid, now, friendly_name="Twice")
    try:
        with app.store.transaction() as tx:
            workspaces.create_workspace(tx, app.config.account_sid, now, friendly_name="Twice")
    except BadRequest as error:
        assert "already exists" in error.message
    else:
        raise AssertionError("a second workspace of the same name was accepted")
    assert workspaces.events_filter(" task.created, ") == "task.created"
    assert app.store.get(ws.sid) is not None


def _saved_offset(data_dir: Path) -> float:
    """The clock offset as another connection reads it from the database (not this process's
    memory): what a restarted sandbox would start from."""
    with closing(sqlite3.connect(data_dir / "sandbox.sqlite3")) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'clock_offset'").fetchone()
    return float(row[0])


def test_each_clock_advance_is_on_disk_when_it_returns(tmp_path: Path) -> None:
    """The offset rides with the first commit of the timers an advance fires, or is written
    on its own when none fires: either way it is in the database before the answer."""
    with InProcessSandbox.running(data_dir=tmp_path, timers=False) as sandbox:
        sandbox.advance(5)  # nothing due: written on its own
        assert _saved_offset(tmp_path) == sandbox.app.clock.offset >= 5
        client = sandbox.client().taskrouter.v1
        ws = client.workspaces.create(friendly_name="Clock", template="FIFO")
        workspace = client.workspaces(ws.sid)
        available = next(a.sid for a in workspace.activities.list() if a.available)
        workspace.workers.create(friendly_name="Alice", activity_sid=available)
        task = workspace.tasks.create(attributes="{}")
        sandbox.advance(121)  # the reservation's 120 s timeout fires: its commit carries it
        (reservation,) = workspace.tasks(task.sid).reservations.list()
        assert reservation.reservation_status == "timeout"
        assert _saved_offset(tmp_path) == sandbox.app.clock.offset >= 126


def test_a_queue_never_counts_another_workspace_s_workers(
    taskrouter_sandbox_in_process: InProcessSandbox,
) -> None:
    """Two workspaces whose queues select everyone ("1==1"): each queue's members are its own
    workspace's workers, so a task arriving in one never walks the other's workers."""
    client = taskrouter_sandbox_in_process.client().taskrouter.v1
    index = taskrouter_sandbox_in_process.app.engine.index
    spaces = [client.workspaces.create(friendly_name=n, template="FIFO") for n in ("A", "B")]
    for ws in spaces:  # a task in each builds the queue's member set
        client.workspaces(ws.sid).tasks.create(attributes="{}")
    hired = {}
    for ws in spaces:  # workers made after the member sets exist are added incrementally
        workspace = client.workspaces(ws.sid)
        available = next(a.sid for a in workspace.activities.list() if a.available)
        hired[ws.sid] = workspace.workers.create(friendly_name="W", activity_sid=available).sid
    store = taskrouter_sandbox_in_process.app.store
    for ws in spaces:
        (queue,) = store.group(TaskQueue, "workspace_sid", ws.sid).values()
        assert index.members(queue) == {hired[ws.sid]}


def _workspace_with_workers(
    sandbox: InProcessSandbox, count: int
) -> tuple[Workspace, Activity, Activity, list[Worker]]:
    """A FIFO-template workspace (its Sample Queue selects everyone) and ``count`` workers,
    all Offline, committed."""
    app = sandbox.app
    now = app.core.now()
    with app.store.transaction() as tx:
        ws = workspaces.create_workspace(
            tx, app.config.account_sid, now, friendly_name="Index", template="FIFO"
        )
    activities = app.store.group(Activity, "workspace_sid", ws.sid).values()
    idle = next(a for a in activities if a.available)
    offline = next(a for a in activities if a.sid == ws.default_activity_sid)
    made = []
    for i in range(count):
        with app.store.transaction() as tx:
            made.append(
                workers.create_worker(
                    app.core.engine,
                    tx,
                    ws,
                    now,
                    friendly_name=f"W{i}",
                    attributes="{}",
                    activity_sid=offline.sid,
                )
            )
    return ws, idle, offline, made


def test_a_queue_offers_arriving_tasks_to_its_available_members_only(
    taskrouter_sandbox_in_process: InProcessSandbox,
) -> None:
    """The routing index keeps each queue's available members apart, refreshed on every
    worker write: an arriving task looks at the free workers, not at every member."""
    app = taskrouter_sandbox_in_process.app
    engine, store, now = app.core.engine, app.store, app.core.now()
    ws, idle, offline, made = _workspace_with_workers(taskrouter_sandbox_in_process, 6)
    queue = next(iter(store.group(TaskQueue, "workspace_sid", ws.sid).values()))
    for worker in made[:2]:
        with store.transaction() as tx:
            workers.update_worker(engine, tx, worker, now, activity_sid=idle.sid)
    with store.transaction() as tx:
        assert engine.index.candidates(tx, queue) == {w.sid for w in made[:2]}
        assert engine.index.members(queue) == {w.sid for w in made}
    with store.transaction() as tx:  # and back Offline: out of the available set
        current = store.get(made[0].sid, Worker)
        assert current is not None
        workers.update_worker(engine, tx, current, now, activity_sid=offline.sid)
    with store.transaction() as tx:
        assert engine.index.candidates(tx, queue) == {made[1].sid}
        task = tasks.create_task(engine, tx, ws, now, attributes="{}")
    (reservation,) = store.group(Reservation, "task_sid", task.sid).values()
    assert reservation.worker_sid == made[1].sid


def test_a_worker_made_available_in_the_same_transaction_is_offered_the_arriving_task(
    taskrouter_sandbox_in_process: InProcessSandbox,
) -> None:
    """The index follows commits only; the workers a transaction wrote are candidates too."""
    app = taskrouter_sandbox_in_process.app
    engine, store, now = app.core.engine, app.store, app.core.now()
    ws, idle, _offline, made = _workspace_with_workers(taskrouter_sandbox_in_process, 3)
    with store.transaction() as tx:
        workers.update_worker(engine, tx, made[2], now, activity_sid=idle.sid)
        task = tasks.create_task(engine, tx, ws, now, attributes="{}")
        assert task.assignment_status == "reserved"
    (reservation,) = store.group(Reservation, "task_sid", task.sid).values()
    assert reservation.worker_sid == made[2].sid
