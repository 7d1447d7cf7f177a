"""Input errors look like Twilio's: envelope, HTTP status and code, through the real SDK."""

from __future__ import annotations

import json

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from tests.support.sandbox import SandboxProcess

BAD_FILTER = (
    '{"task_routing": {"filters": [{"expression": "a ==", "targets": [{"queue": "QUEUE"}]}]}}'
)
QUEUE_CONFIG = '{"task_routing": {"filters": [], "default_filter": {"queue": "%s"}}}'


def raises(code: int, status: int, call, *args, **kwargs) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as info:
        call(*args, **kwargs)
    assert (info.value.code, info.value.status) == (code, status), info.value.msg
    return info.value


def list_raises(code: int, call, *args, **kwargs) -> None:
    """A list page that is not 200 makes the SDK raise a plain TwilioException."""
    with pytest.raises(TwilioException) as info:
        call(*args, **kwargs)
    assert f'"code": {code}' in str(info.value)


def test_error_envelope_is_twilios(sandbox: SandboxProcess) -> None:
    response = requests.get(
        f"{sandbox.url}/v1/Workspaces/WS{'0' * 32}", auth=(sandbox.account_sid, sandbox.auth_token)
    )
    body = response.json()
    assert response.status_code == 404
    assert set(body) == {"code", "message", "more_info", "status"}
    assert body["code"] == 20404 and body["status"] == 404
    assert body["more_info"] == "https://www.twilio.com/docs/errors/20404"
    assert response.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("auth", [None, ("AC" + "0" * 32, "nope"), ("not-a-sid", "x")])
def test_missing_or_wrong_auth_is_401_20003(sandbox: SandboxProcess, auth) -> None:
    for method, path in [
        ("GET", "/v1/Workspaces"),
        ("POST", "/_sandbox/reset"),
        ("GET", "/_sandbox/callbacks"),
        ("POST", "/_sandbox/clock"),
    ]:
        response = requests.request(method, sandbox.url + path, auth=auth)
        assert response.status_code == 401, path
        assert response.json()["code"] == 20003


def test_wrong_token_through_the_sdk(sandbox: SandboxProcess) -> None:
    bad = SandboxProcess(
        data_dir=sandbox.data_dir,
        port=sandbox.port,
        account_sid=sandbox.account_sid,
        auth_token="wrong",
    ).client()
    raises(20003, 401, bad.taskrouter.v1.workspaces.create, friendly_name="x")


def test_health_needs_no_auth(sandbox: SandboxProcess) -> None:
    assert requests.get(sandbox.url + "/_sandbox/health").json() == {"status": "ok"}


def test_unknown_sid_and_path_are_404_20404(client: Client, workspace) -> None:
    raises(20404, 404, client.taskrouter.v1.workspaces("WS" + "0" * 32).fetch)
    raises(20404, 404, workspace.workers("WK" + "0" * 32).fetch)
    raises(20404, 404, workspace.tasks("WT" + "0" * 32).update, priority=1)
    raises(20404, 404, workspace.activities("not-a-sid").delete)


def test_unknown_path_is_404(sandbox: SandboxProcess) -> None:
    response = requests.get(
        sandbox.url + "/v1/Nope", auth=(sandbox.account_sid, sandbox.auth_token)
    )
    assert response.status_code == 404 and response.json()["code"] == 20404


def test_missing_required_parameter(client: Client, workspace) -> None:
    error = raises(20001, 400, workspace.workflows.create, friendly_name="x", configuration=None)
    assert "Configuration" in error.msg
    error = raises(20001, 400, workspace.task_channels.create, friendly_name="x", unique_name=None)
    assert "UniqueName" in error.msg


def test_name_over_64_chars(client: Client, workspace) -> None:
    raises(20001, 400, client.taskrouter.v1.workspaces.create, friendly_name="x" * 65)
    raises(20001, 400, workspace.workers.create, friendly_name="y" * 65)
    workspace.workers.create(friendly_name="z" * 64)


@pytest.mark.parametrize("attributes", ["[1, 2]", '"text"', "{not json", "4", "x" * 10])
def test_attributes_must_be_a_json_object(workspace, attributes: str) -> None:
    raises(20001, 400, workspace.workers.create, friendly_name="Ann", attributes=attributes)
    raises(20001, 400, workspace.tasks.create, attributes=attributes)


def test_attributes_over_4096_chars(workspace) -> None:
    big = json.dumps({"blob": "x" * 4090})
    assert len(big) > 4096
    error = raises(20001, 400, workspace.tasks.create, attributes=big)
    assert "4096" in error.msg
    workspace.tasks.create(attributes=json.dumps({"blob": "x" * (4096 - 12)}))


def test_duplicate_worker_name_case_insensitive(workspace) -> None:
    workspace.workers.create(friendly_name="Alice")
    raises(20001, 400, workspace.workers.create, friendly_name="alice")
    bob = workspace.workers.create(friendly_name="Bob")
    raises(20001, 400, workspace.workers(bob.sid).update, friendly_name="ALICE")


@pytest.mark.parametrize("expression", ["languages HAS", "skill-level > 3", "(a == 1", "a === 1"])
def test_invalid_expression(workspace, expression: str) -> None:
    error = raises(
        20001, 400, workspace.task_queues.create, friendly_name="Q", target_workers=expression
    )
    assert "position" in error.msg
    list_raises(20001, workspace.workers.list, target_workers_expression=expression)


def test_workflow_configuration_errors(workspace) -> None:
    queue = workspace.task_queues.create(friendly_name="Q")
    for configuration, words in [
        ("{not json", "not valid JSON"),
        ('{"filters": []}', "task_routing"),
        (QUEUE_CONFIG % ("WQ" + "0" * 32), "not in this workspace"),
        (
            BAD_FILTER.replace("QUEUE", queue.sid),
            "expression",
        ),
        (
            '{"task_routing": {"filters": [{"expression": "1==1", "targets": [{"priority": 1}]}]}}',
            "queue",
        ),
    ]:
        error = raises(
            20001, 400, workspace.workflows.create, friendly_name="F", configuration=configuration
        )
        assert words in error.msg, error.msg
    workspace.workflows.create(friendly_name="F", configuration=QUEUE_CONFIG % queue.sid)


def test_activity_from_another_workspace(client: Client, workspace) -> None:
    other = client.taskrouter.v1.workspaces.create(friendly_name="Other")
    foreign = other.default_activity_sid
    raises(20001, 400, workspace.workers.create, friendly_name="A", activity_sid=foreign)
    raises(20001, 400, workspace.update, default_activity_sid=foreign)
    raises(
        20001,
        400,
        workspace.task_queues.create,
        friendly_name="Q",
        reservation_activity_sid=foreign,
    )


def test_bad_enum_values(client: Client, workspace) -> None:
    raises(20001, 400, workspace.task_queues.create, friendly_name="Q", task_order="RANDOM")
    raises(
        20001,
        400,
        client.taskrouter.v1.workspaces.create,
        friendly_name="W",
        prioritize_queue_order="SIDEWAYS",
    )
    list_raises(20001, workspace.tasks.list, assignment_status=["bogus"])
    task = workspace.tasks.create(attributes="{}")
    raises(20001, 400, workspace.tasks(task.sid).update, assignment_status="bogus")


def test_bad_integers_and_booleans(workspace) -> None:
    raises(20001, 400, workspace.tasks.create, priority=-1)
    raises(20001, 400, workspace.task_queues.create, friendly_name="Q", max_reserved_workers=51)
    raises(20001, 400, workspace.activities.create, friendly_name="A", available="maybe")


def test_failed_request_writes_nothing(client: Client, workspace) -> None:
    """A create that fails validation half-way leaves no worker, no channel, no event behind."""
    workers_before = len(workspace.workers.list())
    events_before = len(workspace.events.list())
    other = client.taskrouter.v1.workspaces.create(friendly_name="Other")
    raises(
        20001,
        400,
        workspace.workers.create,
        friendly_name="Ghost",
        activity_sid=other.default_activity_sid,
    )
    assert len(workspace.workers.list()) == workers_before
    assert len(workspace.events.list()) == events_before


def test_illegal_task_transitions(workspace) -> None:
    task = workspace.tasks.create(attributes="{}")
    error = raises(
        20001, 400, workspace.tasks(task.sid).update, assignment_status="completed", reason="done"
    )
    assert "only from" in error.msg
    raises(20001, 400, workspace.tasks(task.sid).update, assignment_status="assigned")
    raises(20001, 400, workspace.tasks(task.sid).update, assignment_status="canceled")
    workspace.tasks(task.sid).update(assignment_status="canceled", reason="not needed")
    raises(20001, 400, workspace.tasks(task.sid).update, assignment_status="canceled", reason="x")


def test_if_match_mismatch_is_412(workspace) -> None:
    task = workspace.tasks.create(attributes="{}")
    fetched = workspace.tasks(task.sid).fetch_with_http_info()
    etag = fetched.headers["ETag"]
    workspace.tasks(task.sid).update(priority=5, if_match=etag)
    raises(20412, 412, workspace.tasks(task.sid).update, priority=6, if_match=etag)
    assert workspace.tasks(task.sid).fetch().priority == 5


def test_non_utf8_form_body_is_400(sandbox: SandboxProcess, workspace) -> None:
    response = requests.post(
        f"{sandbox.url}/v1/Workspaces/{workspace._solution['sid']}/Workers",
        data=b"FriendlyName=%ff%fe",
        auth=(sandbox.account_sid, sandbox.auth_token),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400 and response.json()["code"] == 20001
