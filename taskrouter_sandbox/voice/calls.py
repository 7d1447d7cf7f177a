"""The life of a simulated call on the sandbox clock, under the store's transactions.

Statuses are the Call resource's (https://www.twilio.com/docs/voice/api/call-resource):
``queued``, ``ringing``, ``in-progress``, ``completed``, ``busy``, ``no-answer``, ``canceled``
(and ``failed``). ``duration`` counts from the answer to the end.

* A caller's inbound call rings while the first webhook is fetched and is answered when its
  TwiML starts (``runner``).
* A worker's leg (``dequeue``, ``call``, ``conference``) rings the worker's ``contact_uri`` or
  the instruction's ``to``; the phone answers after the delay ``POST /_sandbox/phones`` set
  (at once by default), is ``busy``, or never answers: after the instruction's ``timeout``
  (Twilio's default 60 s) the leg ends ``no-answer`` and the reservation stays pending until
  the workflow's reservation timeout, the timeout path (worker to the workspace's timeout
  activity, task back to pending).
* ``dequeue``: the reservation is accepted when the worker answers, and the caller is bridged
  to her (``bridged_call_sid`` on both legs).
* A caller hanging up while queued cancels the task with reason ``hangup`` (``Engine.cancel``):
  TaskRouter cancels a task made by ``<Enqueue>`` when its call ends before assignment
  (https://www.twilio.com/docs/taskrouter/twiml-queue-calls, "Basic call flow", step 4). A
  ringing worker leg for that task is canceled with it.
* Either side of a bridged call hanging up ends both; the worker moves to the instruction's
  ``post_work_activity_sid`` (``instructions.end_call``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .. import wire
from ..core.timers import TimerHandler
from ..models import Call, PhoneNumber, Record, Reservation, Task, json_object, touch
from ..store import Transaction
from . import numbers

if TYPE_CHECKING:
    from ..core.engine import Engine

DEFAULT_RING_TIMEOUT = 60  # seconds, dequeue/call "timeout" default (reference/taskrouter.md §2)
HANGUP_REASON = "hangup"
ENDED = ("completed", "busy", "no-answer", "canceled", "failed")
ANSWER_TIMER = "call_answer"
RING_TIMER = "call_ring"


def log_entries(call: Call) -> list[dict[str, Any]]:
    try:
        entries = json.loads(call.log or "[]")
    except ValueError:
        return []
    return entries if isinstance(entries, list) else []


def note(tx: Transaction, call: Call, now: float, kind: str, text: str, **changes: Any) -> Call:
    """Append one line to the call's log (what happened, what the caller heard)."""
    entries = [*log_entries(call), {"at": wire.iso(now), "kind": kind, "text": text}]
    return tx.put(touch(call, now, log=json.dumps(entries), **changes))


def state(call: Call) -> dict[str, Any]:
    return json_object(call.state)


def new_inbound(tx: Transaction, number: PhoneNumber, caller: str, now: float) -> Call:
    call = Call(
        sid=wire.new_sid("CA"),
        account_sid=number.account_sid,
        date_created=now,
        date_updated=now,
        to=number.phone_number,
        from_=caller,
        status="ringing",
        direction="inbound",
        phone_number_sid=number.sid,
    )
    return note(tx, call, now, "status", f"{caller} calls {call.to}: ringing")


def answer_inbound(tx: Transaction, call: Call, now: float) -> Call:
    if call.status != "ringing":
        return call
    return note(
        tx, call, now, "status", "answered (in-progress)", status="in-progress", start_time=now
    )


def end(tx: Transaction, call: Call, now: float, status: str, why: str) -> Call:
    """The call is over with ``status``; nothing else changes (see :func:`hang_up`)."""
    if call.status in ENDED:
        return call
    return note(
        tx,
        call,
        now,
        "status",
        f"{status}: {why}",
        status=status,
        end_time=now,
        state="{}",
        answer_at=None,
        ring_until=None,
    )


# -- worker legs ---------------------------------------------------------------------------


def place_leg(
    engine: Engine,
    tx: Transaction,
    *,
    task: Task,
    reservation: Reservation,
    instruction: str,
    to: str,
    sender: str | None,
    url: str | None,
    post_work: str | None,
    timeout: Any,
    now: float,
) -> Call:
    """Ring ``to`` for a voice instruction; the leg is answered (maybe at once) by timers."""
    ring = int(timeout) if timeout is not None else DEFAULT_RING_TIMEOUT
    delay = numbers.answer_delay(engine.store, task.account_sid, to)
    call = Call(
        sid=wire.new_sid("CA"),
        account_sid=task.account_sid,
        date_created=now,
        date_updated=now,
        workspace_sid=task.workspace_sid,
        task_sid=task.sid,
        reservation_sid=reservation.sid,
        worker_sid=reservation.worker_sid,
        instruction=instruction,
        to=to,
        from_=sender,
        url=url,
        post_work_activity_sid=post_work,
        status="queued",
        ring_until=now + ring,
        answer_at=now + delay if delay is not None and 0 <= delay <= ring else None,
    )
    call = note(tx, call, now, "status", f"{instruction}: queued, calling {to}")
    call = note(tx, call, now, "status", f"ringing {to}", status="ringing")
    if delay is not None and delay < 0:  # the phone is busy
        return end(tx, call, now, "busy", f"{to} is busy")
    if call.answer_at is not None and call.answer_at > now:
        engine.timers.schedule(call.answer_at, ANSWER_TIMER, call.sid)
    if call.answer_at is None:
        engine.timers.schedule(call.ring_until or now, RING_TIMER, call.sid)
    return call


def answer(engine: Engine, tx: Transaction, call: Call, now: float) -> Call:
    """The worker picks up: ``dequeue`` accepts the reservation and bridges the caller."""
    call = note(
        tx,
        call,
        now,
        "status",
        f"{call.to} answered (in-progress)",
        status="in-progress",
        start_time=now,
        answer_at=None,
        ring_until=None,
    )
    if call.instruction != "dequeue":
        return call
    reservation = tx.get(call.reservation_sid, Reservation)
    if not isinstance(reservation, Reservation) or reservation.reservation_status != "pending":
        return end(tx, call, now, "completed", "the reservation is no longer pending")
    engine.accept(tx, reservation, now)
    task = tx.get(call.task_sid, Task)
    attributes = json_object(task.attributes) if task is not None else {}
    caller = tx.get(str(attributes.get("call_sid", "")), Call)
    if isinstance(caller, Call) and caller.direction == "inbound" and caller.status not in ENDED:
        note(
            tx,
            caller,
            now,
            "bridge",
            f"connected to {call.to}",
            state=_bridged_state(caller, now),
            bridged_call_sid=call.sid,
        )
        call = note(
            tx,
            call,
            now,
            "bridge",
            f"connected to the caller {caller.from_}",
            bridged_call_sid=caller.sid,
        )
    return call


def fire(engine: Engine, tx: Transaction, kind: str, record: Record | None, due: float) -> bool:
    """A ``call_answer``/``call_ring`` timer (registered by :func:`register_timers`): a
    ringing leg is answered, or rings out."""
    if not isinstance(record, Call) or record.status != "ringing":
        return False
    if kind == ANSWER_TIMER and record.answer_at is not None and record.answer_at <= due:
        answer(engine, tx, record, due)
        return True
    if kind == RING_TIMER and record.ring_until is not None and record.ring_until <= due:
        end(tx, record, due, "no-answer", f"{record.to} did not answer")
        return True
    return False


def register_timers(engine: Engine) -> None:
    """Put this module's timer kinds on the engine's schedule (``core.timers.Timers``), then
    schedule again the timers of legs still ringing (after a restart: timers live in memory)."""
    for kind in (ANSWER_TIMER, RING_TIMER):
        engine.timers.register(kind, _handler(engine, kind))
    reschedule(engine)


def _handler(engine: Engine, kind: str) -> TimerHandler:
    def fire_kind(tx: Transaction, record: Record | None, due: float) -> bool:
        return fire(engine, tx, kind, record, due)

    return fire_kind


def reschedule(engine: Engine) -> None:
    """After a restart: the timers of legs still ringing."""
    for record in engine.store.all(Call):
        if isinstance(record, Call) and record.status == "ringing":
            if record.answer_at is not None:
                engine.timers.schedule(record.answer_at, ANSWER_TIMER, record.sid)
            elif record.ring_until is not None:
                engine.timers.schedule(record.ring_until, RING_TIMER, record.sid)


# -- hanging up ----------------------------------------------------------------------------


def hang_up(engine: Engine, tx: Transaction, call: Call, now: float, who: str) -> Call:
    """``who`` hangs ``call`` up: a queued caller's task is canceled, a bridge ends both legs."""
    from ..core.instructions import end_call  # the worker's post-work activity rule lives there

    if call.status in ENDED:
        return call
    if call.status in ("queued", "ringing"):
        call = end(tx, call, now, "canceled", f"{who} hung up before an answer")
    elif call.direction == "inbound" or call.instruction == "":
        call = end(tx, call, now, "completed", f"{who} hung up")
    else:
        call = end_call(engine, tx, call, now)
        call = note(tx, call, now, "status", f"completed: {who} hung up", end_time=now)
    task = tx.get(call.queued_task_sid or "", Task)
    if isinstance(task, Task) and task.assignment_status in ("pending", "reserved"):
        for leg in list(tx.group(Call, "task_sid", task.sid).values()):
            if isinstance(leg, Call) and leg.status == "ringing":
                end(tx, leg, now, "canceled", "the caller hung up")
        engine.cancel(tx, task, HANGUP_REASON, now)
    other = tx.get(call.bridged_call_sid or "", Call)
    if isinstance(other, Call) and other.status not in ENDED:
        if other.direction == "inbound" and state(other).get("action"):
            # The worker left; the caller stays on the line for <Enqueue action> (runner).
            note(tx, other, now, "bridge", f"{call.to} hung up")
        else:
            hang_up(engine, tx, other, now, "the other party")
    return tx.get(call.sid, Call) or call


def _bridged_state(caller: Call, now: float) -> str:
    """What the caller keeps once bridged: ``<Enqueue action>`` runs when the worker leaves."""
    waiting = state(caller)
    if not waiting.get("action"):
        return "{}"
    queued_at = waiting.get("since", now)
    return json.dumps({"wait": "bridged", "action": waiting["action"],
                       "method": waiting.get("method", "POST"),
                       "queue_time": str(int(now - queued_at))})  # fmt: skip
