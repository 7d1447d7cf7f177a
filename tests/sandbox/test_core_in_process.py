"""The domain core without HTTP: the same behaviour the REST resources reach, called in process
on a sandbox's own store (what an extension or an in-process test does)."""

from __future__ import annotations

import json

from taskrouter_sandbox.api_errors import BadRequest
from taskrouter_sandbox.core import tasks, workers, workspaces
from taskrouter_sandbox.models import Activity, Reservation, Task, TaskQueue, Worker
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
