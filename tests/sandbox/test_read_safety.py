"""Reads without the lock are safe by construction (issue 13): the store's group buckets are
copy-on-write and ``Store.all`` takes the lock, so a handler iterating them while another
thread commits never meets ``RuntimeError: dictionary changed size during iteration``.

The switch interval is forced down to 1 µs so that threads interleave inside those loops;
the store and the sandbox app are driven in process (no HTTP needed to race two threads).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from taskrouter_sandbox import wire
from taskrouter_sandbox.app import Sandbox, SandboxConfig
from taskrouter_sandbox.models import Task, Workspace
from taskrouter_sandbox.router import Request
from taskrouter_sandbox.store import Store

ACCOUNT = "AC" + "1" * 32
COMMITS = 3000


@pytest.fixture
def short_switches() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def race(
    write: Callable[[int], None], read: Callable[[], Any], commits: int
) -> list[BaseException]:
    """Run ``write(i)`` for each commit on one thread while ``read()`` loops on two others;
    return what the readers raised."""
    done = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        while not done.is_set():
            try:
                read()
            except Exception as error:  # the assertion below shows which
                errors.append(error)
                return

    readers = [threading.Thread(target=reader, daemon=True) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        for i in range(commits):
            write(i)
    finally:
        done.set()
        for thread in readers:
            thread.join(10)
    return errors


def test_store_group_and_all_survive_concurrent_commits(short_switches: None) -> None:
    store = Store(None)
    ws = Workspace(sid="WS" + "0" * 32, account_sid=ACCOUNT, date_created=0, date_updated=0)
    with store.transaction() as tx:
        tx.put(ws)
    live: list[Task] = []

    def write(i: int) -> None:
        with store.transaction() as tx:
            task = Task(sid=wire.new_sid("WT"), account_sid=ACCOUNT, date_created=i,
                        date_updated=i, workspace_sid=ws.sid)  # fmt: skip
            live.append(tx.put(task))  # type: ignore[arg-type]
            if len(live) > 40:
                tx.delete(live.pop(0))

    def read() -> None:
        total = 0
        for record in store.group(Task, "workspace_sid", ws.sid).values():
            total += record.date_created > -1
        assert len(store.all(Task)) <= 41
        assert total <= 41

    errors = race(write, read, COMMITS)
    assert not errors, f"a lock-free read failed during commits: {errors[0]!r}"


def test_statistics_and_channel_reads_survive_concurrent_routing(short_switches: None) -> None:
    sandbox = Sandbox(SandboxConfig(account_sid=ACCOUNT, auth_token="t" * 32))
    try:

        def call(method: str, path: str, **form: str) -> Any:
            request = Request(method, path, {}, {k: [v] for k, v in form.items()}, {}, ACCOUNT)
            response = sandbox.handle(request)
            assert response.status < 300, response.body
            return response.body

        ws = call("POST", "/v1/Workspaces", FriendlyName="Race")["sid"]
        queue = call("POST", f"/v1/Workspaces/{ws}/TaskQueues", FriendlyName="Q")["sid"]
        config = json.dumps({"task_routing": {"default_filter": {"queue": queue}}})
        flow = call("POST", f"/v1/Workspaces/{ws}/Workflows", FriendlyName="F",
                    Configuration=config)["sid"]  # fmt: skip

        activities = call("GET", f"/v1/Workspaces/{ws}/Activities")["activities"]
        available = next(a["sid"] for a in activities if a["friendly_name"] == "Available")
        worker = call("POST", f"/v1/Workspaces/{ws}/Workers", FriendlyName="W",
                      ActivitySid=available)["sid"]  # fmt: skip
        call("POST", f"/v1/Workspaces/{ws}/Workers/{worker}/Channels/default", Capacity="50")

        def write(i: int) -> None:  # tasks reserved to the worker, then canceled: churn
            task = call("POST", f"/v1/Workspaces/{ws}/Tasks", WorkflowSid=flow)
            if i % 3 != 2:
                call("POST", f"/v1/Workspaces/{ws}/Tasks/{task['sid']}",
                     AssignmentStatus="canceled", Reason="race")  # fmt: skip

        def read() -> None:
            call("GET", f"/v1/Workspaces/{ws}/RealTimeStatistics")
            call("GET", f"/v1/Workspaces/{ws}/TaskQueues/{queue}/RealTimeStatistics")
            call("GET", f"/v1/Workspaces/{ws}/Workers/RealTimeStatistics")
            call("GET", f"/v1/Workspaces/{ws}/Workers/{worker}/Channels")

        errors = race(write, read, 600)
        assert not errors, f"a statistics read failed during commits: {errors[0]!r}"
    finally:
        sandbox.close()
