"""What one check call from the room's sandbox to a learner's callback server tells us.

The learner's side knows whether its server could bind its port (a port taken is found
there, before any call); the sandbox's side sees what the network did with its call. Each
outcome gets the fix that fits it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

LOOPBACK_PREFIXES = ("127.", "localhost", "::1", "0.0.0.0")


def diagnose(url: str, status: int | None, error: str | None, timeout: float) -> dict[str, Any]:
    """``{"reachable", "status", "error", "cause", "fix"}`` for one call to ``url``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    if error is None and status is not None:
        return {"reachable": True, "status": status, "error": None, "cause": None, "fix": None}
    text = error or "no answer"
    if "timed out" in text or "no answer within" in text or "TimeoutError" in text:
        cause = "firewall"
        fix = (
            f"the call to {host}:{port} got no answer within {timeout:g} s: a firewall on your "
            f"machine (or the Wi-Fi's client isolation) drops it. Allow incoming TCP on port "
            f"{port} (e.g. `sudo ufw allow {port}/tcp`, or macOS: System Settings > Network > "
            "Firewall > allow Python), or ask the facilitator about the network"
        )
    elif "Refused" in text or "refused" in text:
        cause = "wrong_interface"
        fix = (
            f"{host} refused the connection on port {port}: nothing listens there. Start the "
            f"callback server on your network address (helpers.workshop.callback_server() "
            f"listens on it, not on 127.0.0.1), or check that port {port} is the one it uses"
        )
    elif host.startswith(LOOPBACK_PREFIXES):
        cause = "wrong_interface"
        fix = (
            f"{host} is a loopback address: the room's sandbox calls its own machine, not "
            "yours. Use helpers.workshop.expose(server), which gives your network address"
        )
    else:
        cause = "unreachable"
        fix = (
            f"{host} cannot be reached from the room's sandbox ({text}): check that your "
            "machine is on the room's network and that the address is yours"
        )
    return {"reachable": False, "status": None, "error": text, "cause": cause, "fix": fix}
