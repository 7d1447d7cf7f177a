"""The one control-plane client, against a real sandbox, and the CLI built on it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from twilio.rest import Client

from taskrouter_sandbox.control_client import ControlClient, ControlError, read_credentials
from taskrouter_sandbox.testing import SandboxProcess
from tests.support.sandbox import KIT_ROOT


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskrouter_sandbox", *args],
        cwd=KIT_ROOT, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip


def test_advance_moves_the_clock_and_reset_empties(sandbox: SandboxProcess, client: Client) -> None:
    control = sandbox.control_client
    before = control.now()
    after = control.advance(3600)
    assert after > before and control.now() == after
    client.taskrouter.v1.workspaces.create(friendly_name="Gone soon")
    control.reset()
    assert client.taskrouter.v1.workspaces.list() == []
    assert control.callbacks() == [] and control.calls() == []


def test_a_refusal_carries_the_status_and_twilios_message(sandbox: SandboxProcess) -> None:
    with pytest.raises(ControlError, match="Advance") as info:
        sandbox.control_client.advance(-1)
    assert info.value.status == 400


def test_wrong_credentials_are_refused(sandbox: SandboxProcess) -> None:
    intruder = ControlClient(sandbox.url, sandbox.account_sid, "not-the-token")
    with pytest.raises(ControlError) as info:
        intruder.reset()
    assert info.value.status == 401
    assert intruder.health()  # health needs no credentials


def test_nothing_answering_is_a_control_error(tmp_path: Path) -> None:
    assert ControlClient.for_data_dir(tmp_path) is None
    with pytest.raises(ControlError, match="did not answer"):
        ControlClient("http://127.0.0.1:9", "AC" + "0" * 32, "x", timeout=2).reset()


def test_damaged_credentials_say_how_to_fix(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text("{not json")
    with pytest.raises(ControlError, match="How to fix: delete it"):
        read_credentials(tmp_path)
    (tmp_path / "credentials.json").write_text(json.dumps({"account_sid": "AC1"}))
    with pytest.raises(ControlError, match="damaged"):
        read_credentials(tmp_path)


def test_cli_help_states_the_contract() -> None:
    result = cli("--help")
    assert result.returncode == 0
    for words in (
        "python -m taskrouter_sandbox",
        "serve",
        "start",
        "stop",
        "status",
        "reset",
        "--data-dir",
        "--extra-account",
        "TASKROUTER_SANDBOX_PORT",
        "/_sandbox/clock",
    ):
        assert words in result.stdout, words  # fmt: skip


def test_cli_bad_port_variable_is_an_error_with_a_fix(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "TASKROUTER_SANDBOX_PORT": "abc"}
    result = cli("status", "--data-dir", str(tmp_path), env=env)
    assert result.returncode == 1
    assert "TASKROUTER_SANDBOX_PORT='abc'" in result.stderr and "How to fix" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_reset_without_a_sandbox_says_how_to_start_one(tmp_path: Path) -> None:
    result = cli("reset", "--data-dir", str(tmp_path), "--port", "9")
    assert result.returncode == 1
    assert "python -m taskrouter_sandbox start" in result.stderr
