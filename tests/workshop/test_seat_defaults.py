"""In a workshop seat the notebooks' own ``CallbackServer()``/``serve(app)`` and ``expose()``
follow the seat: the unchanged notebooks 00-02 run in a real kernel against a room's sandbox,
and the room calls the learner's kernel back. The room listens on 127.0.0.5 and the learner's
"machine" is 127.0.0.7 (two loopback addresses standing for two machines)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import helpers
from helpers import kernel_servers
from helpers.errors import WorkshopError
from taskrouter_sandbox.scenario import eventually
from taskrouter_sandbox.workshop import ACTION_HEADERS
from taskrouter_sandbox.workshop.testing import RoomProcess
from tests.support.sandbox import KIT_ROOT

ROOM, LEARNER = "127.0.0.5", "127.0.0.7"
EXECUTED = KIT_ROOT / "test-output" / "notebooks-seat"


@pytest.fixture(scope="module")
def seat_room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoomProcess]:
    data = Path(tmp_path_factory.mktemp("seat-room")) / "room"
    with RoomProcess(data, seat_count=2, host=ROOM) as running:
        yield running


@pytest.fixture
def seated(seat_room: RoomProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RoomProcess:
    """This process (and the kernels it starts) sits at seat 1, on the learner's address."""
    seat_room.facilitator().call("POST", "/_sandbox/workshop/reset", {}, ACTION_HEADERS)
    monkeypatch.setenv("TASKROUTER_MODE", "sandbox")
    monkeypatch.setenv("TASKROUTER_SEAT", seat_room.seats[0].join_value(ROOM, seat_room.port))
    monkeypatch.setenv("TASKROUTER_CALLBACK_HOST", LEARNER)
    monkeypatch.setenv("TASKROUTER_SANDBOX_DIR", str(tmp_path / "kit-state"))
    for name in ("TASKROUTER_CALLBACK_PORT", "TASKROUTER_TUNNEL"):
        monkeypatch.delenv(name, raising=False)
    return seat_room


def test_the_unchanged_notebooks_00_to_02_run_in_a_seat(
    seated: RoomProcess, tmp_path: Path
) -> None:
    for name in (
        "00-set-up-the-workspace.ipynb",
        "01-create-a-task-accept-via-rest.ipynb",
        "02-accept-via-the-assignment-callback.ipynb",
    ):
        notebook = nbformat.read(KIT_ROOT / "notebooks" / name, as_version=4)
        NotebookClient(notebook, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
        EXECUTED.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, EXECUTED / name)
    milestones = eventually(
        lambda: seated.status()["seats"][0]["milestones"],
        lambda m: m["assigned_callback"],
        timeout=10,
    )
    assert milestones["workspace"] and milestones["assigned_rest"]
    calls = helpers.sandbox_callbacks()  # the room's log, as seat 1 sees it
    assignments = [c for c in calls if "/assignment_callback" in c["url"]]
    assert assignments and all(c["url"].startswith(f"http://{LEARNER}:") for c in assignments)
    assert any(c["status"] == 200 for c in assignments)
    other = seated.status()["seats"][1]
    assert other["workspaces"] == [] and not any(other["milestones"].values())


def test_callback_server_and_expose_follow_the_seat(seated: RoomProcess) -> None:
    server = helpers.CallbackServer().start()
    try:
        assert server.host == LEARNER and server.url == f"http://{LEARNER}:{server.port}"
        url = helpers.expose(server)  # the room called it once before saying yes
        assert url == server.url and server.public_url == url
        assert server.assignment_url == f"{url}/assignment_callback"
        loopback = helpers.CallbackServer(port=0, host="127.0.0.1").start()
        try:
            with pytest.raises(WorkshopError, match="without host="):
                helpers.expose(loopback)
        finally:
            loopback.stop()
    finally:
        server.stop()


def test_another_kernels_seat_server_is_stopped_on_its_address(seated: RoomProcess) -> None:
    kernel = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, helpers; s = helpers.CallbackServer().start(); "
         "print(s.url, flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=KIT_ROOT,
    )  # fmt: skip
    try:
        assert kernel.stdout is not None
        url = kernel.stdout.readline().strip()
        assert url.startswith(f"http://{LEARNER}:")
        port = int(url.rsplit(":", 1)[1])
        assert [e.url for e in kernel_servers.entries()] == [url]
        assert helpers.stop_callback_servers(all_kernels=True) == [port]
        deadline = time.monotonic() + 5
        while kernel_servers.entries() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert kernel_servers.entries() == [] and not kernel_servers._listening(LEARNER, port)
    finally:
        kernel.kill()
        kernel.wait()
