"""``X-Sandbox-Advance`` (issue 18): any request may carry a clock move, applied — due timers
fired — before the request is handled, as a ``POST /_sandbox/clock`` sent just before it would
be. Main account only; a bad value is a 400 that moves nothing. Real sandbox over HTTP."""

from __future__ import annotations

import secrets
from typing import Any

import requests
from twilio.rest import Client

from taskrouter_sandbox.testing import InProcessSandbox, SandboxProcess


def offset(sandbox: SandboxProcess) -> float:
    return float(sandbox.control("GET", "/_sandbox/clock")["offset"])


def fetch_task(sandbox: Any, auth: tuple[str, str], path: str, advance: str) -> requests.Response:
    return requests.get(f"{sandbox.url}/v1{path}", auth=auth, timeout=30,
                        headers={"X-Sandbox-Advance": advance})  # fmt: skip


def test_the_move_and_its_timers_come_before_the_request(
    sandbox: SandboxProcess, client: Client, workspace: Any
) -> None:
    task = workspace.tasks.create(attributes="{}", timeout=60)  # nobody to route it to
    path = f"/Workspaces/{workspace._solution['sid']}/Tasks/{task.sid}"
    auth = (sandbox.account_sid, sandbox.auth_token)
    before = offset(sandbox)

    early = fetch_task(sandbox, auth, path, "59")
    assert early.status_code == 200 and early.json()["assignment_status"] == "pending"
    # 2 s more: the task's 60 s timeout fires inside the move, so this very answer shows it.
    late = fetch_task(sandbox, auth, path, "2")
    assert late.status_code == 200 and late.json()["assignment_status"] == "canceled"
    assert offset(sandbox) - before >= 61

    moved = offset(sandbox)
    for bad in ("-1", "soon", str(10**12)):
        refused = fetch_task(sandbox, auth, path, bad)
        assert refused.status_code == 400 and "X-Sandbox-Advance" in refused.json()["message"]
    assert offset(sandbox) == moved  # a refused move moves nothing


def test_only_the_main_account_moves_the_clock() -> None:
    other = ("AC" + secrets.token_hex(16), secrets.token_hex(16))
    with InProcessSandbox.running(extra_accounts=(other,)) as live:
        before = live.app.clock.offset
        answer = requests.get(f"{live.url}/v1/Workspaces", auth=other, timeout=30,
                              headers={"X-Sandbox-Advance": "3600"})  # fmt: skip
        assert answer.status_code == 403 and "main account" in answer.json()["message"]
        assert live.app.clock.offset == before
        main = (live.account_sid, live.auth_token)
        answer = requests.get(f"{live.url}/v1/Workspaces", auth=main, timeout=30,
                              headers={"X-Sandbox-Advance": "3600"})  # fmt: skip
        assert answer.status_code == 200 and live.app.clock.offset == before + 3600
