"""The TaskRouter event bridge, emulated: what the ``twilio-taskrouter`` JS SDK connects to.

``docs/event-bridge.md`` is the protocol, read from the SDK's source. Modules: ``tokens``
(the Access Token check), ``payloads`` (records in the bridge's shapes), ``hub`` (connections
and the store listener that feeds them), ``calls`` (the SDK's REST calls through the HTTP endpoint),
``server`` (the loopback WSGI server) and ``control`` (``/_sandbox/event-bridge``).

The server module imports Flask and simple-websocket; nothing here is loaded until a sandbox
process starts its bridge (:func:`start`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..app import Sandbox
    from .server import EventBridge


def start(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> EventBridge:
    """Serve the bridge for ``sandbox`` on ``host:port`` (0: any free port) in a thread."""
    from .server import EventBridge

    bridge = EventBridge(sandbox, host, port).start()
    sandbox.event_bridge = bridge
    return bridge
