"""The notebook tests' fixtures: a fresh sandbox per test, and a runner for notebooks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from twilio.rest import Client

import helpers
from helpers.config import Settings
from taskrouter_sandbox import process
from tests.support.sandbox import KIT_ROOT, free_port

EXECUTED = KIT_ROOT / "test-output" / "notebooks"


@dataclass
class Kit:
    settings: Settings
    workdir: Path

    @property
    def client(self) -> Client:
        return helpers.connect(self.settings)

    def run(
        self,
        name: str,
        km: KernelManager | None = None,
        notebook: nbformat.NotebookNode | None = None,
    ) -> nbformat.NotebookNode:
        """Execute a notebook; with ``km`` (started here if needed) its kernel stays alive."""
        if notebook is None:
            notebook = nbformat.read(KIT_ROOT / "notebooks" / name, as_version=4)
        started = time.monotonic()
        NotebookClient(notebook, timeout=120, kernel_name="python3", km=km,
                       resources={"metadata": {"path": str(self.workdir)}}).execute()  # fmt: skip
        notebook.metadata["kit_seconds"] = round(time.monotonic() - started, 2)
        EXECUTED.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, EXECUTED / name)
        return notebook

    def worker(self, qs: helpers.Quickstart, name: str) -> object:
        return (
            self.client.taskrouter.v1.workspaces(qs.workspace_sid).workers(qs.workers[name]).fetch()
        )

    def tasks(self, qs: helpers.Quickstart) -> list:
        return self.client.taskrouter.v1.workspaces(qs.workspace_sid).tasks.list()


@pytest.fixture
def kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kit]:
    """A fresh sandbox and free ports, handed to the kernel through its environment."""
    settings = Settings(sandbox_dir=tmp_path / "sandbox", sandbox_port=free_port())
    monkeypatch.setenv("TASKROUTER_MODE", "sandbox")  # a developer's .env must not send us live
    monkeypatch.setenv("TASKROUTER_SANDBOX_DIR", str(settings.sandbox_dir))
    monkeypatch.setenv("TASKROUTER_SANDBOX_PORT", str(settings.sandbox_port))
    # no TASKROUTER_CALLBACK_PORT: each kernel's server takes a free port, as for a learner
    monkeypatch.delenv("TASKROUTER_CALLBACK_PORT", raising=False)
    monkeypatch.delenv("TASKROUTER_TUNNEL", raising=False)
    yield Kit(settings, tmp_path)
    process.stop(settings.sandbox_dir)
