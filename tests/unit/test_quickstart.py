"""ensure_quickstart builds the quickstart's workspace once and repairs drift on re-runs."""

from __future__ import annotations

import json

from twilio.rest import Client

from helpers.quickstart import ensure_quickstart


def test_builds_the_quickstart_workspace(client: Client) -> None:
    qs = ensure_quickstart(client)
    ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
    assert ws.fetch().multi_task_enabled is False
    assert set(qs.activities) >= {"Offline", "Idle", "Busy", "Reserved", "WrapUp"}
    alice = ws.workers(qs.workers["Alice"]).fetch()
    assert json.loads(alice.attributes)["languages"] == ["en", "es"]
    assert alice.activity_name == "Offline"
    spanish = ws.task_queues(qs.queues["Spanish"]).fetch()
    assert spanish.target_workers == 'languages HAS "es"'
    assert spanish.reservation_activity_name == "Reserved"
    assert spanish.assignment_activity_name == "Busy"
    flow = ws.workflows(qs.workflow_sid).fetch()
    assert flow.friendly_name == "Incoming Customer Care Requests"
    task = ws.tasks.create(attributes='{"selected_language": "es"}', workflow_sid=qs.workflow_sid)
    assert task.task_queue_sid == qs.queues["Spanish"]


def test_rerun_is_idempotent_and_repairs(client: Client) -> None:
    first = ensure_quickstart(client)
    ws = client.taskrouter.v1.workspaces(first.workspace_sid)
    ws.task_queues(first.queues["English"]).update(target_workers="1==1")
    ws.workers(first.workers["Bob"]).update(attributes="{}")
    again = ensure_quickstart(client)
    assert again == first
    assert len(client.taskrouter.v1.workspaces.list()) == 1
    assert len(ws.workers.list()) == 2 and len(ws.task_queues.list()) == 2
    assert ws.task_queues(first.queues["English"]).fetch().target_workers == 'languages HAS "en"'
    assert json.loads(ws.workers(first.workers["Bob"]).fetch().attributes) == {"languages": ["en"]}
