"""Per-workspace callback threads end with their workspace (issue 13): a workshop day of
workspaces created, used, deleted and reset must not grow the sandbox's threads.

Counts the real sandbox process's threads (``/proc/<pid>/task``) across many cycles, each
with assignment callbacks (the per-workspace pool) and event callbacks (the per-workspace lane)
delivered to a real Flask app through the real SDK.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator

import pytest
from twilio.rest import Client

from tests.support.receiver import Receiver
from tests.support.sandbox import SandboxProcess
from tests.support.scenario import eventually

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
CYCLES = 12


@pytest.fixture
def receiver(sandbox: SandboxProcess) -> Iterator[Receiver]:
    app = Receiver(sandbox.auth_token)
    app.answer(body={"instruction": "accept"})
    yield app
    app.close()


def threads(sandbox: SandboxProcess) -> int:
    assert sandbox.process is not None
    return len(os.listdir(f"/proc/{sandbox.process.pid}/task"))


def busy_workspace(client: Client, receiver: Receiver) -> str:
    """A workspace whose task was routed: an assignment callback and event callbacks went out."""
    ws = client.taskrouter.v1.workspaces.create(
        friendly_name="Cycle", template="FIFO", event_callback_url=receiver.url("/events")
    )
    context = client.taskrouter.v1.workspaces(ws.sid)
    flow = context.workflows.list()[0]
    context.workflows(flow.sid).update(assignment_callback_url=receiver.url("/assignment"))
    available = next(a.sid for a in context.activities.list() if a.friendly_name == "Available")
    context.workers.create(friendly_name="Ann", activity_sid=available)
    task = context.tasks.create(attributes=json.dumps({"n": 1}), workflow_sid=flow.sid)
    eventually(lambda: context.tasks(task.sid).fetch(), lambda t: t.assignment_status == "assigned")
    eventually(
        lambda: receiver.requests("/events"),
        lambda got: any(r.form.get("TaskSid") == task.sid for r in got),
    )
    return ws.sid


def test_threads_do_not_grow_across_create_delete_reset_cycles(
    client: Client, receiver: Receiver, sandbox: SandboxProcess
) -> None:
    for _ in range(2):  # warm up: the server's connection threads, the timer thread
        client.taskrouter.v1.workspaces(busy_workspace(client, receiver)).delete()
    baseline = eventually(lambda: threads(sandbox), lambda n: n > 0)
    for cycle in range(CYCLES):
        sid = busy_workspace(client, receiver)
        if cycle % 2:
            sandbox.reset()
        else:
            client.taskrouter.v1.workspaces(sid).delete()
    # Each cycle used to leave its event lane and at least one pool thread behind (+24 here).
    settled = eventually(lambda: threads(sandbox), lambda n: n <= baseline + 3, timeout=15)
    assert settled <= baseline + 3
