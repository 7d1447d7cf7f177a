"""A real workshop sandbox process (three seats) shared by a module's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from taskrouter_sandbox.workshop.testing import RoomProcess


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoomProcess]:
    with RoomProcess(Path(tmp_path_factory.mktemp("room")) / "data", seat_count=3) as running:
        yield running


@pytest.fixture
def fresh_room(room: RoomProcess) -> RoomProcess:
    """The module's room, every seat emptied first."""
    from taskrouter_sandbox.workshop import ACTION_HEADERS

    room.facilitator().call("POST", "/_sandbox/workshop/reset", {}, ACTION_HEADERS)
    return room
