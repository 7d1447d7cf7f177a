"""The event bridge at the wire: every message and request twilio-taskrouter 2.1.1 uses.

See docs/event-bridge.md for where in the SDK each one is read.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

from .conftest import Bridge

WORKSPACE = "Workspaces/{ws}"
WORKER = "Workspaces/{ws}/Workers/{wk}"


def _paths(qs: Any, name: str = "Alice") -> dict[str, str]:
    return {"ws": qs.workspace_sid, "wk": qs.workers[name]}


def _upgrade(bridge: Bridge, token: str) -> int:
    """The status of a WebSocket handshake, read raw (a refusal comes before the upgrade)."""
    parts = urlsplit(bridge.ws_server)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.request("GET", f"{parts.path}?token={token}&closeExistingSessions=false",
                 headers={"Upgrade": "websocket", "Connection": "Upgrade",
                          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                          "Sec-WebSocket-Version": "13"})  # fmt: skip
    status = conn.getresponse().status
    conn.close()
    return status


def _task(client: Any, qs: Any, language: str = "es") -> str:
    flow = client.taskrouter.v1.workspaces(qs.workspace_sid)
    attributes = json.dumps({"selected_language": language})
    return str(flow.tasks.create(workflow_sid=qs.workflow_sid, attributes=attributes).sid)


def _set_activity(client: Any, qs: Any, name: str, activity: str) -> None:
    workers = client.taskrouter.v1.workspaces(qs.workspace_sid).workers
    workers(qs.workers[name]).update(activity_sid=qs.activities[activity])


def test_init_names_the_worker_and_the_token_lifetime(bridge, qs, open_stream):
    stream = open_stream(bridge.token(qs, ttl=600))
    init = stream.next()
    assert init["event_type"] == "init"
    payload = init["payload"]
    assert payload["channel_id"] == qs.workers["Alice"]
    assert payload["workspace_sid"] == qs.workspace_sid
    assert payload["account_sid"] == bridge.sandbox.account_sid
    assert 590_000 <= payload["token_lifetime"] <= 600_000


def test_worker_fetch_and_activity_update_through_the_http_endpoint(bridge, qs, client):
    token = bridge.token(qs)
    status, body = bridge.call(token, WORKER.format(**_paths(qs)))
    assert status == 200
    worker = body["payload"]
    for field in ("account_sid", "activity_name", "activity_sid", "attributes", "available",
                  "date_created", "date_status_changed", "date_updated", "friendly_name",
                  "sid", "workspace_sid", "version"):  # fmt: skip  # Worker.WorkerProperties
        assert field in worker, field
    assert worker["activity_name"] == "Offline" and isinstance(worker["date_created"], int)
    status, body = bridge.call(token, WORKER.format(**_paths(qs)), "POST",
                               {"ActivitySid": qs.activities["Idle"]})  # fmt: skip
    assert status == 200 and body["payload"]["activity_name"] == "Idle"
    fetched = client.taskrouter.v1.workspaces(qs.workspace_sid).workers(qs.workers["Alice"])
    assert fetched.fetch().activity_name == "Idle"


def test_lists_of_activities_channels_and_reservations(bridge, qs, client):
    token, paths = bridge.token(qs), _paths(qs)
    status, body = bridge.call(token, WORKSPACE.format(**paths) + "/Activities",
                               params={"PageSize": 1000})  # fmt: skip
    assert status == 200 and body["payload"]["after_sid"] is None
    names = {a["friendly_name"] for a in body["payload"]["contents"]}
    assert names >= {"Offline", "Idle", "Busy", "Reserved", "WrapUp"}
    status, body = bridge.call(token, WORKER.format(**paths) + "/WorkerChannels")
    channels = body["payload"]["contents"]
    assert status == 200 and {c["task_channel_unique_name"] for c in channels} >= {"default"}
    assert all("configured_capacity" in c and "last_reserved_time" in c for c in channels)
    _set_activity(client, qs, "Alice", "Idle")
    task_sid = _task(client, qs)
    status, body = bridge.call(token, WORKER.format(**paths) + "/Reservations", "GET",
                               {"Active": "true", "PageSize": 1000}, api_version="v2")  # fmt: skip
    [reservation] = body["payload"]["contents"]
    assert reservation["reservation_status"] == "pending"
    assert reservation["task"]["sid"] == task_sid
    for field in (
        "addons",
        "age",
        "attributes",
        "queue_name",
        "queue_sid",
        "assignment_status",
        "task_channel_unique_name",
        "workflow_name",
        "version",
        "virtual_start_time",
    ):
        assert field in reservation["task"], field  # fmt: skip  # Task.TaskProperties


def test_events_arrive_in_order_for_a_reservation_accepted_from_the_page(
    bridge, qs, client, open_stream
):
    token, paths = bridge.token(qs), _paths(qs)
    stream = open_stream(token)
    assert stream.next()["event_type"] == "init"
    _set_activity(client, qs, "Alice", "Idle")
    assert stream.next("worker.activity.update")["payload"]["activity_name"] == "Idle"
    task_sid = _task(client, qs)
    created = stream.next("reservation.created")["payload"]
    assert created["task"]["sid"] == task_sid and created["reservation_status"] == "pending"
    assert created["reservation_timeout"] > 0
    status, body = bridge.call(
        token, WORKER.format(**paths) + f"/Reservations/{created['sid']}", "POST",
        {"ReservationStatus": "accepted"},
    )  # fmt: skip
    assert status == 200 and body["payload"]["reservation_status"] == "accepted"
    accepted = stream.next("reservation.accepted")["payload"]
    assert accepted["task"]["assignment_status"] == "assigned"
    task = client.taskrouter.v1.workspaces(qs.workspace_sid).tasks(task_sid).fetch()
    assert task.assignment_status == "assigned"
    # completing the task from the page: task.completed, then reservation.completed
    status, body = bridge.call(token, WORKSPACE.format(**paths) + f"/Tasks/{task_sid}", "POST",
                               {"AssignmentStatus": "completed", "Reason": "done"})  # fmt: skip
    assert status == 200 and body["payload"]["assignment_status"] == "completed"
    seen = []
    while not {"task.completed", "reservation.completed"} <= set(seen):
        seen.append(stream.next()["event_type"])


def test_reject_and_timeout_and_rescind_reach_the_worker(bridge, qs, client, open_stream):
    token, paths = bridge.token(qs), _paths(qs)
    alice = open_stream(token)
    bob = open_stream(bridge.token(qs, "Bob"))
    _set_activity(client, qs, "Alice", "Idle")
    _task(client, qs, "en")
    first = alice.next("reservation.created")["payload"]
    status, _ = bridge.call(token, WORKER.format(**paths) + f"/Reservations/{first['sid']}",
                            "POST", {"ReservationStatus": "rejected",
                                     "WorkerActivitySid": qs.activities["Offline"]})  # fmt: skip
    assert status == 200
    assert alice.next("reservation.rejected")["payload"]["sid"] == first["sid"]
    _set_activity(client, qs, "Bob", "Idle")
    assert bob.next("reservation.created")["payload"]["task"]["sid"] == first["task"]["sid"]
    # timeout: the sandbox clock passes the reservation timeout
    _set_activity(client, qs, "Alice", "Idle")
    second_task = _task(client, qs, "es")
    second = alice.next("reservation.created")["payload"]
    assert second["task"]["sid"] == second_task
    bridge.sandbox.advance(second["reservation_timeout"] + 1)
    assert alice.next("reservation.timeout")["payload"]["sid"] == second["sid"]
    # a task canceled while reserved: reservation.canceled
    _set_activity(client, qs, "Alice", "Idle")
    third = alice.next("reservation.created")["payload"]
    tasks = client.taskrouter.v1.workspaces(qs.workspace_sid).tasks
    tasks(third["task"]["sid"]).update(assignment_status="canceled", reason="caller hung up")
    assert alice.next("reservation.canceled")["payload"]["sid"] == third["sid"]


def test_expired_and_forged_tokens_are_refused(bridge, qs):
    good = bridge.token(qs)
    assert _upgrade(bridge, good) == 101
    bridge.sandbox.advance(7200)  # the sandbox clock does not age tokens: they live in real time
    assert _upgrade(bridge, good) == 101
    expired = bridge.token(qs, ttl=-60)  # made an hour ago with a 59-minute lifetime, as it were
    assert _upgrade(bridge, expired) == 401
    status, body = bridge.call(expired, WORKER.format(**_paths(qs)))
    assert status == 401 and "expired" in body["message"]
    forged = bridge.token(qs, secret="0" * 32)  # signed with a secret that is not the account's
    assert _upgrade(bridge, forged) == 403
    status, body = bridge.call(forged, WORKER.format(**_paths(qs)))
    assert status == 403 and "signature" in body["message"]
    assert _upgrade(bridge, "not-a-jwt") == 403
    header, _claims, signature = good.split(".")
    other = bridge.token(qs, "Bob").split(".")[1]
    assert _upgrade(bridge, f"{header}.{other}.{signature}") == 403  # claims swapped


def test_a_token_speaks_for_its_own_worker_only(bridge, qs):
    alice = bridge.token(qs)
    status, body = bridge.call(alice, WORKER.format(**_paths(qs, "Bob")), "POST",
                               {"ActivitySid": qs.activities["Idle"]})  # fmt: skip
    assert status == 403 and qs.workers["Alice"] in body["message"]
    status, body = bridge.call(alice, WORKSPACE.format(**_paths(qs)) + "/TaskQueues")
    assert status == 404 and "does not emulate" in body["message"]


def test_cors_preflight_allows_the_sdk_headers(bridge):
    parts = urlsplit(bridge.eb_server)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.request("OPTIONS", parts.path, headers={
        "Origin": "http://127.0.0.1:5000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "apiversion,clientversion,content-type"})  # fmt: skip
    response = conn.getresponse()
    assert response.status == 204
    assert response.getheader("Access-Control-Allow-Origin") == "*"
    allowed = response.getheader("Access-Control-Allow-Headers").lower()
    assert "apiversion" in allowed and "clientversion" in allowed


def test_a_dropped_connection_ends_and_a_new_one_starts_with_init(bridge, qs, open_stream):
    token = bridge.token(qs)
    first = open_stream(token)
    assert first.next()["event_type"] == "init"
    dropped = bridge.sandbox.control("POST", "/_sandbox/event-bridge/drop",
                                     {"WorkerSid": qs.workers["Alice"]})  # fmt: skip
    assert dropped == {"dropped": 1}
    assert first.closed.wait(5)
    second = open_stream(token)
    assert second.next()["event_type"] == "init"


def test_close_existing_sessions_ends_the_older_connection(bridge, qs, open_stream):
    token = bridge.token(qs)
    older = open_stream(token)
    older.next()
    newer = open_stream(token, closeExistingSessions="true")
    newer.next()
    assert older.closed.wait(5)


def test_worker_channel_task_wrapup_and_rescind_events(bridge, qs, client, open_stream):
    token, paths = bridge.token(qs), _paths(qs)
    alice = open_stream(token)
    alice.next("init")
    workspace = client.taskrouter.v1.workspaces(qs.workspace_sid)
    me = workspace.workers(qs.workers["Alice"])
    me.update(attributes=json.dumps({"languages": ["en", "es"], "team": "blue"}))
    updated = alice.next("worker.attributes.update")["payload"]
    assert json.loads(updated["attributes"])["team"] == "blue"
    channel = next(c for c in me.worker_channels.list() if c.task_channel_unique_name == "default")
    me.worker_channels(channel.sid).update(capacity=2)
    assert alice.next("worker.capacity.update")["payload"]["configured_capacity"] == 2
    me.worker_channels(channel.sid).update(available=False)
    assert alice.next("worker.channel.availability.update")["payload"]["available"] is False
    me.worker_channels(channel.sid).update(available=True, capacity=1)
    # a reservation on a task whose attributes change: task.updated reaches its holder
    _set_activity(client, qs, "Alice", "Idle")
    task_sid = _task(client, qs, "es")
    reservation = alice.next("reservation.created")["payload"]
    workspace.tasks(task_sid).update(attributes=json.dumps({"selected_language": "es", "vip": 1}))
    assert json.loads(alice.next("task.updated")["payload"]["attributes"])["vip"] == 1
    status, body = bridge.call(
        token, WORKER.format(**paths) + f"/Reservations/{reservation['sid']}"
    )
    assert status == 200 and body["payload"]["task"]["sid"] == task_sid
    status, body = bridge.call(token, WORKSPACE.format(**paths) + f"/Tasks/{task_sid}")
    assert status == 200 and body["payload"]["queue_name"].endswith("Spanish")
    bridge.call(token, WORKER.format(**paths) + f"/Reservations/{reservation['sid']}", "POST",
                {"ReservationStatus": "accepted"})  # fmt: skip
    status, _ = bridge.call(token, WORKSPACE.format(**paths) + f"/Tasks/{task_sid}", "POST",
                            {"AssignmentStatus": "wrapping", "Reason": "call ended"})  # fmt: skip
    assert status == 200
    types = []
    while not {"task.wrapup", "reservation.wrapup"} <= set(types):
        types.append(alice.next()["event_type"])
    workspace.tasks(task_sid).update(assignment_status="completed", reason="done")
    # two reservations for one task; Bob accepts, Alice's is rescinded
    english = workspace.task_queues(qs.queues["English"])
    english.update(max_reserved_workers=2)
    _set_activity(client, qs, "Alice", "Idle")
    _set_activity(client, qs, "Bob", "Idle")
    shared = _task(client, qs, "en")
    mine = alice.next("reservation.created")["payload"]
    assert mine["task"]["sid"] == shared
    held = workspace.tasks(shared).reservations.list(reservation_status="pending")
    bobs = next(r for r in held if r.worker_sid == qs.workers["Bob"])
    workspace.tasks(shared).reservations(bobs.sid).update(reservation_status="accepted")
    assert alice.next("reservation.rescinded")["payload"]["sid"] == mine["sid"]


def test_create_task_from_the_worker(bridge, qs):
    token, paths = bridge.token(qs), _paths(qs)
    status, body = bridge.call(token, WORKSPACE.format(**paths) + "/Tasks", "POST", {
        "WorkflowSid": qs.workflow_sid, "Attributes": {"selected_language": "en"}})  # fmt: skip
    assert status == 200 and body["payload"]["sid"].startswith("WT")
    assert json.loads(body["payload"]["attributes"]) == {"selected_language": "en"}


def test_an_idle_connection_gets_blank_heartbeats() -> None:
    from taskrouter_sandbox.event_bridge.hub import Connection
    from taskrouter_sandbox.event_bridge.tokens import WorkerGrant

    connection = Connection(WorkerGrant("AC", "WS", "WK", 0.0))
    sent: list[str] = []

    def send(message: str) -> None:
        sent.append(message)
        if len(sent) == 3:
            connection.close()

    connection.put("init", {"channel_id": "WK"})
    connection.pump(send, heartbeat=0.01, poll=0.002)
    assert json.loads(sent[0])["event_type"] == "init"
    assert sent[1:] == [" ", " "]  # the SDK's Heartbeat counts any message; blank ones only as that


def test_dequeue_from_the_page_connects_a_phone_task(bridge, qs, client, open_stream):
    token, paths = bridge.token(qs), _paths(qs)
    alice = open_stream(token)
    _set_activity(client, qs, "Alice", "Idle")
    attributes = {"selected_language": "es", "call_sid": "CA" + "7" * 32, "to": "+15550002222"}
    workspace = client.taskrouter.v1.workspaces(qs.workspace_sid)
    task = workspace.tasks.create(workflow_sid=qs.workflow_sid, attributes=json.dumps(attributes))
    offered = alice.next("reservation.created")["payload"]
    status, body = bridge.call(token, WORKER.format(**paths) + f"/Reservations/{offered['sid']}",
                               "POST", {"Instruction": "dequeue",
                                        "DequeueFrom": "+15550001111"})  # fmt: skip
    assert status == 200, body
    assert alice.next("reservation.accepted")["payload"]["sid"] == offered["sid"]
    assert workspace.tasks(task.sid).fetch().assignment_status == "assigned"


def test_bad_bodies_get_clear_refusals(bridge):
    parts = urlsplit(bridge.eb_server)
    for body, status, said in ((b"not json", 400, "not JSON"), (b"[1]", 400, "JSON object"),
                               (b"x" * (2 << 20), 413, "")):  # fmt: skip
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.request("POST", parts.path, body=body, headers={"apiVersion": "v1"})
        response = conn.getresponse()
        assert response.status == status
        assert said in response.read().decode(errors="replace")
        conn.close()
