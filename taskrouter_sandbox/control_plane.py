"""The control plane under ``/_sandbox/``: what Twilio has no API for.

``health`` (no auth), ``clock`` (advance time and fire what falls due), ``reset`` (empty all
state) and ``callbacks`` (recent outgoing callbacks, like the Console's debugger). The same
list holds the background items that failed inside the sandbox and were skipped (a timer,
an event delivery, a callback's handling, an after-commit step): ``kind`` ``timer``,
``event``, ``assignment``/``fallback`` or ``commit``, ``code`` 20500, ``level`` ``error``,
and ``message`` ``sandbox error: …``; the loop that met it goes on (issue 19).
"""

from __future__ import annotations

from typing import Any

from . import wire
from .api_errors import ApiError, BadRequest, NotFound
from .core import instructions
from .models import Call
from .router import Context, Response, Routes, ok

routes = Routes()
MAX_ADVANCE = 400 * 86_400


@routes.get("/_sandbox/health")
def health(ctx: Context) -> Response:
    return ok({"status": "ok"})


def _main_account_only(ctx: Context, action: str) -> None:
    """Resetting and moving the clock touch every account: the main account's to do."""
    if ctx.request.account_sid != ctx.sandbox.config.account_sid:
        raise ApiError(
            f"Only the sandbox's main account may {action}: it affects every account",
            code=20403,
            status=403,
        )


@routes.post("/_sandbox/clock")
def advance_clock(ctx: Context) -> Response:
    _main_account_only(ctx, "move the clock")
    seconds = ctx.params.text("Advance", required=True)
    assert seconds is not None
    try:
        amount = float(seconds)
    except ValueError:
        raise BadRequest(f"Advance must be a number of seconds, got {seconds!r}") from None
    if not 0 <= amount <= MAX_ADVANCE:
        raise BadRequest(f"Advance must be between 0 and {MAX_ADVANCE} seconds")
    ctx.sandbox.core.advance(amount)
    return ok({"now": wire.iso(ctx.sandbox.clock.now())})


@routes.get("/_sandbox/clock")
def read_clock(ctx: Context) -> Response:
    return ok({"now": wire.iso(ctx.sandbox.clock.now()), "offset": ctx.sandbox.clock.offset})


@routes.post("/_sandbox/reset")
def reset(ctx: Context) -> Response:
    _main_account_only(ctx, "reset the sandbox")
    ctx.sandbox.reset()
    return ok({"status": "reset"})


@routes.get("/_sandbox/callbacks")
def callbacks(ctx: Context) -> Response:
    """Recent outgoing callbacks and background faults (code 20500), newest last."""
    entries = ctx.sandbox.callback_log(ctx.request.account_sid)
    workspace = ctx.query.text("WorkspaceSid")
    if workspace is not None:
        entries = [e for e in entries if e["workspace_sid"] == workspace]
    return ok({"callbacks": entries})


def _render_call(call: Call) -> dict[str, Any]:
    return {
        "sid": call.sid, "workspace_sid": call.workspace_sid, "task_sid": call.task_sid,
        "reservation_sid": call.reservation_sid, "worker_sid": call.worker_sid,
        "instruction": call.instruction, "to": call.to, "from": call.from_, "url": call.url,
        "status": call.status, "post_work_activity_sid": call.post_work_activity_sid,
        "date_created": wire.iso(call.date_created), "date_updated": wire.iso(call.date_updated),
    }  # fmt: skip


@routes.get("/_sandbox/calls")
def calls(ctx: Context) -> Response:
    """The simulated calls that voice instructions made."""
    mine = [
        c for c in ctx.store.all(Call)
        if isinstance(c, Call) and c.account_sid == ctx.request.account_sid
    ]  # fmt: skip
    return ok({"calls": [_render_call(c) for c in mine]})


@routes.post("/_sandbox/calls/{CallSid}")
def end_call(ctx: Context, CallSid: str) -> Response:
    """``Status=completed`` hangs a simulated call up (the worker goes to post-work activity)."""
    ctx.params.enum("Status", ("completed",))
    with ctx.transaction() as tx:
        call = tx.get(CallSid, Call)
        if not isinstance(call, Call) or call.account_sid != ctx.request.account_sid:
            raise NotFound(f"/_sandbox/calls/{CallSid}")
        call = instructions.end_call(ctx.engine, tx, call, ctx.now())
        return ok(_render_call(call))
