"""A worker's Access Token for the TaskRouter JS SDK, and where the SDK should connect.

The token is made exactly as in Twilio's docs, with the ``twilio`` SDK::

    token = AccessToken(account_sid, signing_key_sid, signing_key_secret, identity="Alice")
    token.add_grant(TaskRouterGrant(workspace_sid=..., worker_sid=..., role="worker"))
    token.to_jwt()

Only the signing key differs by mode. Live: an API key (``TWILIO_API_KEY`` = ``SK…`` and
``TWILIO_API_SECRET``, made in the Console under Account › API keys), as Twilio requires.
Sandbox: it has no Keys resource, so the account's own SID and auth token sign (the sandbox's
event bridge checks them; docs/event-bridge.md).
"""

from __future__ import annotations

from typing import Any

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import TaskRouterGrant
from twilio.rest import Client

from .client import talks_to_sandbox
from .config import Settings, is_placeholder, read_settings
from .errors import ConfigError, KitError, UsageError
from .quickstart import Quickstart

DEFAULT_TTL = 3600  # seconds; the SDK emits tokenExpired 5 s before the end


def api_key(settings: Settings | None = None) -> tuple[str, str]:
    """``(TWILIO_API_KEY, TWILIO_API_SECRET)`` from the settings (environment or ``.env``)."""
    settings = settings or read_settings()
    key, secret = settings.api_key, settings.api_secret
    if not key or not secret:
        raise ConfigError(
            "A worker token in live mode needs an API key: TWILIO_API_KEY and TWILIO_API_SECRET",
            "create a Standard API key in the Twilio Console (Account > API keys & tokens) and "
            "put its SID (SK...) and secret in the kit's .env file",
        )
    if is_placeholder(key) or is_placeholder(secret):
        raise ConfigError("TWILIO_API_KEY or TWILIO_API_SECRET still holds the placeholder "
                          "from .env.example",
                          "put your API key's SID (SK...) and secret from the Twilio Console "
                          "in the kit's .env file")  # fmt: skip
    if not key.startswith("SK"):
        raise ConfigError("TWILIO_API_KEY must be an API key SID starting with SK",
                          "copy the key's SID, not the account SID, from the Console")  # fmt: skip
    return key, secret


def worker_token(
    client: Client, qs: Quickstart, name: str = "Alice", *, ttl: int = DEFAULT_TTL
) -> str:
    """The Access Token (JWT) with which the JS SDK's ``Worker`` connects as ``name``."""
    worker_sid = qs.workers.get(name)
    if worker_sid is None:
        raise UsageError(f"No worker named {name!r} in this workspace",
                       f"use one of {sorted(qs.workers)}")  # fmt: skip
    account_sid = str(client.account_sid)
    if talks_to_sandbox(client):
        key_sid, secret = account_sid, str(client.password)
    else:
        key_sid, secret = api_key()
    token = AccessToken(account_sid, key_sid, secret, identity=name, ttl=ttl)
    token.add_grant(
        TaskRouterGrant(workspace_sid=qs.workspace_sid, worker_sid=worker_sid, role="worker")
    )
    return str(token.to_jwt())


def worker_options(client: Client) -> dict[str, Any]:
    """The ``Worker`` options for this mode: the sandbox's bridge, or ``{}`` (Twilio's own)."""
    if not talks_to_sandbox(client):
        return {}
    from taskrouter_sandbox.control_client import ControlClient, ControlError

    control = ControlClient(client.http_client.target, str(client.account_sid),
                            str(client.password), timeout=10)  # fmt: skip
    try:
        urls = control.call("GET", "/_sandbox/event-bridge")
    except ControlError as error:
        raise KitError(
            f"The sandbox's event bridge cannot be reached: {error}",
            "restart the sandbox (`python -m taskrouter_sandbox stop`, then helpers.connect()): "
            "a sandbox started by an older kit has no bridge",
        ) from None
    return {"ebServer": urls["eb_server"], "wsServer": urls["ws_server"]}
