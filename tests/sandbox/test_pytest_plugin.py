"""The pytest plugin, as a user's project sees it: installed fixtures, no conftest of ours."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

USERS_TESTS = """
import json


def test_my_code_against_the_sandbox(taskrouter_client, taskrouter_sandbox):
    ws = taskrouter_client.taskrouter.v1.workspaces.create(friendly_name="Mine", template="FIFO")
    context = taskrouter_client.taskrouter.v1.workspaces(ws.sid)
    task = context.tasks.create(attributes=json.dumps({"n": 1}), timeout=60)
    taskrouter_sandbox.advance(61)  # the task's TTL passes without sleeping
    assert context.tasks(task.sid).fetch().assignment_status == "canceled"


def test_each_test_starts_empty(taskrouter_client):
    assert taskrouter_client.taskrouter.v1.workspaces.list() == []


def test_in_process_the_same_way(taskrouter_sandbox_in_process):
    sandbox = taskrouter_sandbox_in_process
    client = sandbox.client()  # the real SDK, over loopback, to a server in this process
    ws = client.taskrouter.v1.workspaces.create(friendly_name="Here", template="FIFO")
    context = client.taskrouter.v1.workspaces(ws.sid)
    task = context.tasks.create(attributes=json.dumps({"n": 1}), timeout=60)
    sandbox.advance(61)
    assert context.tasks(task.sid).fetch().assignment_status == "canceled"
    # the core is at hand too: the same task, read from the store without HTTP
    from taskrouter_sandbox.models import Task
    assert sandbox.app.store.get(task.sid, Task).reason == "Task TTL Exceeded"
"""


def test_a_users_project_gets_the_fixtures(tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text(USERS_TESTS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
