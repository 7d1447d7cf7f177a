"""A local TaskRouter: Twilio's v1 REST API, routing and signed callbacks, offline.

Run it with ``python -m taskrouter_sandbox serve|start|stop|status|reset`` (``--help`` lists the
options); drive its clock and read its debugger with :mod:`.control_client`; test your own code
against it with the pytest plugin (:mod:`.pytest_plugin`); embed it with :func:`create_app`
and :func:`~.http_server.make_server`.

This package never imports the notebook kit's ``helpers``. Its server modules are imported on
first use, so ``taskrouter_sandbox.control_client`` stays cheap for callers that only talk to a
running sandbox.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import Sandbox, SandboxConfig, create_app

__all__ = ["Sandbox", "SandboxConfig", "create_app"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'taskrouter_sandbox' has no attribute {name!r}")
    value = getattr(importlib.import_module(".app", __name__), name)
    globals()[name] = value
    return value
