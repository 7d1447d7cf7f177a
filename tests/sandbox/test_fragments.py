"""Task answers assembled from cached JSON text (``resources/fragments.py``) are byte for byte
what encoding the rendered dicts gives: on a task's first read, its second and later ones, after
the clock moves (``age``) and after the records whose names a task shows change (a queue
renamed, a task updated)."""

from __future__ import annotations

import json
from typing import Any

from taskrouter_sandbox import wire
from taskrouter_sandbox.app import Sandbox, SandboxConfig
from taskrouter_sandbox.models import Task
from taskrouter_sandbox.resources.tasks import render
from taskrouter_sandbox.router import Request

ACCOUNT = "AC" + "0" * 32
encode = json.JSONEncoder().encode  # the HTTP server's encoder


def test_cached_task_text_is_the_encoded_rendering() -> None:
    sandbox = Sandbox(SandboxConfig(account_sid=ACCOUNT, auth_token="t" * 32))
    try:

        def call(method: str, path: str, query: str = "", **form: str) -> Any:
            params = dict(p.split("=") for p in query.split("&")) if query else {}
            request = Request(method, path, {k: [v] for k, v in params.items()},
                              {k: [v] for k, v in form.items()}, {}, ACCOUNT)  # fmt: skip
            response = sandbox.handle(request)
            assert response.status < 300, response.body
            return response.body

        ws = json.loads(encode(call("POST", "/v1/Workspaces", FriendlyName="F", Template="FIFO")))
        path = f"/Workspaces/{ws['sid']}/Tasks"
        for n in range(7):
            call("POST", f"/v1{path}", Attributes=json.dumps({"n": n, "text": "é \"q\""}),
                 Priority=str(n % 3), TaskChannel="voice" if n % 2 else "default")  # fmt: skip

        def expected_page(query: dict[str, list[str]], size: int, offset: int) -> bytes:
            store, now = sandbox.store, sandbox.clock.now()
            tasks = list(store.group(Task, "workspace_sid", ws["sid"]).values())
            chunk = [render(t, store, now) for t in tasks[offset : offset + size]]
            return encode(wire.page("tasks", path, chunk, len(tasks), size, offset, query)).encode()

        def check() -> None:
            assert call("GET", f"/v1{path}", "PageSize=3&Page=1") == expected_page(
                {"PageSize": ["3"], "Page": ["1"]}, 3, 3
            )
            assert call("GET", f"/v1{path}") == expected_page({}, 50, 0)
            for task in sandbox.store.group(Task, "workspace_sid", ws["sid"]).values():
                fetched = call("GET", f"/v1{path}/{task.sid}")
                assert fetched == encode(render(task, sandbox.store, sandbox.clock.now())).encode()

        for _ in range(3):  # a task's first read, its second (split into text), then cached
            check()
        sandbox.core.advance(125)  # every age moves
        check()
        queue = call("GET", f"/v1/Workspaces/{ws['sid']}/TaskQueues")["task_queues"][0]["sid"]
        call("POST", f"/v1/Workspaces/{ws['sid']}/TaskQueues/{queue}", FriendlyName="Renamed")
        first = next(iter(sandbox.store.group(Task, "workspace_sid", ws["sid"])))
        call("POST", f"/v1{path}/{first}", Priority="9")
        check()
        page = json.loads(call("GET", f"/v1{path}"))
        assert {t["task_queue_friendly_name"] for t in page["tasks"]} == {"Renamed"}
        assert page["tasks"][0]["priority"] == 9
        assert 125 <= page["tasks"][0]["age"] <= 135  # 125 s moved, plus the test's own time
    finally:
        sandbox.close()
