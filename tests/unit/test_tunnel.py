"""expose() with pyngrok 9.1 driving the fake ngrok agent (tests/fakes/ngrok): real tunnels
over loopback, the sandbox calling through them, the agent's failures turned into the kit's
advice, tunnel reuse, and a previous kernel's orphaned agent being stopped. No internet."""

from __future__ import annotations

import _thread
import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyngrok import conf, process
from twilio.rest import Client

import helpers
from helpers import tunnel
from helpers.config import Settings
from tests.support.sandbox import SandboxProcess, free_port
from tests.unit.test_callback_server import Scenario, until

FAKE_NGROK = Path(__file__).resolve().parents[1] / "fakes" / "ngrok"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The fake agent, a private ngrok config and state dir; nothing left running after."""
    monkeypatch.setenv("PYNGROK_NGROK_PATH", str(FAKE_NGROK))
    monkeypatch.setenv("TASKROUTER_NGROK_CONFIG", str(tmp_path / "ngrok" / "ngrok.yml"))
    for knob in ("FAKE_NGROK_ERROR", "FAKE_NGROK_SILENT", "FAKE_NGROK_NO_WATCHDOG"):
        monkeypatch.delenv(knob, raising=False)
    yield helpers.load_settings(
        dotenv_path=tmp_path / "no.env",
        sandbox_dir=tmp_path / "state",
        ngrok_authtoken="fake-token",
    )
    helpers.close_tunnels()
    until(lambda: not running_agents(), 5, "fake agents to exit")


@pytest.fixture
def server(sandbox: SandboxProcess) -> Iterator[helpers.CallbackServer]:
    srv = helpers.CallbackServer(port=0, auth_token=sandbox.auth_token).start()
    yield srv
    srv.stop()


def running_agents() -> list[int]:
    """Live (non-zombie) fake agents started by this test process."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if (
            fields[0] != "Z"
            and int(fields[1]) == os.getpid()
            and str(FAKE_NGROK).encode() in cmdline
        ):
            found.append(int(stat.parent.name))
    return found


def agent_endpoints() -> list[dict]:
    agent = process._current_processes[str(FAKE_NGROK)]
    with urllib.request.urlopen(f"{agent.api_url}/api/endpoints", timeout=5) as response:
        return list(json.loads(response.read())["endpoints"])


def spawn_agent(**env: str) -> subprocess.Popen:
    """An agent as a previous kernel would have left it: own session, still running."""
    agent = subprocess.Popen(
        [str(FAKE_NGROK), "start", "--none", "--log", "stdout", "--authtoken", "old"],
        stdout=subprocess.PIPE, text=True, start_new_session=True, env={**os.environ, **env},
    )  # fmt: skip
    assert agent.stdout is not None
    while "tunnel session started" not in agent.stdout.readline():
        pass
    return agent


def dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


def test_sandbox_mode_gives_the_loopback_url(settings: Settings) -> None:
    with helpers.CallbackServer(port=0, verify_signatures=False) as server:
        assert helpers.expose(server, settings=settings) == server.url
        assert server.public_url == server.url and not running_agents()
    with pytest.raises(helpers.TunnelError, match="Nothing is listening") as info:
        helpers.expose(free_port(), settings=settings)
    assert "CallbackServer().start()" in info.value.hint


def test_a_callback_through_the_tunnel_validates_against_the_public_url(
    settings: Settings, server: helpers.CallbackServer, client: Client
) -> None:
    url = helpers.expose(server.port, tunnel=True, settings=settings)  # found by its port
    assert url.startswith("http://localhost:") and url != server.url
    assert server.public_url == url and server.assignment_url == f"{url}/assignment_callback"
    scenario = Scenario.build(client)
    helpers.point_workflow(client, scenario.workspace_sid, scenario.workflow_sid, server)
    task = scenario.task(selected_language="en")
    scenario.set_activity("Idle")
    until(lambda: scenario.task_status(task) == "assigned", what="the task to be assigned")
    record = server.assignments[-1]
    # the fake rewrites Host to the upstream, so only the public URL can match the signature
    assert (record.signature, record.url) == ("valid", f"{url}/assignment_callback")

    helpers.close_tunnels()
    assert server.public_url is None and server.assignment_url.startswith(server.url)


def test_the_ngrok_settings_in_the_kits_dotenv_are_used(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """PYNGROK_NGROK_PATH, TASKROUTER_NGROK_CONFIG and TASKROUTER_TUNNEL from ``.env`` alone."""
    kit = tmp_path / "kit"
    kit.mkdir()
    config_path = tmp_path / "from-dotenv" / "ngrok.yml"
    (kit / ".env").write_text(
        f"PYNGROK_NGROK_PATH={FAKE_NGROK}\nTASKROUTER_NGROK_CONFIG={config_path}\n"
        "TASKROUTER_TUNNEL=1\nNGROK_AUTHTOKEN=fake-token\n"
    )
    for name in ("PYNGROK_NGROK_PATH", "TASKROUTER_NGROK_CONFIG", "TASKROUTER_TUNNEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(helpers.config, "KIT_ROOT", kit)
    with helpers.CallbackServer(port=0, verify_signatures=False) as server:
        url = helpers.expose(server)  # no settings, no tunnel=True: .env says both
        assert url.startswith("http://localhost:") and running_agents()
        assert config_path.exists()  # pyngrok wrote the config where .env said
        assert (kit / ".sandbox" / tunnel.STATE_FILE).exists()
    helpers.close_tunnels()


def test_exposing_the_same_port_again_reuses_the_tunnel(settings: Settings) -> None:
    before = threading.active_count()
    with helpers.CallbackServer(port=0, verify_signatures=False) as server:
        first = helpers.expose(server, tunnel=True, settings=settings)
        pids = running_agents()
        for _ in range(3):  # the cell, re-run
            assert helpers.expose(server, tunnel=True, settings=settings) == first
        assert len(agent_endpoints()) == 1 and running_agents() == pids
        with helpers.CallbackServer(port=0, verify_signatures=False) as other:
            assert helpers.expose(other, tunnel=True, settings=settings) != first
            assert len(agent_endpoints()) == 2 and running_agents() == pids
    helpers.close_tunnels()
    assert not running_agents() and not process.is_process_running(str(FAKE_NGROK))
    until(lambda: threading.active_count() <= before, 10, "pyngrok's monitor thread to end")


def test_a_stable_domain_is_requested(settings: Settings) -> None:
    domain = dataclasses.replace(settings, ngrok_domain="kit-test.ngrok-free.dev")
    with helpers.CallbackServer(port=0, verify_signatures=False) as server:
        assert helpers.expose(server, tunnel=True, settings=domain) == (
            "https://kit-test.ngrok-free.dev"
        )


@pytest.mark.parametrize(
    ("knob", "message", "hint"),
    [
        ({}, "ERR_NGROK_4018", "NGROK_AUTHTOKEN"),
        ({"FAKE_NGROK_ERROR": "ERR_NGROK_108"}, "ERR_NGROK_108", "close_tunnels()"),
        ({"FAKE_NGROK_SILENT": "1"}, "did not get ready within 1 s", "internet"),
    ],
    ids=["no-authtoken", "too-many-sessions", "silent-agent"],
)
def test_agent_failures_become_the_kits_advice(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, knob: dict, message: str, hint: str
) -> None:
    for name, value in knob.items():
        monkeypatch.setenv(name, value)
    if not knob:  # no authtoken anywhere
        settings = settings.replace(ngrok_authtoken=None)
        monkeypatch.delenv("NGROK_AUTHTOKEN", raising=False)
        monkeypatch.setattr(conf.get_default(), "auth_token", None)
    before = threading.active_count()
    with helpers.CallbackServer(port=0, verify_signatures=False) as server:
        started = time.monotonic()
        with pytest.raises(helpers.TunnelError, match=message) as info:
            helpers.expose(server, tunnel=True, settings=settings, timeout=1)
        assert time.monotonic() - started < 6  # the 1 s timeout, with room for a busy machine
        assert hint in info.value.hint and server.public_url is None
    until(lambda: not running_agents(), 10, "the failed agent to be gone")
    until(lambda: threading.active_count() <= before, 10, "pyngrok's threads to end")
    assert not process.is_process_running(str(FAKE_NGROK))


def test_interrupting_expose_leaves_no_agent_or_thread(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NGROK_SILENT", "1")  # so expose() is still waiting when Ctrl-C hits
    before = sorted(t.name for t in threading.enumerate())
    with helpers.CallbackServer(port=0, verify_signatures=False) as server:
        timer = threading.Timer(0.5, _thread.interrupt_main)
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            helpers.expose(server, tunnel=True, settings=settings, timeout=10)
        timer.join()
        assert server.public_url is None
    until(lambda: not running_agents(), 10, "the half-started agent to be gone")
    until(lambda: sorted(t.name for t in threading.enumerate()) == before, 10, "threads to end")
    assert not process.is_process_running(str(FAKE_NGROK))


def test_no_binary_and_no_network_says_how_to_install(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "bin" / "ngrok"
    monkeypatch.setenv("PYNGROK_NGROK_PATH", str(missing))
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # a closed port: the download fails
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(urllib.request, "_opener", None)  # re-read the proxy settings
    with (
        helpers.CallbackServer(port=0, verify_signatures=False) as server,
        pytest.raises(helpers.TunnelError, match="not installed") as info,
    ):
        helpers.expose(server, tunnel=True, settings=helpers.load_settings(
            dotenv_path=tmp_path / "no.env", sandbox_dir=settings.sandbox_dir))  # fmt: skip
    assert "PYNGROK_NGROK_PATH" in info.value.hint and not missing.exists()


def test_a_previous_kernels_agent_is_stopped_and_only_that_one(settings: Settings) -> None:
    orphan = spawn_agent()  # its kernel is gone
    neighbour = spawn_agent()  # another notebook's kernel is still alive
    stranger = subprocess.Popen(["sleep", "30"])  # a recorded pid now reused by a non-ngrok
    state = settings.sandbox_dir / tunnel.STATE_FILE
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps([
        {"pid": orphan.pid, "kernel_pid": dead_pid()},
        {"pid": neighbour.pid, "kernel_pid": os.getppid()},
        {"pid": stranger.pid, "kernel_pid": dead_pid()},
    ]))  # fmt: skip
    try:
        with helpers.CallbackServer(port=0, verify_signatures=False) as server:
            helpers.expose(server, tunnel=True, settings=settings)
            assert orphan.wait(5) is not None
            assert neighbour.poll() is None and stranger.poll() is None
            ours = process._current_processes[str(FAKE_NGROK)].proc.pid
            recorded = {e["pid"]: e["kernel_pid"] for e in json.loads(state.read_text())}
            assert recorded == {neighbour.pid: os.getppid(), ours: os.getpid()}
            helpers.close_tunnels()
            assert [e["pid"] for e in json.loads(state.read_text())] == [neighbour.pid]
    finally:
        for leftover in (orphan, neighbour, stranger):
            leftover.kill()
            leftover.wait()
