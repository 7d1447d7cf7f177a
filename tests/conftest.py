"""Shared fixtures: one real sandbox process per test session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from twilio.rest import Client

from tests.support.sandbox import SandboxProcess


@pytest.fixture(scope="session")
def sandbox_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    proc = SandboxProcess(data_dir=tmp_path_factory.mktemp("sandbox")).start()
    yield proc
    proc.stop()


@pytest.fixture
def sandbox(sandbox_process: SandboxProcess) -> SandboxProcess:
    """The session's sandbox, emptied: every test starts from no state."""
    sandbox_process.reset()
    return sandbox_process


@pytest.fixture
def client(sandbox: SandboxProcess) -> Client:
    return sandbox.client()


@pytest.fixture
def workspace(client: Client):
    """A fresh FIFO workspace; returns the SDK's workspace context."""
    ws = client.taskrouter.v1.workspaces.create(friendly_name="Test Workspace", template="FIFO")
    return client.taskrouter.v1.workspaces(ws.sid)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "sandbox-data"
