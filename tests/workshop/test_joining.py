"""Joining a room from a learner's machine: one line, connect(), a callback server on the
learner's address that the room's sandbox reaches (signed with the seat's token), and the path
check both ways, including refused paths. The room listens on 127.0.0.5 and the learner on
127.0.0.7: two loopback addresses standing for two machines."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

import helpers
from helpers import workshop
from helpers.callbacks import ASSIGNMENT_PATH
from helpers.config import Settings, load_settings
from helpers.errors import ConfigError
from taskrouter_sandbox.scenario import build_quickstart, eventually
from taskrouter_sandbox.workshop.testing import RoomProcess

LEARNER = "127.0.0.7"


@pytest.fixture(scope="module")
def far_room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoomProcess]:
    data = Path(tmp_path_factory.mktemp("far")) / "room"
    with RoomProcess(data, seat_count=2, host="127.0.0.5") as running:
        yield running


@pytest.fixture
def seat_settings(
    far_room: RoomProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    far_room.facilitator().call("POST", "/_sandbox/workshop/reset", {}, {"X-Workshop-Action": "1"})
    line = far_room.seats[0].join_line("127.0.0.5", far_room.port)
    dotenv = tmp_path / ".env"
    # the learner's one line, in .env, and (this "machine" being 127.0.0.7) the address the
    # room calls back, a setting like every other (helpers/config.py)
    dotenv.write_text(f"{line}\n{workshop.HOST_ENV}={LEARNER}\n")
    return load_settings(env={}, dotenv_path=dotenv)


def test_one_line_makes_connect_use_the_room_as_the_seat(
    far_room: RoomProcess, seat_settings: Settings
) -> None:
    assert "***" in repr(seat_settings) and far_room.seats[0].auth_token not in repr(seat_settings)
    client = helpers.connect(seat_settings)
    ws = client.taskrouter.v1.workspaces.create(friendly_name="Learner one")
    seats = {s["number"]: s for s in far_room.status()["seats"]}
    assert seats[1]["workspaces"] == ["Learner one"] and seats[2]["workspaces"] == []
    assert far_room.seat_client(2).taskrouter.v1.workspaces.list() == []
    assert client.taskrouter.v1.workspaces(ws.sid).fetch().sid == ws.sid


def test_callbacks_reach_the_learners_server_signed_with_the_seat_token(
    seat_settings: Settings,
) -> None:
    server = workshop.callback_server({"instruction": "accept"}, port=0, settings=seat_settings)
    with server:
        assert server.host == LEARNER
        url = workshop.expose(server, seat_settings)
        assert url == f"http://{LEARNER}:{server.port}" and server.public_url == url
        qs = build_quickstart(helpers.connect(seat_settings), url + ASSIGNMENT_PATH)
        qs.set_activity("Bob", "Idle")
        task = qs.create_task(selected_language="en")
        assert eventually(lambda: qs.task(task.sid).assignment_status, lambda s: s == "assigned")
        assert len(server.requests) >= 1 and len(server.refused) == 0  # signed with seat 1's token
        log = helpers.sandbox_callbacks(settings=seat_settings)
        assert log and all(entry["account_sid"] == qs.client.username for entry in log)


def test_the_path_check_names_the_fix_when_nothing_listens(seat_settings: Settings) -> None:
    server = workshop.callback_server(port=0, settings=seat_settings).start()
    server.stop()  # the port is free again: the room's call is refused
    answer = workshop.check_path(server, seat_settings)
    assert answer["reachable"] is False and answer["cause"] == "wrong_interface"
    assert "nothing listens there" in answer["fix"]
    with pytest.raises(workshop.WorkshopError, match=r"How to fix: .*nothing listens"):
        workshop.expose(server, seat_settings)


def test_the_path_check_names_a_firewall_when_the_call_gets_no_answer(
    seat_settings: Settings,
) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) but never answers
        silent.bind((LEARNER, 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        answer = workshop.control(seat_settings).call(
            "POST", "/_sandbox/workshop/check-callback", {"Url": f"http://{LEARNER}:{port}/x"}
        )
    assert answer["reachable"] is False and answer["cause"] == "firewall"
    assert f"port {port}" in answer["fix"]


def test_a_loopback_server_is_refused_before_any_call(seat_settings: Settings) -> None:
    server = helpers.CallbackServer(port=0, auth_token="t" * 32).start()
    try:
        with pytest.raises(workshop.WorkshopError, match="only this machine reaches it"):
            workshop.expose(server, seat_settings)
    finally:
        server.stop()


def test_a_seat_waits_for_the_rooms_clock_instead_of_moving_it(
    seat_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert helpers.advance_clock(0.01, seat_settings)
    assert "the room's clock cannot be advanced" in capsys.readouterr().out


@pytest.mark.parametrize(
    "value",
    [
        "nonsense",
        "http://127.0.0.5:8765",
        "http://ACx:s3cr3tvalue@127.0.0.5:8765",
        "ftp://a:s3cr3tvalue@h:1",
    ],
)
def test_a_bad_seat_line_is_refused_with_a_fix(value: str) -> None:
    with pytest.raises(ConfigError, match="How to fix") as refused:
        workshop.parse_seat(value)
    assert "s3cr3tvalue" not in str(refused.value)


def test_the_path_check_names_the_room_side_when_the_room_does_not_answer(
    far_room: RoomProcess, seat_settings: Settings
) -> None:
    server = workshop.callback_server(port=0, settings=seat_settings).start()
    try:
        seat = far_room.seats[0]
        with socket.socket() as closed:  # a port nothing listens on, on the room's address
            closed.bind(("127.0.0.5", 0))
            port = closed.getsockname()[1]
        nowhere = replace(seat_settings, seat=seat.join_value("127.0.0.5", port))
        with pytest.raises(workshop.WorkshopError, match=f"allow incoming TCP on port {port}"):
            workshop.check_path(server, nowhere)
        forged = replace(seat_settings, seat=seat_settings.seat.replace(seat.auth_token, "f" * 32))
        with pytest.raises(workshop.WorkshopError, match="refused this seat's credentials"):
            workshop.check_path(server, forged)
    finally:
        server.stop()
