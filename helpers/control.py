"""The sandbox's control plane from a notebook: advance the clock, reset, read the debugger.

These have no Twilio equivalent. Each function says what it does in live mode instead:
``advance_clock`` waits in real time (keep live timeouts short), the others refuse with a
message that explains why.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .client import sandbox_credentials
from .config import Settings, load_settings
from .errors import KitError, SandboxError

if TYPE_CHECKING:
    from taskrouter_sandbox.control_client import ControlClient


def _control(settings: Settings) -> ControlClient:
    """The control-plane client of the running sandbox; it is not started from here."""
    from taskrouter_sandbox import control_client  # stdlib only; sandbox mode only

    if settings.seat:  # a workshop seat: the room's sandbox, as this seat
        from . import workshop

        return workshop.control(settings)
    url = control_client.running_url(settings.sandbox_dir.resolve())
    if url is None:
        raise SandboxError("The sandbox is not running",
                           "run helpers.connect() (it starts the sandbox) or "
                           "`python -m taskrouter_sandbox start`")  # fmt: skip
    creds = sandbox_credentials(settings)
    return control_client.ControlClient(url, creds.account_sid, creds.auth_token)


@contextlib.contextmanager
def _refusals_as_kit_errors() -> Iterator[None]:
    from taskrouter_sandbox.control_client import ControlError

    try:
        yield
    except ControlError as error:
        raise SandboxError(str(error)) from None


def _sandbox_only(settings: Settings, what: str) -> None:
    if settings.live:
        raise KitError(f"{what} exists only in the sandbox",
                       "Twilio has no control plane; in live mode use the Console's debugger "
                       "and delete the workspace to start over")  # fmt: skip


def advance_clock(seconds: float, settings: Settings | None = None) -> str:
    """Sandbox: jump the clock forward and fire every timer that falls due. Live: wait."""
    settings = settings or load_settings()
    if settings.live or settings.seat:  # a room's clock is the facilitator's (docs/workshop.md)
        who = "Live mode: Twilio's" if settings.live else "In a workshop, the room's"
        print(f"{who} clock cannot be advanced; waiting {seconds:g} s for real…")
        time.sleep(seconds)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with _refusals_as_kit_errors():
        return _control(settings).advance(seconds)


def reset_sandbox(settings: Settings | None = None) -> None:
    """Empty the sandbox: every workspace, task and event is gone (a workshop's fresh start)."""
    settings = settings or load_settings()
    _sandbox_only(settings, "Resetting")
    with _refusals_as_kit_errors():
        _control(settings).reset()


def sandbox_callbacks(
    workspace_sid: str | None = None, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """Recent outgoing callbacks with status, latency and debugger code (like the Console's)."""
    settings = settings or load_settings()
    _sandbox_only(settings, "The callback log")
    with _refusals_as_kit_errors():
        return _control(settings).callbacks(workspace_sid)


def sandbox_calls(settings: Settings | None = None) -> list[dict[str, Any]]:
    """The simulated calls made by dequeue/call/conference/redirect instructions."""
    settings = settings or load_settings()
    _sandbox_only(settings, "Simulated calls")
    with _refusals_as_kit_errors():
        return _control(settings).calls()


def end_call(call_sid: str, settings: Settings | None = None) -> dict[str, Any]:
    """Hang a simulated call up: the worker moves to the instruction's post-work activity."""
    settings = settings or load_settings()
    _sandbox_only(settings, "Simulated calls")
    with _refusals_as_kit_errors():
        return _control(settings).end_call(call_sid)
