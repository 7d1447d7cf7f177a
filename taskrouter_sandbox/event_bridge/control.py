"""The bridge's part of the control plane (``/_sandbox/event-bridge``), for the kit and tests.

``GET /_sandbox/event-bridge``: the ``ebServer``/``wsServer`` URLs to give the SDK's
``Worker`` options, and how many connections each worker has.
``POST /_sandbox/event-bridge/drop`` (``WorkerSid`` optional): end those WebSockets now, as a
network drop would; the SDK reconnects with backoff and re-initialises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..api_errors import ApiError
from ..router import Context, Response, Routes, ok

if TYPE_CHECKING:
    from .server import EventBridge

routes = Routes()


def _bridge(ctx: Context) -> EventBridge:
    bridge = ctx.sandbox.event_bridge
    if bridge is None:
        raise ApiError("This sandbox runs without an event bridge (start it with "
                       "`python -m taskrouter_sandbox serve`)", code=20404, status=404)  # fmt: skip
    return bridge


@routes.get("/_sandbox/event-bridge")
def describe(ctx: Context) -> Response:
    bridge = _bridge(ctx)
    return ok({"eb_server": bridge.eb_server, "ws_server": bridge.ws_server,
               "connections": bridge.hub.connected()})  # fmt: skip


@routes.post("/_sandbox/event-bridge/drop")
def drop(ctx: Context) -> Response:
    worker_sid = ctx.params.text("WorkerSid")
    return ok({"dropped": _bridge(ctx).hub.drop(worker_sid)})
