"""Every diagnosis the README's troubleshooting section promises, through the real sandbox.

``wait_for_task`` gives up with a reason: Alice still Offline, no assignment callback URL,
the callback server refused the callback with 403, or the last callback's debugger code
(40000, 40001, 40005, 55555, 11200, 11205). Each case is produced for real: the kit's
callback server or a real Flask receiver answers the sandbox's signed callback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twilio.rest import Client

import helpers
from helpers.config import Settings
from helpers.control import reset_sandbox, sandbox_callbacks
from helpers.quickstart import Quickstart, ensure_quickstart
from helpers.waiting import DEBUGGER, WaitTimeout, diagnose, wait_for_task
from taskrouter_sandbox import process
from tests.support.receiver import Receiver
from tests.support.sandbox import free_port
from tests.support.scenario import eventually


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The kit's own managed sandbox (diagnose reads its debugger log), one per module."""
    settings = Settings(sandbox_dir=tmp_path_factory.mktemp("kit"), sandbox_port=free_port())
    yield settings
    process.stop(settings.sandbox_dir)


@pytest.fixture
def kit(settings: Settings) -> tuple[Client, Quickstart]:
    client = helpers.connect(settings)
    reset_sandbox(settings)
    qs = ensure_quickstart(client)
    client.taskrouter.v1.workspaces(qs.workspace_sid).workflows(qs.workflow_sid).update(
        assignment_callback_url=""
    )
    return client, qs


@pytest.fixture
def receiver(settings: Settings, kit: Any) -> Iterator[Receiver]:
    server = Receiver(process.credentials(settings.sandbox_dir).auth_token)
    yield server
    server.close()


def spanish_task(client: Client, qs: Quickstart) -> str:
    ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
    return str(ws.tasks.create(attributes='{"selected_language": "es"}',
                               workflow_sid=qs.workflow_sid).sid)  # fmt: skip


def alice_idle(client: Client, qs: Quickstart) -> None:
    ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
    ws.workers(qs.workers["Alice"]).update(activity_sid=qs.activities["Idle"])


def point_at(client: Client, qs: Quickstart, url: str) -> None:
    ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
    ws.workflows(qs.workflow_sid).update(assignment_callback_url=url)


def gave_up(client: Client, qs: Quickstart, task: str, settings: Settings, **kw: Any) -> str:
    """What the learner reads when ``wait_for_task`` gives up."""
    with pytest.raises(WaitTimeout) as info:
        wait_for_task(client, qs, task, timeout=0.2, settings=settings, **kw)
    return str(info.value)


def judged(qs: Quickstart, settings: Settings) -> list[dict]:
    """The sandbox's debugger entries once the callback was judged."""
    return eventually(
        lambda: [e for e in sandbox_callbacks(qs.workspace_sid, settings) if e.get("code")],
        bool,
        timeout=10,
    )


def test_alice_still_offline(kit: Any, settings: Settings) -> None:
    client, qs = kit
    task = spanish_task(client, qs)
    message = gave_up(client, qs, task, settings)
    assert "no worker is available" in message and "Alice is Offline" in message
    assert "flip Alice to Idle" in message


def test_no_assignment_callback_url(kit: Any, settings: Settings) -> None:
    client, qs = kit
    task = spanish_task(client, qs)
    alice_idle(client, qs)
    message = gave_up(client, qs, task, settings)
    assert "no assignment callback URL" in message and "still pending" in message


def test_callback_refused_with_403(kit: Any, settings: Settings) -> None:
    client, qs = kit
    with helpers.CallbackServer(port=0, auth_token="not-the-sandbox-token") as server:
        point_at(client, qs, server.assignment_url)
        task = spanish_task(client, qs)
        alice_idle(client, qs)
        refused = eventually(lambda: list(server.refused), bool, timeout=10)
        assert refused[0].params["TaskSid"] == task and list(server.requests) == []
        assert judged(qs, settings)[-1]["code"] == 11200

        message = gave_up(client, qs, task, settings, server=server)
        assert "refused this task's callback with 403" in message
        assert "wrong auth token" in message
        without_server = diagnose(client, qs, task, settings=settings)
        assert "11200" in without_server and "403" in without_server  # from the debugger

        other = spanish_task(client, qs)  # a refusal about another task says nothing here
        assert "refused this task's callback" not in diagnose(client, qs, other, server, settings)


ANSWERS = {
    40000: {"body": {"instruction": "accept"}, "content_type": "text/plain"},
    40001: {"body": "{not json", "content_type": "application/json"},
    40005: {"body": {}},
    55555: {"body": {"instruction": "teleport"}},
    11200: {"body": {"error": "boom"}, "status": 500},
}


@pytest.mark.parametrize("code", sorted(ANSWERS))
def test_debugger_code_of_the_last_callback(
    kit: Any, settings: Settings, receiver: Receiver, code: int
) -> None:
    client, qs = kit
    receiver.answer("/assignment", **ANSWERS[code])
    point_at(client, qs, receiver.url("/assignment"))
    task = spanish_task(client, qs)
    alice_idle(client, qs)
    receiver.wait_for("/assignment")
    assert judged(qs, settings)[-1]["code"] == code

    message = gave_up(client, qs, task, settings)
    assert f"debugger code {code}: {DEBUGGER[code]}" in message


def test_debugger_code_11205_when_the_server_cannot_be_reached(
    kit: Any, settings: Settings
) -> None:
    client, qs = kit
    point_at(client, qs, f"http://127.0.0.1:{free_port()}/assignment_callback")  # nobody there
    task = spanish_task(client, qs)
    alice_idle(client, qs)
    assert judged(qs, settings)[-1]["code"] == 11205

    message = gave_up(client, qs, task, settings)
    assert f"debugger code 11205: {DEBUGGER[11205]}" in message


def test_the_readme_lists_every_diagnosis_tested_here() -> None:
    readme = (Path(helpers.__file__).parents[1] / "README.md").read_text()
    section = readme[readme.index("## Troubleshooting") :]
    for code in DEBUGGER:
        assert str(code) in section
    assert sorted(DEBUGGER) == [11200, 11205, 40000, 40001, 40005, 55555]  # each tested above
