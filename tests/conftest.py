"""Shared fixtures: one real sandbox process per test session, reset before each test.

They are the package's pytest plugin (``taskrouter_sandbox.pytest_plugin``, registered by its
entry point) under the names the kit's tests have always used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from twilio.rest import Client

from taskrouter_sandbox.testing import SandboxProcess


@pytest.fixture(scope="session")
def sandbox_process(taskrouter_sandbox_process: SandboxProcess) -> SandboxProcess:
    return taskrouter_sandbox_process


@pytest.fixture
def sandbox(taskrouter_sandbox: SandboxProcess) -> SandboxProcess:
    """The session's sandbox, emptied: every test starts from no state."""
    return taskrouter_sandbox


@pytest.fixture
def client(taskrouter_client: Client) -> Client:
    return taskrouter_client


@pytest.fixture
def workspace(client: Client):
    """A fresh FIFO workspace; returns the SDK's workspace context."""
    ws = client.taskrouter.v1.workspaces.create(friendly_name="Test Workspace", template="FIFO")
    return client.taskrouter.v1.workspaces(ws.sid)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "sandbox-data"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """The session's one headless Chromium (Debian's): every browser test shares it, since a
    second ``sync_playwright`` in the same process fails while the first is alive."""
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()
