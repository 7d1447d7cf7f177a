"""``connect()``: a real ``twilio.rest.Client`` for live mode or for the local sandbox.

In sandbox mode every TaskRouter request is rewritten to the sandbox's loopback URL by a
``TwilioHttpClient`` subclass, after the SDK has applied region/edge, so stray
``TWILIO_REGION``/``TWILIO_EDGE`` or proxy variables cannot send it elsewhere; any other
Twilio host is refused, so nothing reaches the real API by accident.
"""

from __future__ import annotations

import os
import urllib.parse
from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .config import Settings, load_settings
from .errors import SandboxError
from .sandbox import process

ISOLATED_ENV = {"TWILIO_NO_ENV": "1"}  # non-empty on purpose: {} falls back to os.environ


class SandboxHttpClient(TwilioHttpClient):
    """Sends TaskRouter requests to the sandbox at ``target``; refuses other Twilio APIs."""

    def __init__(self, target: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target.rstrip("/")
        if self.session is not None:
            self.session.trust_env = False  # HTTP(S)_PROXY must not capture loopback traffic

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(method, self.local_url(url), *args, **kwargs)

    def local_url(self, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if host == "twilio.com" or host.endswith(".twilio.com"):
            if not host.startswith("taskrouter."):
                raise SandboxError(
                    f"The sandbox only emulates TaskRouter, not {host}",
                    "use live mode (TASKROUTER_MODE=live) for other Twilio APIs",
                )
            target = urllib.parse.urlsplit(self.target)
            return urllib.parse.urlunsplit(
                (target.scheme, target.netloc, parts.path, parts.query, parts.fragment)
            )
        return url


def sandbox_url(settings: Settings) -> str:
    """The running sandbox's URL, starting the background one when none answers."""
    try:
        return process.start(settings.sandbox_dir, settings.sandbox_host, settings.sandbox_port)
    except process.SandboxProcessError as error:
        raise SandboxError(
            str(error),
            "run `python -m helpers.sandbox start` in a terminal to see why, or set "
            "TASKROUTER_SANDBOX_PORT to a free port",
        ) from None


def connect(settings: Settings | None = None, **overrides: Any) -> Client:
    """A ``twilio.rest.Client`` for the current mode (sandbox unless configured for live)."""
    settings = settings or load_settings(**overrides)
    if settings.live:
        return Client(settings.account_sid, settings.auth_token)
    url = sandbox_url(settings)
    creds = process.credentials(settings.sandbox_dir)
    client = Client(
        creds.account_sid,
        creds.auth_token,
        http_client=SandboxHttpClient(url),
        environment=ISOLATED_ENV,
    )
    return client


def curl_credentials(client: Client) -> str:
    """Put the client's account sid and token in this kernel's environment for the shell, and
    return the TaskRouter base URL, so a notebook can show the REST call with curl:

    ``!curl -u "$$TWILIO_ACCOUNT_SID:$$TWILIO_AUTH_TOKEN" {api}/v1/Workspaces``

    (``$$`` passes a literal ``$`` to the shell: the token is expanded there, never shown.)
    """
    os.environ["TWILIO_ACCOUNT_SID"] = str(client.username)
    os.environ["TWILIO_AUTH_TOKEN"] = str(client.password)
    if isinstance(client.http_client, SandboxHttpClient):
        return client.http_client.target
    return "https://taskrouter.twilio.com"
