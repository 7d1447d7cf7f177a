"""Deleting a task or a workspace removes what belongs to it (issue 19, defect 9): the simulated
calls that voice instructions made (phone numbers included) no longer outlive them in
``GET /_sandbox/calls``, nor can they be ended afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from twilio.rest import Client

from taskrouter_sandbox.control_client import ControlError
from tests.support.sandbox import SandboxProcess
from tests.support.scenario import Quickstart, build_quickstart


def dequeued_call(qs: Quickstart, language: str = "es") -> tuple[Any, dict[str, Any]]:
    """A task from a call, dequeued to Alice over REST: one simulated call."""
    task = qs.create_task(selected_language=language, call_sid="CA" + "5" * 32)
    qs.set_activity("Alice", "Idle")
    (reservation,) = qs.reservations(task.sid)
    qs.ws.tasks(task.sid).reservations(reservation.sid).update(
        instruction="dequeue", dequeue_from="+15556667777"
    )
    return task, reservation


def calls(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    return list(sandbox.control("GET", "/_sandbox/calls")["calls"])


def test_deleting_a_task_deletes_its_simulated_calls(
    client: Client, sandbox: SandboxProcess
) -> None:
    qs = build_quickstart(client)
    task, _ = dequeued_call(qs)
    (call,) = calls(sandbox)
    assert call["task_sid"] == task.sid and call["to"] == "+15555555555"
    qs.ws.tasks(task.sid).update(assignment_status="completed", reason="done")
    assert qs.ws.tasks(task.sid).delete() is True
    assert calls(sandbox) == []
    with pytest.raises(ControlError) as info:
        sandbox.control("POST", f"/_sandbox/calls/{call['sid']}", {"Status": "completed"})
    assert info.value.status == 404


def test_deleting_a_workspace_deletes_its_simulated_calls(
    client: Client, sandbox: SandboxProcess
) -> None:
    qs = build_quickstart(client)
    dequeued_call(qs)
    other = client.taskrouter.v1.workspaces.create(friendly_name="Kept", template="FIFO")
    assert len(calls(sandbox)) == 1
    assert qs.ws.delete() is True
    assert calls(sandbox) == []
    assert client.taskrouter.v1.workspaces(other.sid).fetch().friendly_name == "Kept"
