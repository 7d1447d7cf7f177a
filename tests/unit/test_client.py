"""connect(): the sandbox by default (auto-started), isolated from stray settings, or live."""

from __future__ import annotations

from pathlib import Path

import pytest
from twilio.rest import Client

import helpers
from helpers.client import SandboxHttpClient
from helpers.config import Settings, load_settings
from taskrouter_sandbox import process
from tests.support.sandbox import free_port


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(sandbox_dir=tmp_path / "auto", sandbox_port=free_port())


def test_connect_starts_the_sandbox_and_talks_to_it(settings: Settings) -> None:
    try:
        client = helpers.connect(settings)
        assert isinstance(client, Client)
        ws = client.taskrouter.v1.workspaces.create(friendly_name="Auto")
        assert ws.sid.startswith("WS")
        again = helpers.connect(settings)  # reuses the running one
        assert again.taskrouter.v1.workspaces(ws.sid).fetch().friendly_name == "Auto"
    finally:
        process.stop(settings.sandbox_dir)


def test_stray_region_edge_and_proxy_are_ignored(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    try:
        client = helpers.connect(settings)
        assert client.region is None and client.edge is None
        assert client.taskrouter.v1.workspaces.list() == []
    finally:
        process.stop(settings.sandbox_dir)


def test_other_twilio_hosts_are_refused() -> None:
    http = SandboxHttpClient("http://127.0.0.1:1")
    with pytest.raises(helpers.SandboxError, match="only emulates TaskRouter"):
        http.request("GET", "https://api.twilio.com/2010-04-01/Accounts.json")
    assert http.local_url("https://taskrouter.dublin.ie1.twilio.com/v1/Workspaces?x=1") == (
        "http://127.0.0.1:1/v1/Workspaces?x=1"
    )


AC = "AC" + "0" * 32


@pytest.mark.parametrize(
    "url",
    [
        f"https://api.twilio.com/2010-04-01/Accounts/{AC}/Calls.json",
        f"https://api.twilio.com/2010-04-01/Accounts/{AC}/Calls/CA{'1' * 32}.json",
        f"https://api.twilio.com/2010-04-01/Accounts/{AC}/IncomingPhoneNumbers.json?PageSize=5",
        f"https://api.twilio.com/2010-04-01/Accounts/{AC}/IncomingPhoneNumbers/PN{'2' * 32}.json",
    ],
)
def test_the_voice_resources_go_to_the_sandbox(url: str) -> None:
    http = SandboxHttpClient("http://127.0.0.1:1")
    assert http.local_url(url) == "http://127.0.0.1:1" + url.removeprefix("https://api.twilio.com")


@pytest.mark.parametrize(
    "url",
    [
        f"https://api.twilio.com/2010-04-01/Accounts/{AC}/Messages.json",
        f"https://api.twilio.com/2010-04-01/Accounts/{AC}/Queues.json",
        f"https://api.twilio.com/2010-04-01/Accounts/{AC}/Calls/CA{'1' * 32}/Recordings.json",
        f"https://api.twilio.com/2010-04-01/Accounts/{AC}.json",
        f"https://api.twilio.com/2010-04-01/Accounts/{AC}/Calls.json/../Messages.json",
        f"https://voice.twilio.com/v1/Accounts/{AC}/Calls.json",
        "https://studio.twilio.com/v2/Flows",
    ],
)
def test_everything_else_of_twilio_is_still_refused(url: str) -> None:
    with pytest.raises(helpers.SandboxError, match="only emulates TaskRouter"):
        SandboxHttpClient("http://127.0.0.1:1").local_url(url)


def test_live_mode_needs_credentials(tmp_path: Path) -> None:
    empty = tmp_path / ".env"
    empty.write_text("")
    with pytest.raises(helpers.ConfigError, match="TWILIO_AUTH_TOKEN") as info:
        load_settings(
            env={"TASKROUTER_MODE": "live", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32},
            dotenv_path=empty,
        )
    assert ".env" in info.value.hint


def test_live_mode_from_dotenv_and_masked_repr(tmp_path: Path) -> None:
    token = "f00dfeedcafe0123456789abcdef0123"
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"TASKROUTER_MODE=live\nTWILIO_ACCOUNT_SID=AC{'2' * 32}\n"
        f"TWILIO_AUTH_TOKEN={token}\nNGROK_AUTHTOKEN=ngrok-secret-token-123\n"
    )
    settings = load_settings(env={}, dotenv_path=dotenv)
    assert settings.live and settings.auth_token == token
    for text in (repr(settings), str(settings), f"{settings}"):
        assert token not in text and "ngrok-secret-token-123" not in text
    client = helpers.connect(settings)
    assert client.username == "AC" + "2" * 32  # a plain Client for Twilio; no request is made


def test_environment_beats_dotenv_and_bad_values_explain_themselves(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("TASKROUTER_SANDBOX_PORT=9999\n")
    assert (
        load_settings(env={"TASKROUTER_SANDBOX_PORT": "8123"}, dotenv_path=dotenv).sandbox_port
        == 8123
    )
    with pytest.raises(helpers.ConfigError, match="TASKROUTER_MODE"):
        load_settings(env={"TASKROUTER_MODE": "production"}, dotenv_path=dotenv)
    with pytest.raises(helpers.ConfigError, match="port"):
        load_settings(env={"TASKROUTER_SANDBOX_PORT": "http"}, dotenv_path=dotenv)


def test_every_sandbox_client_shares_one_http_client_class() -> None:
    """``helpers.client.SandboxHttpClient`` is built lazily (``import helpers`` loads no sandbox
    module); it must still be one class, or ``isinstance`` checks fail across connect() calls."""
    from helpers import client as kit_client

    first = kit_client.__getattr__("SandboxHttpClient")
    assert kit_client.__getattr__("SandboxHttpClient") is first
    assert kit_client.SandboxHttpClient is first
