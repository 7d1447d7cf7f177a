"""Every answered write survives kill -9; the CLI's background instance behaves as documented."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.sandbox import KIT_ROOT, SandboxProcess, free_port


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    proc = SandboxProcess(data_dir=tmp_path / "data").start()
    try:
        client = proc.client()
        ws = client.taskrouter.v1.workspaces.create(friendly_name="Durable", template="FIFO")
        workspace = client.taskrouter.v1.workspaces(ws.sid)

        def write(i: int) -> tuple[str, str]:
            if i % 3 == 0:
                return "worker", workspace.workers.create(friendly_name=f"W{i}").sid
            task = workspace.tasks.create(attributes=f'{{"n": {i}}}', priority=i)
            return "task", task.sid

        with ThreadPoolExecutor(8) as pool:
            acknowledged = list(pool.map(write, range(120)))
        updated = workspace.tasks(acknowledged[1][1]).update(priority=999)
        assert updated.priority == 999
    finally:
        proc.kill9()

    again = SandboxProcess(
        data_dir=proc.data_dir, account_sid=proc.account_sid, auth_token=proc.auth_token
    ).start()
    try:
        workspace = again.client().taskrouter.v1.workspaces(ws.sid)
        tasks = {t.sid: t for t in workspace.tasks.list()}
        workers = {w.sid for w in workspace.workers.list()}
        for kind, sid in acknowledged:
            assert sid in (tasks if kind == "task" else workers), (kind, sid)
        assert tasks[acknowledged[1][1]].priority == 999
        assert len(workspace.events.list(minutes=60)) > len(acknowledged)
    finally:
        again.stop()


def run_cli(*args: str, data_dir: Path, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskrouter_sandbox", *args, "--data-dir", str(data_dir),
         "--port", str(port)],
        cwd=KIT_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_background_start_status_reset_stop(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "bg", free_port()
    try:
        started = run_cli("start", data_dir=data_dir, port=port)
        assert started.returncode == 0, started.stderr
        assert f"http://127.0.0.1:{port}" in started.stdout
        assert run_cli("start", data_dir=data_dir, port=port).returncode == 0  # idempotent
        assert "running" in run_cli("status", data_dir=data_dir, port=port).stdout
        creds = (data_dir / "credentials.json").stat()
        assert oct(creds.st_mode & 0o777) == "0o600"
        assert run_cli("reset", data_dir=data_dir, port=port).returncode == 0
    finally:
        assert "stopped" in run_cli("stop", data_dir=data_dir, port=port).stdout
    status = run_cli("status", data_dir=data_dir, port=port)
    assert status.returncode == 3 and "not running" in status.stdout


def test_busy_port_gives_a_clear_error(tmp_path: Path) -> None:
    proc = SandboxProcess(data_dir=tmp_path / "one").start()
    try:
        result = run_cli("serve", data_dir=tmp_path / "two", port=proc.port)
        assert result.returncode == 1
        assert "Cannot listen" in result.stderr and "--port" in result.stderr
    finally:
        proc.stop()


def test_generated_credentials_are_kept(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "gen", free_port()
    try:
        assert run_cli("start", data_dir=data_dir, port=port).returncode == 0
        first = (data_dir / "credentials.json").read_text()
    finally:
        run_cli("stop", data_dir=data_dir, port=port)
    try:
        assert run_cli("start", data_dir=data_dir, port=port).returncode == 0
        assert (data_dir / "credentials.json").read_text() == first
    finally:
        run_cli("stop", data_dir=data_dir, port=port)
