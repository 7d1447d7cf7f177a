"""The sandbox's control plane from a notebook: advance the clock, reset, read the debugger.

These have no Twilio equivalent. Each function says what it does in live mode instead:
``advance_clock`` waits in real time (keep live timeouts short), the others refuse with a
message that explains why.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .config import Settings, load_settings
from .errors import KitError, SandboxError
from .sandbox import process


def _call(settings: Settings, method: str, path: str, form: dict[str, str] | None = None) -> Any:
    url = process.running_url(settings.sandbox_dir)
    if url is None:
        raise SandboxError("The sandbox is not running",
                           "run helpers.connect() (it starts the sandbox) or "
                           "`python -m helpers.sandbox start`")  # fmt: skip
    creds = process.credentials(settings.sandbox_dir)
    token = base64.b64encode(f"{creds.account_sid}:{creds.auth_token}".encode()).decode()
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(
        f"{url}{path}",
        data=data,
        method=method,
        headers={
            "Authorization": f"Basic {token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")
        raise SandboxError(f"The sandbox refused {method} {path}: {body}") from None


def _sandbox_only(settings: Settings, what: str) -> None:
    if settings.live:
        raise KitError(f"{what} exists only in the sandbox",
                       "Twilio has no control plane; in live mode use the Console's debugger "
                       "and delete the workspace to start over")  # fmt: skip


def advance_clock(seconds: float, settings: Settings | None = None) -> str:
    """Sandbox: jump the clock forward and fire every timer that falls due. Live: wait."""
    settings = settings or load_settings()
    if settings.live:
        print(f"Live mode: Twilio's clock cannot be advanced; waiting {seconds:g} s for real…")
        time.sleep(seconds)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return str(_call(settings, "POST", "/_sandbox/clock", {"Advance": str(seconds)})["now"])


def reset_sandbox(settings: Settings | None = None) -> None:
    """Empty the sandbox: every workspace, task and event is gone (a workshop's fresh start)."""
    settings = settings or load_settings()
    _sandbox_only(settings, "Resetting")
    _call(settings, "POST", "/_sandbox/reset", {})


def sandbox_callbacks(workspace_sid: str | None = None, settings: Settings | None = None) -> list:
    """Recent outgoing callbacks with status, latency and debugger code (like the Console's)."""
    settings = settings or load_settings()
    _sandbox_only(settings, "The callback log")
    query = f"?WorkspaceSid={workspace_sid}" if workspace_sid else ""
    return list(_call(settings, "GET", f"/_sandbox/callbacks{query}")["callbacks"])


def sandbox_calls(settings: Settings | None = None) -> list:
    """The simulated calls made by dequeue/call/conference/redirect instructions."""
    settings = settings or load_settings()
    _sandbox_only(settings, "Simulated calls")
    return list(_call(settings, "GET", "/_sandbox/calls")["calls"])


def end_call(call_sid: str, settings: Settings | None = None) -> dict:
    """Hang a simulated call up: the worker moves to the instruction's post-work activity."""
    settings = settings or load_settings()
    _sandbox_only(settings, "Simulated calls")
    return dict(_call(settings, "POST", f"/_sandbox/calls/{call_sid}", {"Status": "completed"}))
