"""The real-time task figures kept on commit (``task_tally.py``) against a full recount.

A randomised history is driven through the real twilio SDK against an in-process sandbox:
tasks created in two workflows and queues with random priorities and channels, workers going
available and away, reservations accepted, rejected and left to time out, tasks re-prioritised,
wrapped, completed, canceled and deleted, the clock moved. After every step each scope's figures
from the tally must equal those counted from the records the way statistics did before the
tally (one pass over every task), and so must a tally counted again from scratch.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from taskrouter_sandbox.models import Task
from taskrouter_sandbox.resources.statistics import _task_realtime
from taskrouter_sandbox.task_tally import TaskTally
from taskrouter_sandbox.testing import InProcessSandbox

STEPS = 70


def recount(app: Any, scope: tuple[str, str, str], now: float) -> dict[str, Any]:
    ws, kind, sid = scope
    tasks = list(app.store.group(Task, "workspace_sid", ws).values())
    if kind == "queue":
        tasks = [t for t in tasks if t.task_queue_sid == sid]
    elif kind == "workflow":
        tasks = [t for t in tasks if t.workflow_sid == sid]
    return _task_realtime(tasks, now, relative=kind == "queue")


def check(app: Any, scopes: list[tuple[str, str, str]]) -> None:
    now = app.clock.now()
    fresh = TaskTally(app.store)
    for scope in scopes:
        expected = recount(app, scope, now)
        relative = scope[1] == "queue"
        assert app.task_tally.figures(scope, now, relative) == expected, scope
        assert fresh.figures(scope, now, relative) == expected, scope


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tally_equals_a_recount_over_a_random_history(seed: int) -> None:
    rng = random.Random(seed)
    with InProcessSandbox.running(timers=False) as sandbox:
        app = sandbox.app
        tr = sandbox.client().taskrouter.v1
        ws_sid = tr.workspaces.create(friendly_name="Tally", multi_task_enabled=True).sid
        ws = tr.workspaces(ws_sid)
        idle = ws.activities.create(friendly_name="Idle", available=True).sid
        away = ws.activities.create(friendly_name="Away", available=False).sid
        queues = [
            ws.task_queues.create(friendly_name=f"Q{n}", target_workers=f"skill == {n}").sid
            for n in range(2)
        ]
        flows = []
        for n, queue in enumerate(queues):
            config = {"task_routing": {"filters": [], "default_filter": {"queue": queue}}}
            flows.append(
                ws.workflows.create(
                    friendly_name=f"F{n}",
                    configuration=json.dumps(config),
                    task_reservation_timeout=30,
                ).sid
            )
        workers = [
            ws.workers.create(friendly_name=f"W{n}", attributes=json.dumps({"skill": n % 2})).sid
            for n in range(3)
        ]
        scopes = [(ws_sid, "workspace", ws_sid)]
        scopes += [(ws_sid, "queue", q) for q in queues]
        scopes += [(ws_sid, "workflow", f) for f in flows]
        tasks: list[str] = []

        def some(status: str) -> str | None:
            found = [s for s in tasks if (t := app.store.get(s, Task)) and
                     t.assignment_status == status]  # fmt: skip
            return rng.choice(found) if found else None

        for _step in range(STEPS):
            action = rng.choice(
                ["create", "create", "create", "flip", "accept", "reject", "priority",
                 "wrap", "complete", "cancel", "delete", "advance"]
            )  # fmt: skip
            if action == "create":
                channel = rng.choice([None, "default", "voice"])
                extra = {"task_channel": channel} if channel else {}
                tasks.append(
                    ws.tasks.create(
                        workflow_sid=rng.choice(flows),
                        attributes="{}",
                        priority=rng.randint(0, 3),
                        **extra,
                    ).sid
                )
            elif action == "flip":
                ws.workers(rng.choice(workers)).update(activity_sid=rng.choice([idle, away]))
            elif action in ("accept", "reject") and (sid := some("reserved")):
                for reservation in ws.tasks(sid).reservations.list():
                    if reservation.reservation_status == "pending":
                        status = "accepted" if action == "accept" else "rejected"
                        ws.tasks(sid).reservations(reservation.sid).update(
                            reservation_status=status
                        )
                        break
            elif action == "priority" and (sid := some(rng.choice(["pending", "reserved"]))):
                ws.tasks(sid).update(priority=rng.randint(0, 3))
            elif action == "wrap" and (sid := some("assigned")):
                ws.tasks(sid).update(assignment_status="wrapping")
            elif action == "complete" and (sid := some(rng.choice(["assigned", "wrapping"]))):
                ws.tasks(sid).update(assignment_status="completed", reason="done")
            elif action == "cancel" and (sid := some(rng.choice(["pending", "reserved"]))):
                ws.tasks(sid).update(assignment_status="canceled", reason="hung up")
            elif action == "delete" and tasks:
                sid = tasks.pop(rng.randrange(len(tasks)))
                if app.store.get(sid, Task) is not None:
                    ws.tasks(sid).delete()
            elif action == "advance":
                sandbox.advance(rng.choice([1, 5, 31, 400]))  # timeouts, purges
            check(app, scopes)
        ws.delete()  # every scope emptied at once
        check(app, scopes)
        assert app.task_tally.figures(scopes[0], app.clock.now())["total_tasks"] == 0


def test_reset_counts_again() -> None:
    with InProcessSandbox.running(timers=False) as sandbox:
        tr = sandbox.client().taskrouter.v1
        ws_sid = tr.workspaces.create(friendly_name="Tally", template="FIFO").sid
        tr.workspaces(ws_sid).tasks.create(attributes="{}")
        scope = (ws_sid, "workspace", ws_sid)
        now = sandbox.app.clock.now()
        assert sandbox.app.task_tally.figures(scope, now)["total_tasks"] == 1
        sandbox.reset()
        assert sandbox.app.task_tally.figures(scope, now)["total_tasks"] == 0


def test_tally_over_a_workspace_of_many_chunks() -> None:
    """Past 512 tasks a workspace's bucket is chunked (``buckets.py``): the previous version
    of a task is found in its chunk by creation order. Changes across every chunk, then a
    recount."""
    from taskrouter_sandbox.app import Sandbox, SandboxConfig
    from taskrouter_sandbox.buckets import CHUNK, Bucket
    from taskrouter_sandbox.router import Request

    account = "AC" + "1" * 32
    app = Sandbox(SandboxConfig(account_sid=account, auth_token="t" * 32))
    rng = random.Random(7)
    try:

        def call(method: str, path: str, **form: str) -> Any:
            request = Request(method, path, {}, {k: [v] for k, v in form.items()}, {}, account)
            response = app.handle(request)
            assert response.status < 300, response.body
            return response.body

        ws = call("POST", "/v1/Workspaces", FriendlyName="Big", Template="FIFO")["sid"]
        sids = [
            call("POST", f"/v1/Workspaces/{ws}/Tasks", Priority=str(n % 4))["sid"]
            for n in range(3 * CHUNK)
        ]
        assert isinstance(app.store.group(Task, "workspace_sid", ws), Bucket)
        queue = next(iter(app.store.group(Task, "workspace_sid", ws).values())).task_queue_sid
        scopes = [(ws, "workspace", ws), (ws, "queue", queue or "")]
        for sid in rng.sample(sids, 300):
            change = rng.choice(["priority", "cancel", "delete"])
            path = f"/v1/Workspaces/{ws}/Tasks/{sid}"
            if change == "priority":
                call("POST", path, Priority=str(rng.randint(0, 9)))
            elif change == "cancel":
                call("POST", path, AssignmentStatus="canceled", Reason="gone")
            else:
                call("DELETE", path)
            if rng.random() < 0.05:
                check(app, scopes)
        oldest = next(s for s in sids if (t := app.store.get(s, Task)) and
                      t.assignment_status == "pending")  # fmt: skip
        call("POST", f"/v1/Workspaces/{ws}/Tasks/{oldest}", AssignmentStatus="canceled",
             Reason="the oldest waiting task goes")  # fmt: skip
        check(app, scopes)
    finally:
        app.close()
