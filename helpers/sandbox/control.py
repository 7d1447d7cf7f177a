"""The control plane under ``/_sandbox/``: what Twilio has no API for.

``health`` (no auth), ``clock`` (advance time and fire what falls due), ``reset`` (empty all
state) and ``callbacks`` (recent outgoing callbacks, like the Console's debugger).
"""

from __future__ import annotations

from . import wire
from .errors import BadRequest
from .router import Context, Response, Routes, ok

routes = Routes()
MAX_ADVANCE = 400 * 86_400


@routes.get("/_sandbox/health")
def health(ctx: Context) -> Response:
    return ok({"status": "ok"})


@routes.post("/_sandbox/clock")
def advance_clock(ctx: Context) -> Response:
    seconds = ctx.params.str("Advance", required=True)
    assert seconds is not None
    try:
        amount = float(seconds)
    except ValueError:
        raise BadRequest(f"Advance must be a number of seconds, got {seconds!r}") from None
    if not 0 <= amount <= MAX_ADVANCE:
        raise BadRequest(f"Advance must be between 0 and {MAX_ADVANCE} seconds")
    with ctx.store.lock:
        now = ctx.sandbox.clock.advance(amount)
        ctx.sandbox.timers_due(now)
    return ok({"now": wire.iso(ctx.sandbox.clock.now())})


@routes.get("/_sandbox/clock")
def read_clock(ctx: Context) -> Response:
    return ok({"now": wire.iso(ctx.sandbox.clock.now()), "offset": ctx.sandbox.clock.offset})


@routes.post("/_sandbox/reset")
def reset(ctx: Context) -> Response:
    ctx.sandbox.reset()
    return ok({"status": "reset"})


@routes.get("/_sandbox/callbacks")
def callbacks(ctx: Context) -> Response:
    return ok({"callbacks": ctx.sandbox.callback_log()})
