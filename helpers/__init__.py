"""The TaskRouter Notebook Kit: the small facade the notebooks import.

import helpers
client = helpers.connect()      # twilio.rest.Client: the local sandbox unless TASKROUTER_MODE=live
server = helpers.CallbackServer({"instruction": "accept"}).start()   # re-run safe
url = helpers.expose(server)    # loopback in sandbox mode, an ngrok tunnel in live mode
helpers.point_workflow(client, workspace_sid, workflow_sid, server)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .client import connect
from .config import Settings, load_settings
from .errors import ConfigError, KitError, SandboxError

if TYPE_CHECKING:
    from .server import CallbackServer, CallbackServerError, point_workflow
    from .tunnel import TunnelError, close_tunnels, expose

# Imported on first use: Flask and pyngrok would otherwise slow down every
# `python -m helpers.sandbox` start, which imports this package too.
_LAZY = {
    "CallbackServer": ".server",
    "CallbackServerError": ".server",
    "point_workflow": ".server",
    "TunnelError": ".tunnel",
    "close_tunnels": ".tunnel",
    "expose": ".tunnel",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CallbackServer",
    "CallbackServerError",
    "ConfigError",
    "KitError",
    "SandboxError",
    "Settings",
    "TunnelError",
    "close_tunnels",
    "connect",
    "expose",
    "load_settings",
    "point_workflow",
]
