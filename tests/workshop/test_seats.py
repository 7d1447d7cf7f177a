"""Seats: creation, isolation, persistence, the facilitator's credential kept apart, signed
callbacks, and per-seat reset (from the control plane and the CLI). A real workshop sandbox
process and the real twilio SDK over loopback."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from taskrouter_sandbox.control_client import read_credentials
from taskrouter_sandbox.scenario import build_quickstart, eventually
from taskrouter_sandbox.workshop import network_warning
from taskrouter_sandbox.workshop import seats as seats_module
from taskrouter_sandbox.workshop.testing import RoomProcess
from tests.support.receiver import Receiver

FACILITATOR_ONLY = (
    ("GET", "/_sandbox/workshop"),
    ("GET", "/_sandbox/workshop/status"),
    ("POST", "/_sandbox/workshop/seats/1/reset"),
    ("POST", "/_sandbox/workshop/seats/2/reset"),
    ("POST", "/_sandbox/workshop/reset"),
    ("POST", "/_sandbox/reset"),
    ("POST", "/_sandbox/clock"),
)


def test_seats_are_made_private_and_printed_without_the_facilitator_token(
    room: RoomProcess,
) -> None:
    seats = room.seats
    facilitator = read_credentials(room.data_dir)
    assert facilitator is not None
    assert [s.number for s in seats] == [1, 2, 3]
    assert len({s.account_sid for s in seats} | {facilitator.account_sid}) == 4
    for name in ("seats.json", "workshop-seats.html", "credentials.json"):
        assert stat.S_IMODE((room.data_dir / name).stat().st_mode) == 0o600
    page = (room.data_dir / "workshop-seats.html").read_text()
    banner = "".join(room.output)
    for seat in seats:
        line = seat.join_line("127.0.0.1", room.port)
        assert line in page and line in banner
        assert facilitator.auth_token not in line
        others = [s.auth_token for s in seats if s is not seat]
        assert not any(token in line for token in others)  # a seat's line shows only its own
    assert facilitator.auth_token not in page and facilitator.auth_token not in banner


def test_a_seat_sees_and_reaches_only_its_own_workspaces(fresh_room: RoomProcess) -> None:
    one, two = fresh_room.seat_client(1), fresh_room.seat_client(2)
    ws = one.taskrouter.v1.workspaces.create(friendly_name="Seat one's")
    assert [w.sid for w in two.taskrouter.v1.workspaces.list()] == []
    for call in (
        lambda: two.taskrouter.v1.workspaces(ws.sid).fetch(),
        lambda: two.taskrouter.v1.workspaces(ws.sid).workers.create(friendly_name="Mallory"),
        lambda: two.taskrouter.v1.workspaces(ws.sid).delete(),
    ):
        with pytest.raises(TwilioRestException) as refused:
            call()
        assert refused.value.status == 404
    assert one.taskrouter.v1.workspaces(ws.sid).fetch().friendly_name == "Seat one's"


@pytest.mark.parametrize(("method", "path"), FACILITATOR_ONLY)
def test_facilitator_routes_refuse_seats_and_strangers(
    room: RoomProcess, method: str, path: str
) -> None:
    seat = room.seats[1]
    answer = requests.request(
        method, room.url + path, auth=(seat.account_sid, seat.auth_token),
        data={"Advance": "1"}, headers={"X-Workshop-Action": "1"}, timeout=10,
    )  # fmt: skip
    assert answer.status_code == 403, answer.text
    assert requests.request(method, room.url + path, timeout=10).status_code == 401


def test_status_shows_no_token_and_actions_need_the_action_header(room: RoomProcess) -> None:
    facilitator = read_credentials(room.data_dir)
    assert facilitator is not None
    auth = (facilitator.account_sid, facilitator.auth_token)
    status = requests.get(room.url + "/_sandbox/workshop/status", auth=auth, timeout=10)
    assert status.status_code == 200
    assert [s["number"] for s in status.json()["seats"]] == [1, 2, 3]
    for secret in [facilitator.auth_token, *(s.auth_token for s in room.seats)]:
        assert secret not in status.text
    page = requests.get(room.url + "/_sandbox/workshop", auth=auth, timeout=10)
    assert page.headers["Content-Type"].startswith("text/html") and "<table" in page.text
    # a cross-site form cannot add a header: without it, no action
    bare = requests.post(room.url + "/_sandbox/workshop/reset", auth=auth, timeout=10)
    assert bare.status_code == 403 and "X-Workshop-Action" in bare.json()["message"]


def test_callbacks_to_a_seat_are_signed_with_that_seats_token(fresh_room: RoomProcess) -> None:
    seat = fresh_room.seats[2]
    receiver = Receiver(seat.auth_token)  # validates X-Twilio-Signature with seat 3's token
    receiver.answer(body={"instruction": "accept"})
    qs = build_quickstart(fresh_room.seat_client(3), receiver.url("/assignment"))
    qs.set_activity("Bob", "Idle")
    task = qs.create_task(selected_language="en")
    [received] = receiver.wait_for("/assignment")
    assert received.signature_valid and received.form["AccountSid"] == seat.account_sid
    assert eventually(lambda: qs.task(task.sid).assignment_status, lambda s: s == "assigned")


def test_resetting_one_seat_leaves_the_others(fresh_room: RoomProcess) -> None:
    one, two = fresh_room.seat_client(1), fresh_room.seat_client(2)
    one.taskrouter.v1.workspaces.create(friendly_name="keep")
    two.taskrouter.v1.workspaces.create(friendly_name="gone")
    assert fresh_room.reset_seat(2) == {"seat": 2, "workspaces_deleted": 1}
    assert two.taskrouter.v1.workspaces.list() == []
    assert [w.friendly_name for w in one.taskrouter.v1.workspaces.list()] == ["keep"]
    two.taskrouter.v1.workspaces.create(friendly_name="again")
    cli = subprocess.run(
        [sys.executable, "-m", "taskrouter_sandbox", "reset", "--seat", "2",
         "--data-dir", str(fresh_room.data_dir)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert "seat 2 reset (1 workspaces deleted)" in cli.stdout
    assert two.taskrouter.v1.workspaces.list() == []
    assert len(one.taskrouter.v1.workspaces.list()) == 1


def test_seats_survive_a_restart_and_grow_without_changing(tmp_path: Path) -> None:
    data_dir = tmp_path / "room"
    with RoomProcess(data_dir, seat_count=2) as first:
        before = first.seats
        ws = first.seat_client(1).taskrouter.v1.workspaces.create(friendly_name="mine")
    with RoomProcess(data_dir, seat_count=4) as second:
        after = second.seats
        assert after[:2] == before and len(after) == 4
        assert second.seat_client(1).taskrouter.v1.workspaces(ws.sid).fetch().sid == ws.sid
        assert second.seat_client(4).taskrouter.v1.workspaces.list() == []


def test_a_damaged_seats_file_is_refused_with_a_fix(tmp_path: Path) -> None:
    data_dir = tmp_path / "room"
    data_dir.mkdir(mode=0o700)
    (data_dir / "seats.json").write_text(json.dumps({"seats": [{"number": 1}]}))
    with pytest.raises(seats_module.SeatsError, match="How to fix"):
        seats_module.load_or_create(data_dir, 3)
    with pytest.raises(seats_module.SeatsError, match="between 1 and"):
        seats_module.load_or_create(tmp_path / "other", 0)


def test_binding_beyond_loopback_warns_loudly() -> None:
    for address in ("0.0.0.0", "192.0.2.10", "::"):  # checked as text: nothing is bound
        warning = network_warning(address, 8765)
        assert warning is not None and "reachable FROM THE NETWORK" in warning
    assert network_warning("127.0.0.1", 8765) is None
    assert network_warning("localhost", 8765) is None


def test_a_room_on_another_loopback_address_stands_for_another_machine(tmp_path: Path) -> None:
    with RoomProcess(tmp_path / "room", seat_count=1, host="127.0.0.5") as other_machine:
        assert other_machine.seat_client(1).taskrouter.v1.workspaces.list() == []
        assert "@127.0.0.5:" in other_machine.seats[0].join_line("127.0.0.5", other_machine.port)
        assert f"@127.0.0.5:{other_machine.port}" in "".join(other_machine.output)


def test_a_seat_never_sees_another_seats_callbacks(fresh_room: RoomProcess) -> None:
    seat_one = fresh_room.seats[0]
    receiver = Receiver(seat_one.auth_token)
    receiver.answer(body={"instruction": "accept"})
    qs = build_quickstart(fresh_room.seat_client(1), receiver.url("/assignment"))
    qs.set_activity("Bob", "Idle")
    qs.create_task(selected_language="en")
    receiver.wait_for("/assignment")
    one = eventually(lambda: requests.get(
        fresh_room.url + "/_sandbox/callbacks", auth=(seat_one.account_sid, seat_one.auth_token),
        timeout=10,
    ).json()["callbacks"], bool)  # fmt: skip
    assert one[0]["account_sid"] == seat_one.account_sid
    two = fresh_room.seats[1]
    theirs = requests.get(
        fresh_room.url + f"/_sandbox/callbacks?WorkspaceSid={qs.sid}",
        auth=(two.account_sid, two.auth_token), timeout=10,
    )  # fmt: skip
    assert theirs.json()["callbacks"] == []
    assert seat_one.auth_token not in theirs.text


def test_only_a_seat_checks_a_callback_path(room: RoomProcess) -> None:
    facilitator = read_credentials(room.data_dir)
    assert facilitator is not None
    answer = requests.post(
        room.url + "/_sandbox/workshop/check-callback", data={"Url": "http://127.0.0.1:9/x"},
        auth=(facilitator.account_sid, facilitator.auth_token), timeout=10,
    )  # fmt: skip
    assert answer.status_code == 403


def test_the_cli_asks_for_a_seat_count(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "taskrouter_sandbox", "workshop", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert run.returncode == 2 and "workshop needs --seats N" in run.stderr
    too_many = subprocess.run(
        [sys.executable, "-m", "taskrouter_sandbox", "workshop", "--seats", "0",
         "--data-dir", str(tmp_path / "d")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert too_many.returncode == 1 and "--seats must be between 1 and" in too_many.stderr
