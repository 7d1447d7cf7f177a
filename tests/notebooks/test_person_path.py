"""The path a person walks: notebooks opened in order in one JupyterLab, earlier kernels alive.

CI used to run each notebook alone in a fresh kernel, which hid the traps between them (01's
kernel holding the callback port 02 wanted; 99 not seeing other kernels' servers). Here every
notebook runs in its own kernel and each kernel stays alive while the next one runs, like tabs
left open in JupyterLab.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import nbformat
import pytest
from jupyter_client.manager import KernelManager

import helpers
from tests.notebooks.conftest import Kit
from tests.notebooks.test_notebooks import outputs_text, quickstart
from tests.support.sandbox import KIT_ROOT

PATH = [
    "00-set-up-the-workspace.ipynb",
    "01-create-a-task-accept-via-rest.ipynb",
    "02-accept-via-the-assignment-callback.ipynb",
    "03-instructions-and-what-goes-wrong.ipynb",
    "04-events-and-the-timeline.ipynb",
]


@pytest.fixture
def kernels() -> Iterator[list[KernelManager]]:
    started: list[KernelManager] = []
    yield started
    for km in started:
        if km.has_kernel:
            km.shutdown_kernel(now=True)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def open_in_lab(kit: Kit, name: str, kernels: list[KernelManager], monkeypatch) -> object:
    """Run ``name`` in a new kernel that stays alive, named like JupyterLab names it."""
    monkeypatch.setenv("JPY_SESSION_NAME", f"notebooks/{name}")  # what JupyterLab sets
    km = KernelManager(kernel_name="python3")
    kernels.append(km)
    return kit.run(name, km=km)


def test_notebooks_in_order_with_earlier_kernels_alive(
    kit: Kit, kernels: list[KernelManager], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PATH:
        open_in_lab(kit, name, kernels, monkeypatch)  # raises on any failed cell or checkpoint
        qs = quickstart(kit)
        flow = kit.client.taskrouter.v1.workspaces(qs.workspace_sid).workflows(qs.workflow_sid)
        servers = {s.notebook: s for s in helpers.callback_servers()}
        if name in servers:  # the newest notebook owns the workflow's callback URL
            assert flow.fetch().assignment_callback_url.startswith(servers[name].url)
    assert all(km.is_alive() for km in kernels)

    servers = helpers.callback_servers()
    assert {s.notebook for s in servers} == set(PATH[1:]), servers
    assert len({s.port for s in servers}) == len(servers)  # one port each, no collision

    cleanup = open_in_lab(kit, "99-clean-up.ipynb", kernels, monkeypatch)
    text = outputs_text(cleanup)
    for server in servers:  # 99 saw the other kernels' servers and stopped them
        assert f"running: port {server.port} ({server.notebook})" in text
        assert not listening(server.port), server
    assert "still running" not in text and helpers.callback_servers() == []
    assert all(km.is_alive() for km in kernels)  # stopping servers left the kernels running


def test_a_rerun_in_one_kernel_keeps_its_port_and_replaces_its_server(
    kit: Kit, kernels: list[KernelManager], monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = nbformat.read(KIT_ROOT / "notebooks" / PATH[2], as_version=4)
    serving = next(i for i, c in enumerate(notebook.cells) if "helpers.serve(app)" in c.source)
    again = nbformat.v4.new_code_cell(notebook.cells[serving].source)  # the cell, run twice
    notebook.cells.insert(serving + 1, again)
    monkeypatch.setenv("JPY_SESSION_NAME", f"notebooks/{PATH[2]}")
    km = KernelManager(kernel_name="python3")
    kernels.append(km)
    kit.run(PATH[2], km=km, notebook=notebook)
    (server,) = helpers.callback_servers()
    assert listening(server.port)


CLICK_IDLE = """
# What a click on Idle does: the button's value changes in the browser, the widget acts on it.
switch.buttons.value = "Idle"
helpers.wait_for(lambda: ws.tasks(task.sid).fetch().assignment_status != "pending",
                 what="the click to reach TaskRouter")
"""


@pytest.mark.parametrize("name", PATH[1:3])
def test_clicking_idle_and_running_the_from_code_cell_gives_one_outcome(
    kit: Kit, name: str
) -> None:
    """The person clicks Idle *and* runs the "or run the next cell" cell: same outcome."""
    notebook = nbformat.read(KIT_ROOT / "notebooks" / name, as_version=4)
    from_code = next(
        i for i, c in enumerate(notebook.cells) if "update(activity_sid=idle_sid)" in c.source
    )
    notebook.cells.insert(from_code, nbformat.v4.new_code_cell(CLICK_IDLE))
    executed = kit.run(name, notebook=notebook)  # every checkpoint in it must pass
    qs = quickstart(kit)
    tasks = kit.tasks(qs)
    assert any(t.assignment_status == "assigned" for t in tasks)
    assert kit.worker(qs, "Alice").activity_name == "Busy"
    text = outputs_text(executed)
    assert "[ok]" in text and "Error" not in text
    # the timeline of the first task: Alice went Idle once, then Reserved, then Busy
    first = min(tasks, key=lambda t: t.date_created)
    events = kit.client.taskrouter.v1.workspaces(qs.workspace_sid).events.list(
        worker_sid=qs.workers["Alice"], event_type="worker.activity.update"
    )
    after = [e for e in events if e.event_date >= first.date_created]
    names = [e.event_data["worker_activity_name"] for e in sorted(after, key=_date)]
    assert names[: names.index("Busy") + 1] == ["Idle", "Reserved", "Busy"], names


def _date(event: object) -> object:
    return event.event_date  # type: ignore[attr-defined]
