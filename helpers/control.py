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
    """The simulated calls: callers' inbound calls (with what they heard, ``log``) and the
    worker legs that dequeue/call/conference instructions rang."""
    settings = settings or load_settings()
    _sandbox_only(settings, "Simulated calls")
    with _refusals_as_kit_errors():
        return _control(settings).calls()


def end_call(call_sid: str, settings: Settings | None = None) -> dict[str, Any]:
    """Hang a simulated call up: a queued caller's task is canceled (reason ``hangup``); a
    bridged call ends on both sides and the worker moves to the post-work activity."""
    settings = settings or load_settings()
    _sandbox_only(settings, "Simulated calls")
    with _refusals_as_kit_errors():
        return _control(settings).end_call(call_sid)


def _no_simulated_caller(settings: Settings) -> None:
    if settings.live:
        raise KitError("In live mode there is no simulated caller",
                       "call your Twilio number from a phone (client.incoming_phone_numbers."
                       "list() shows it) and press the digits yourself")  # fmt: skip


def call_in(
    caller: str = "+15551230000", to: str | None = None, settings: Settings | None = None
) -> dict[str, Any]:
    """A simulated caller dials your number (default: the account's first): the sandbox POSTs
    the signed voice webhook to its ``voice_url`` and runs the TwiML your app returns until it
    waits (``waiting_for``: ``gather`` or ``enqueue``) or ends. ``log`` is what was heard."""
    settings = settings or load_settings()
    _no_simulated_caller(settings)
    with _refusals_as_kit_errors():
        return _control(settings).dial(caller, to)


def press_digits(call_sid: str, digits: str, settings: Settings | None = None) -> dict[str, Any]:
    """The caller presses ``digits`` while a ``<Gather>`` waits; they are POSTed as ``Digits``
    to its ``action``. Empty digits: no input (the TwiML goes on after the ``<Gather>``)."""
    settings = settings or load_settings()
    _no_simulated_caller(settings)
    with _refusals_as_kit_errors():
        return _control(settings).press(call_sid, digits)


def set_phone(number: str, answer_after: float | str = 0, settings: Settings | None = None) -> None:
    """How a phone the sandbox rings (a worker's ``contact_uri``) answers: after
    ``answer_after`` seconds on the sandbox clock, ``"never"`` (no-answer) or ``"busy"``."""
    settings = settings or load_settings()
    _sandbox_only(settings, "Simulated phones")
    with _refusals_as_kit_errors():
        _control(settings).set_phone(number, answer_after)
