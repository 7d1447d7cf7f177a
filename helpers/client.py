"""``connect()``: a real ``twilio.rest.Client`` for live mode or for the local sandbox.

In sandbox mode the client's requests go through :mod:`taskrouter_sandbox.sdk`'s adapter
(TaskRouter to the sandbox's loopback URL, any other Twilio host refused). The kit never
imports the sandbox on import: it finds a running one through the files it keeps in its data
dir (``taskrouter_sandbox.control_client``) and imports ``taskrouter_sandbox.process`` only to
start one.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import TYPE_CHECKING, Any

from twilio.rest import Client

from .config import Settings, SettingsOverrides, load_settings
from .errors import SandboxError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from taskrouter_sandbox.control_client import Credentials

ISOLATED_ENV = {"TWILIO_NO_ENV": "1"}  # non-empty on purpose: {} falls back to os.environ


@functools.cache  # one class: isinstance() checks must hold across connect() calls
def _kit_http_client() -> type:
    """The sandbox's SDK adapter, refusing other Twilio APIs with the kit's error and fix."""
    from taskrouter_sandbox.sdk import SandboxHttpClient as Adapter

    class SandboxHttpClient(Adapter):
        def other_api_error(self, host: str) -> Exception:
            return SandboxError(
                "The sandbox only emulates TaskRouter (and Calls, IncomingPhoneNumbers), "
                f"not {host}",
                "use live mode (TASKROUTER_MODE=live) for other Twilio APIs",
            )

    return SandboxHttpClient


def __getattr__(name: str) -> Any:
    # `helpers.client.SandboxHttpClient`, built on first use so `import helpers` loads no module
    # of taskrouter_sandbox (the kit reaches the sandbox over HTTP only).
    if name != "SandboxHttpClient":
        raise AttributeError(f"module 'helpers.client' has no attribute {name!r}")
    value = globals()[name] = _kit_http_client()
    return value


def talks_to_sandbox(client: Client) -> bool:
    """True for a client whose requests go to a sandbox (the kit's or the pytest plugin's)."""
    sdk = sys.modules.get("taskrouter_sandbox.sdk")  # not loaded: no client can be one
    return sdk is not None and isinstance(client.http_client, sdk.SandboxHttpClient)


def sandbox_url(settings: Settings) -> str:
    """The running sandbox's URL, starting the background one when none answers.

    A running sandbox is found through the files it keeps in its data dir and its health
    check, without loading the server. Only to start one is ``taskrouter_sandbox.process``
    imported (what ``python -m taskrouter_sandbox start`` runs, without a second interpreter's
    ~0.4 s).
    """
    from taskrouter_sandbox import control_client  # stdlib only; sandbox mode only

    if settings.seat:  # a workshop seat: the room's sandbox, never a local one
        from .workshop import room_url

        return room_url(settings)
    data_dir = settings.sandbox_dir.resolve()
    url = control_client.running_url(data_dir)
    if url is not None:
        return url
    from taskrouter_sandbox import process

    try:
        return process.start(data_dir, settings.sandbox_host, settings.sandbox_port)
    except process.SandboxProcessError as error:
        raise SandboxError(
            str(error),
            "run `python -m taskrouter_sandbox start` in a terminal to see why, or set "
            "TASKROUTER_SANDBOX_PORT to a free port",
        ) from None


def sandbox_credentials(settings: Settings) -> Credentials:
    """The sandbox's account SID and token, kept in its data dir (it makes them on first start)."""
    from taskrouter_sandbox import control_client

    if settings.seat:  # a workshop seat: its own account in the room's sandbox
        from .workshop import seat_credentials

        return seat_credentials(settings)
    data_dir = settings.sandbox_dir.resolve()
    try:
        creds = control_client.read_credentials(data_dir)
        if creds is None:
            sandbox_url(settings)
            creds = control_client.read_credentials(data_dir)
    except control_client.ControlError as error:
        message, _, hint = str(error).partition("\n  How to fix: ")
        raise SandboxError(message, hint) from None
    if creds is None:
        raise SandboxError(
            f"The sandbox left no credentials in {data_dir}",
            "run `python -m taskrouter_sandbox start` in a terminal to see why",
        )
    return creds


def connect(settings: Settings | None = None, **overrides: Unpack[SettingsOverrides]) -> Client:
    """A ``twilio.rest.Client`` for the current mode (sandbox unless configured for live)."""
    settings = settings or load_settings(**overrides)
    if settings.live:
        return Client(settings.account_sid, settings.auth_token)
    url = sandbox_url(settings)
    creds = sandbox_credentials(settings)
    client = Client(
        creds.account_sid,
        creds.auth_token,
        http_client=__getattr__("SandboxHttpClient")(url),
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
    if talks_to_sandbox(client):
        return str(client.http_client.target)
    return "https://taskrouter.twilio.com"
