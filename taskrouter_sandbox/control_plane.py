"""The control plane under ``/_sandbox/``: what Twilio has no API for.

``health`` (no auth), ``clock`` (advance time and fire what falls due; the
``X-Sandbox-Advance`` header does the same before any request), ``reset`` (empty all
state), ``callbacks`` (recent outgoing callbacks, like the Console's debugger), and the
simulated phone: ``calls`` (list; a caller dials in; press digits; hang up) and ``phones``
(how a dialled number answers). See ``taskrouter_sandbox.voice``.

The ``callbacks`` list also holds the background items that failed inside the sandbox and were
skipped (a timer, an event delivery, a callback's handling, an after-commit step): ``kind``
``timer``, ``event``, ``assignment``/``fallback`` or ``commit``, ``code`` 20500, ``level``
``error``, and ``message`` ``sandbox error: …``; the loop that met it goes on (issue 19).
"""

from __future__ import annotations

from typing import Any

from . import wire
from .api_errors import ApiError, BadRequest
from .models import Call
from .router import Context, Response, Routes, ok
from .voice import calls as voice_calls
from .voice import numbers as voice_numbers

routes = Routes()
MAX_ADVANCE = 400 * 86_400
ADVANCE_HEADER = "x-sandbox-advance"  # request headers arrive lower-cased


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


def _seconds(name: str, text: str) -> float:
    try:
        amount = float(text)
    except ValueError:
        raise BadRequest(f"{name} must be a number of seconds, got {text!r}") from None
    if not 0 <= amount <= MAX_ADVANCE:
        raise BadRequest(f"{name} must be between 0 and {MAX_ADVANCE} seconds, e.g. 30")
    return amount


@routes.post("/_sandbox/clock")
def advance_clock(ctx: Context) -> Response:
    _main_account_only(ctx, "move the clock")
    seconds = ctx.params.text("Advance", required=True)
    assert seconds is not None
    ctx.sandbox.core.advance(_seconds("Advance", seconds))
    return ok({"now": wire.iso(ctx.sandbox.clock.now())})


def advance_before(ctx: Context) -> None:
    """``X-Sandbox-Advance: <seconds>`` on any request: the clock moves (and every timer that
    falls due fires) first, then the request is handled, exactly as a ``POST /_sandbox/clock``
    sent just before it. A simulated day moves the clock before almost every call; carrying
    the move on the call saves a request per event (issue 18). Main account only."""
    seconds = ctx.request.headers.get(ADVANCE_HEADER)
    if seconds is None:
        return
    _main_account_only(ctx, "move the clock")
    ctx.sandbox.core.advance(_seconds("The X-Sandbox-Advance header", seconds.strip()))


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
        "direction": call.direction, "queued_task_sid": call.queued_task_sid,
        "bridged_call_sid": call.bridged_call_sid, "start_time": wire.iso(call.start_time),
        "end_time": wire.iso(call.end_time), "waiting_for": voice_calls.state(call).get("wait"),
        "log": voice_calls.log_entries(call),
    }  # fmt: skip


@routes.get("/_sandbox/calls")
def calls(ctx: Context) -> Response:
    """Every simulated call: callers' inbound calls and the legs voice instructions made."""
    mine = ctx.store.group(Call, "account_sid", ctx.request.account_sid).values()
    return ok({"calls": [_render_call(c) for c in mine if isinstance(c, Call)]})


@routes.post("/_sandbox/calls")
def place_call(ctx: Context) -> Response:
    """A simulated caller ``From`` dials ``To`` (default: the account's number); the TwiML of
    the number's ``voice_url`` runs until it waits (``<Gather>``, ``<Enqueue>``) or ends."""
    caller = ctx.params.text("From", required=True, max_len=64)
    assert caller is not None
    call = ctx.sandbox.voice.dial(ctx.request.account_sid, caller, ctx.params.text("To"))
    return ok(_render_call(call), 201)


@routes.post("/_sandbox/calls/{CallSid}")
def update_call(ctx: Context, CallSid: str) -> Response:
    """``Digits=1`` presses keys at a ``<Gather>`` (empty: no input); ``Status=completed``
    hangs the call up (a queued caller's task is canceled; a bridge ends both legs and the
    worker goes to the post-work activity)."""
    if "Digits" in ctx.params:
        digits = ctx.params.raw("Digits") or ""
        call = ctx.sandbox.voice.press(ctx.request.account_sid, CallSid, digits)
        return ok(_render_call(call))
    ctx.params.enum("Status", ("completed",))
    call = ctx.sandbox.voice.hang_up(ctx.request.account_sid, CallSid)
    return ok(_render_call(call))


@routes.post("/_sandbox/phones")
def phone_settings(ctx: Context) -> Response:
    """How the phone at ``Number`` answers when the sandbox rings it: ``AnswerAfter`` seconds
    on the sandbox clock (default 0), ``never`` (no-answer) or ``busy``."""
    number = ctx.params.text("Number", required=True, max_len=128)
    after = ctx.params.text("AnswerAfter", required=True)
    assert number is not None and after is not None
    if after not in (voice_numbers.NEVER, voice_numbers.BUSY):
        try:
            seconds = float(after)
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds <= 999:
            raise BadRequest(f"AnswerAfter must be seconds (0-999), never or busy; got {after!r}")
    voice_numbers.set_answer(ctx.store, ctx.request.account_sid, number, after)
    return ok({"number": number, "answer_after": after})
