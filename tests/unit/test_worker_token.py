"""helpers.worker_token: the twilio SDK's AccessToken + TaskRouterGrant, signed per mode."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from twilio.rest import Client

import helpers
from helpers import config
from helpers.errors import ConfigError, KitError

LIVE_ACCOUNT = "AC" + "1" * 32
QS = helpers.Quickstart("WS" + "2" * 32, "WW" + "3" * 32, workers={"Alice": "WK" + "4" * 32})


def test_sandbox_token_is_signed_with_the_sandbox_account(client, sandbox) -> None:
    qs = helpers.ensure_quickstart(client)
    token = helpers.worker_token(client, qs, "Alice", ttl=600)
    claims = jwt.decode(token, sandbox.auth_token, algorithms=["HS256"])
    assert claims["iss"] == claims["sub"] == sandbox.account_sid
    grant = {"workspace_sid": qs.workspace_sid, "worker_sid": qs.workers["Alice"], "role": "worker"}
    assert claims["grants"]["task_router"] == grant
    assert claims["exp"] - claims["nbf"] == 600
    assert jwt.get_unverified_header(token)["cty"] == "twilio-fpa;v=1"


def test_live_token_needs_an_api_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(config, "KIT_ROOT", tmp_path)  # a kit without .env
    monkeypatch.delenv("TWILIO_API_KEY", raising=False)
    monkeypatch.delenv("TWILIO_API_SECRET", raising=False)
    with pytest.raises(ConfigError, match="TWILIO_API_KEY") as refused:
        helpers.worker_token(Client(LIVE_ACCOUNT, "live-token"), QS)
    assert "How to fix" in str(refused.value)
    monkeypatch.setenv("TWILIO_API_KEY", LIVE_ACCOUNT)
    monkeypatch.setenv("TWILIO_API_SECRET", "s" * 32)
    with pytest.raises(ConfigError, match="starting with SK"):
        helpers.worker_token(Client(LIVE_ACCOUNT, "live-token"), QS)
    monkeypatch.setenv("TWILIO_API_KEY", "SK" + "x" * 32)  # copied from .env.example
    with pytest.raises(ConfigError, match="placeholder"):
        helpers.worker_token(Client(LIVE_ACCOUNT, "live-token"), QS)


def test_live_token_is_signed_with_the_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_API_KEY", "SK" + "5" * 32)
    monkeypatch.setenv("TWILIO_API_SECRET", "s" * 32)
    token = helpers.worker_token(Client(LIVE_ACCOUNT, "live-token"), QS)
    claims = jwt.decode(token, "s" * 32, algorithms=["HS256"])
    assert claims["iss"] == "SK" + "5" * 32 and claims["sub"] == LIVE_ACCOUNT
    assert helpers.worker_options(Client(LIVE_ACCOUNT, "live-token")) == {}  # Twilio's defaults


def test_an_unknown_worker_says_who_exists() -> None:
    with pytest.raises(KitError, match="Alice"):
        helpers.worker_token(Client(LIVE_ACCOUNT, "live-token"), QS, "Carol")
