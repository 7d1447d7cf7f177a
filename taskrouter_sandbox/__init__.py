"""The kit's local TaskRouter: Twilio's v1 REST API, routing and callbacks, offline.

Run it with ``python -m taskrouter_sandbox serve|start|stop|status|reset``; embed it with
:func:`create_app` and :func:`~.server.make_server`.
"""

from __future__ import annotations

from .app import Sandbox, SandboxConfig, create_app

__all__ = ["Sandbox", "SandboxConfig", "create_app"]
