"""Milestones come from what the room's sandbox saw each seat do (never self-reported), stay
with that seat, and a seat's reset empties them. Real SDK calls, real callbacks."""

from __future__ import annotations

import secrets
from typing import Any

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import TaskRouterGrant
from websockets.sync.client import connect as websocket_connect

from taskrouter_sandbox.scenario import Quickstart, build_quickstart, eventually
from taskrouter_sandbox.workshop.testing import RoomProcess
from tests.support.receiver import Receiver


def milestones(room: RoomProcess, number: int) -> dict[str, bool]:
    return dict(room.status()["seats"][number - 1]["milestones"])


def reached(room: RoomProcess, number: int, *keys: str) -> dict[str, bool]:
    return eventually(
        lambda: milestones(room, number), lambda m: all(m[k] for k in keys), timeout=15
    )


def reserve(qs: Quickstart, **attributes: Any) -> tuple[str, Any]:
    task = qs.create_task(**attributes)
    [reservation] = eventually(lambda: qs.reservations(task.sid), lambda r: len(r) == 1)
    return task.sid, reservation


def test_each_seat_reaches_its_own_milestones(fresh_room: RoomProcess) -> None:
    # seat 1, notebooks 00-01: build the workspace, accept by REST
    qs = build_quickstart(fresh_room.seat_client(1))
    assert reached(fresh_room, 1, "workspace")["assigned_rest"] is False
    qs.set_activity("Bob", "Idle")
    task_sid, reservation = reserve(qs, selected_language="en")
    qs.ws.tasks(task_sid).reservations(reservation.sid).update(reservation_status="accepted")
    one = reached(fresh_room, 1, "workspace", "assigned_rest")
    assert not one["assigned_callback"] and not one["events"]

    # seat 2, notebooks 02 and 04: accepted by the callback; event callbacks answered
    seat = fresh_room.seats[1]
    receiver = Receiver(seat.auth_token)
    receiver.answer(body={"instruction": "accept"})
    receiver.answer("/events", body="", status=200, content_type="text/plain")
    qs2 = build_quickstart(
        fresh_room.seat_client(2), receiver.url("/assignment"), events_url=receiver.url("/events")
    )
    qs2.set_activity("Bob", "Idle")
    qs2.create_task(selected_language="en")
    two = reached(fresh_room, 2, "workspace", "assigned_callback", "events")
    assert not two["assigned_rest"] and not two["reject_reached"]

    # seat 3, notebooks 03 and 05: a reject reaches the other worker; a phone task dequeued
    qs3 = build_quickstart(fresh_room.seat_client(3))
    qs3.set_activity("Alice", "Idle")
    task_sid, first = reserve(qs3, selected_language="en")
    qs3.set_activity("Bob", "Idle")
    qs3.ws.tasks(task_sid).reservations(first.sid).update(reservation_status="rejected")
    reached(fresh_room, 3, "reject_reached")
    qs3.set_activity("Alice", "Idle")
    call_sid = "CA" + secrets.token_hex(16)
    task_sid, ring = reserve(qs3, selected_language="es", call_sid=call_sid)
    qs3.ws.tasks(task_sid).reservations(ring.sid).update(
        instruction="dequeue", dequeue_from="+15550001111"
    )
    three = reached(fresh_room, 3, "reject_reached", "phone_dequeued")
    assert not three["assigned_callback"]
    assert not any(milestones(fresh_room, 1)[k] for k in ("reject_reached", "phone_dequeued"))


def test_a_seat_reset_empties_its_milestones_and_errors_only(fresh_room: RoomProcess) -> None:
    for number in (1, 2):
        qs = build_quickstart(fresh_room.seat_client(number), "http://127.0.0.1:9/nobody")
        qs.set_activity("Bob", "Idle")
        qs.create_task(selected_language="en")  # the callback fails: a debugger error
    for number in (1, 2):
        eventually(lambda n=number: fresh_room.status()["seats"][n - 1]["errors"], bool)
        reached(fresh_room, number, "workspace")
    fresh_room.reset_seat(2)
    seats = fresh_room.status()["seats"]
    assert not any(seats[1]["milestones"].values()) and seats[1]["errors"] == []
    assert seats[1]["workspaces"] == []
    assert seats[0]["milestones"]["workspace"] and seats[0]["errors"]


def test_the_worker_page_milestone_needs_a_connection_to_the_bridge(
    fresh_room: RoomProcess,
) -> None:
    seat = fresh_room.seats[0]
    qs = build_quickstart(fresh_room.seat_client(1))
    bridge = fresh_room.facilitator().call("GET", "/_sandbox/event-bridge")
    token = AccessToken(seat.account_sid, seat.account_sid, seat.auth_token, identity="Alice")
    token.add_grant(
        TaskRouterGrant(workspace_sid=qs.sid, worker_sid=qs.workers["Alice"], role="worker")
    )
    assert not reached(fresh_room, 1, "workspace")["worker_page"]
    url = f"{bridge['ws_server']}?token={token.to_jwt()}"
    with websocket_connect(url, open_timeout=10):
        reached(fresh_room, 1, "worker_page")
    assert not milestones(fresh_room, 2)["worker_page"]


def test_a_room_reset_by_the_plain_control_route_empties_every_seat(
    fresh_room: RoomProcess,
) -> None:
    for number in (1, 3):
        build_quickstart(fresh_room.seat_client(number))
        reached(fresh_room, number, "workspace")
    fresh_room.facilitator().reset()  # POST /_sandbox/reset, what the CLI's `reset` sends
    for seat in fresh_room.status()["seats"]:
        assert not any(seat["milestones"].values()) and seat["workspaces"] == []
