"""pytest fixtures: test your own TaskRouter code against a real local sandbox.

Installing the package registers this plugin (a ``pytest11`` entry point), the way moto is
used for AWS. A test asks for the fixtures it needs::

    def test_my_router_assigns(taskrouter_client, taskrouter_sandbox):
        ws = taskrouter_client.taskrouter.v1.workspaces.create(friendly_name="t", template="FIFO")
        ...                                   # your code, using the real twilio SDK
        taskrouter_sandbox.advance(120)       # time passes: timeouts fire, no sleeping
        assert taskrouter_sandbox.callbacks(ws.sid)[-1]["status"] == 200

Fixtures:

``taskrouter_sandbox_process`` (session)
    one ``python -m taskrouter_sandbox serve`` on a free loopback port, with its own
    credentials and data dir, stopped at the end of the session (:class:`.SandboxProcess`).
``taskrouter_sandbox``
    the same sandbox, emptied (``/_sandbox/reset``) before the test: ``.url``,
    ``.account_sid``, ``.auth_token``, ``.client()``, ``.advance(seconds)``, ``.reset()``,
    ``.callbacks(workspace_sid)``, ``.control(method, path, form)``.
``taskrouter_client``
    a real ``twilio.rest.Client`` whose TaskRouter requests go to that sandbox.
``taskrouter_sandbox_in_process``
    a fresh sandbox in the test's own process (:class:`.InProcessSandbox`): the same HTTP
    server on a free loopback port in a thread, the same methods, no interpreter to start,
    and ``.app.core`` at hand. Nothing is shared between tests.

Callbacks the sandbox sends are signed with ``taskrouter_sandbox.auth_token``, so a callback
server validating ``X-Twilio-Signature`` with that token behaves as with Twilio.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twilio.rest import Client

from .testing import InProcessSandbox, SandboxProcess


@pytest.fixture(scope="session")
def taskrouter_sandbox_process(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SandboxProcess]:
    """One real sandbox process for the whole session (state persists between tests)."""
    sandbox = SandboxProcess(data_dir=tmp_path_factory.mktemp("taskrouter-sandbox")).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def taskrouter_sandbox(taskrouter_sandbox_process: SandboxProcess) -> SandboxProcess:
    """The session's sandbox, emptied: no state left (the clock keeps its offset)."""
    taskrouter_sandbox_process.reset()
    return taskrouter_sandbox_process


@pytest.fixture
def taskrouter_client(taskrouter_sandbox: SandboxProcess) -> Client:
    """A real ``twilio.rest.Client`` for the emptied sandbox."""
    return taskrouter_sandbox.client()


@pytest.fixture
def taskrouter_sandbox_in_process() -> Iterator[InProcessSandbox]:
    """A fresh sandbox in this process, closed after the test."""
    with InProcessSandbox.running() as sandbox:
        yield sandbox
