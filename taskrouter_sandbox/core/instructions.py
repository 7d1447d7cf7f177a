"""Assignment instructions, from a callback's answer or a REST update, to state changes.

``accept`` and ``reject`` act on the reservation. The voice instructions (``dequeue``,
``call``, ``conference``) ring the worker's phone on the simulated voice side
(``taskrouter_sandbox.voice.calls.place_leg``): a ``CA…`` leg (``GET /_sandbox/calls``,
``client.calls.list()``), ``worker_call_sid`` in the task attributes where Twilio writes it,
and the accept and post-work-activity rules. ``dequeue`` accepts when the worker answers (at
once unless ``POST /_sandbox/phones`` says otherwise) and bridges the caller of the task's
``call_sid``. ``redirect`` notes the redirect on a call the sandbox knows. Ending a call
(``POST /_sandbox/calls/{CallSid}``) moves the worker to the ``post_work_activity_sid``.

Every refusal carries the code Twilio's debugger shows
(https://www.twilio.com/docs/taskrouter/api/reservations, Update a Reservation, and
https://www.twilio.com/docs/api/errors/40000 onwards).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..api_errors import BadRequest
from ..models import Activity, Call, Reservation, Task, Worker, Workspace, json_object, touch
from ..params import TRUE, Params, bounded_int
from ..store import Transaction
from ..urls import check_callback_url
from ..voice import calls as voice_calls
from . import event_rows, records

if TYPE_CHECKING:
    from .engine import Engine

NAMES = ("accept", "reject", "dequeue", "call", "redirect", "conference", "supervise")
NOT_PENDING = {"accept": 40135, "reject": 40135, "dequeue": 40135, "call": 40114,
               "redirect": 40123, "conference": 40136}  # fmt: skip
MAX_RING_TIMEOUT = 999


class InstructionError(Exception):
    """An instruction TaskRouter refuses; ``code`` is the debugger code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def from_answer(status: int, content_type: str, body: bytes) -> dict[str, Any] | None:
    """Read a callback answer. None means "no instruction": decide later via REST (40005)."""
    if "application/json" not in content_type.lower():
        raise InstructionError(40000, "Content-Type of 'application/json' not set on the answer")
    try:
        answer = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InstructionError(40001, "The answer is not valid JSON") from None
    if not isinstance(answer, dict):
        raise InstructionError(40001, "The answer must be a JSON object")
    if "instruction" not in answer:
        return None
    return answer


REST_FIELDS = {
    "dequeue": {"DequeueFrom": "from", "DequeueTo": "to",
                "DequeuePostWorkActivitySid": "post_work_activity_sid",
                "DequeueRecord": "record", "DequeueTimeout": "timeout",
                "DequeueStatusCallbackUrl": "status_callback_url"},
    "call": {"CallFrom": "from", "CallTo": "to", "CallUrl": "url", "CallAccept": "accept",
             "CallRecord": "record", "CallTimeout": "timeout",
             "CallStatusCallbackUrl": "status_callback_url"},
    "redirect": {"RedirectCallSid": "call_sid", "RedirectUrl": "url",
                 "RedirectAccept": "accept"},
    "conference": {"To": "to", "From": "from", "PostWorkActivitySid": "post_work_activity_sid",
                   "Timeout": "timeout", "Record": "record"},
    "supervise": {"Supervisor": "supervisor", "SupervisorMode": "supervisor_mode"},
}  # fmt: skip


def from_rest(name: str, params: Params) -> dict[str, Any]:
    """``Instruction=dequeue&DequeueFrom=…`` -> the JSON form a callback would answer."""
    out: dict[str, Any] = {"instruction": name}
    if name == "reject" and params.raw("WorkerActivitySid"):
        out["activity_sid"] = params.raw("WorkerActivitySid")
    for param, key in REST_FIELDS.get(name, {}).items():
        value = params.raw(param)
        if value is not None:
            out[key] = value.lower() in TRUE if key == "accept" else value
    return out


def execute(
    engine: Engine, tx: Transaction, reservation: Reservation, instruction: dict[str, Any],
    now: float,
) -> Reservation:  # fmt: skip
    name = str(instruction.get("instruction", "")).strip().lower()
    if name not in NAMES:
        raise InstructionError(55555, f"Invalid instruction {instruction.get('instruction')!r}; "
                                      f"use one of {', '.join(NAMES[:-1])}")  # fmt: skip
    if name == "supervise":
        return _supervise(tx, reservation, instruction, now)
    if reservation.reservation_status != "pending":
        raise InstructionError(
            NOT_PENDING[name],
            f"Reservation {reservation.sid} is "
            f"{reservation.reservation_status}; it must currently be pending",
        )
    task = tx.get(reservation.task_sid, Task)
    worker = tx.get(reservation.worker_sid, Worker)
    assert isinstance(task, Task) and isinstance(worker, Worker)
    if name == "accept":
        return engine.accept(tx, reservation, now)
    if name == "reject":
        activity = instruction.get("activity_sid")
        if activity is not None and _activity(tx, reservation, activity) is None:
            raise InstructionError(40100, f"activity_sid {activity!r} is not an activity of "
                                          "this workspace")  # fmt: skip
        return engine.reject(tx, reservation, activity, now)
    attributes = json_object(task.attributes)
    contact = json_object(worker.attributes).get("contact_uri")
    to = instruction.get("to") or contact
    sender = instruction.get("from")
    url = instruction.get("url")
    post_work = instruction.get("post_work_activity_sid")
    accept = name in ("dequeue", "conference") or instruction.get("accept") in (True, "true")
    _check_timeout(name, instruction.get("timeout"))
    if name == "dequeue":
        _require(
            attributes.get("call_sid"),
            40140,
            "dequeue needs a task created from a call: its attributes must hold call_sid",
        )
        _require(to, 40131, "dequeue needs 'to' or the worker attribute contact_uri")
        sender = sender or attributes.get("to") or attributes.get("called")
        _require(sender, 40132, "dequeue needs 'from' (a caller ID) or the task attribute 'to'")
        _post_work(tx, reservation, post_work, 40130)
        _url(instruction.get("status_callback_url"), 40157, "status_callback_url")
    elif name == "call":
        _require(to, 40110, "call needs 'to' or the worker attribute contact_uri")
        _require(sender, 40111, "call needs 'from', a caller ID")
        _require(url, 40112, "call needs 'url', the TwiML URL for the worker's leg")
        _url(url, 40112, "url")
        _url(instruction.get("status_callback_url"), 40158, "status_callback_url")
    elif name == "redirect":
        _require(instruction.get("call_sid"), 40120, "redirect needs 'call_sid'")
        _require(url, 40121, "redirect needs 'url', the TwiML to redirect the call to")
        _url(url, 40121, "url")
    elif name == "conference":
        _require(
            attributes.get("call_sid"),
            40142,
            "conference needs a task created from a call: its attributes must hold call_sid",
        )
        _require(to, 40137, "conference needs 'to' or the worker attribute contact_uri")
        sender = sender or attributes.get("to") or attributes.get("called")
        _require(sender, 40141, "conference needs 'from', a caller ID")
        _post_work(tx, reservation, post_work, 40143)
    if name == "redirect":
        known = tx.get(str(instruction["call_sid"]), Call)
        if known is not None:  # a call of the voice side: note it, never replace it
            call = voice_calls.note(tx, known, now, "redirect", f"redirected to {url}")
        else:
            call = records.create(
                tx, Call, task, now, sid=str(instruction["call_sid"]), task_sid=task.sid,
                reservation_sid=reservation.sid, worker_sid=worker.sid, instruction=name,
                to=to, from_=sender, url=url, post_work_activity_sid=post_work,
            )  # fmt: skip
    else:  # the worker's phone rings (taskrouter_sandbox.voice.calls)
        call = voice_calls.place_leg(
            engine, tx, task=task, reservation=reservation, instruction=name, to=str(to),
            sender=sender, url=url, post_work=post_work, timeout=instruction.get("timeout"),
            now=now,
        )  # fmt: skip
    if name != "redirect":
        attributes["worker_call_sid"] = call.sid
        if name == "conference":
            attributes.setdefault("conference", {"room_name": task.sid})
        task = tx.put(touch(task, now, attributes=json.dumps(attributes)))
        event_rows.emit(
            tx,
            now,
            "task.updated",
            task,
            f"Task {task.sid} updated",
            event_rows.task_fields(tx, task, now),
        )
    if name == "dequeue":  # accepted when the worker answers, maybe right now
        if call.answer_at is not None and call.answer_at <= now:
            voice_calls.answer(engine, tx, call, now)
        return tx.get(reservation.sid, Reservation) or reservation
    if call.answer_at is not None and call.answer_at <= now:
        voice_calls.answer(engine, tx, call, now)
    if accept:
        return engine.accept(tx, reservation, now)
    return reservation


def end_call(engine: Engine, tx: Transaction, call: Call, now: float) -> Call:
    """The simulated call hangs up: the worker goes to its post-work activity."""
    call = tx.put(touch(call, now, status="completed"))
    worker = tx.get(call.worker_sid, Worker)
    ws = tx.get(call.workspace_sid, Workspace)
    if call.post_work_activity_sid and isinstance(worker, Worker):
        if not getattr(ws, "multi_task_enabled", True):
            engine.move_worker(tx, worker, call.post_work_activity_sid, now)
        else:  # multi-tasking: the task goes to wrapping instead of moving the worker
            task = tx.get(call.task_sid, Task)
            if isinstance(task, Task) and task.assignment_status == "assigned":
                engine.task_status_changed(tx, task, "wrapping", None, now)
    return call


def _supervise(
    tx: Transaction, reservation: Reservation, instruction: dict[str, Any], now: float
) -> Reservation:
    if reservation.reservation_status != "accepted":
        raise InstructionError(40146, "supervise needs an accepted reservation")
    supervisor = instruction.get("supervisor")
    _require(supervisor, 40147, "supervise needs 'Supervisor', a contact URI to call")
    records.create(
        tx, Call, reservation, now, task_sid=reservation.task_sid,
        reservation_sid=reservation.sid, worker_sid=reservation.worker_sid,
        instruction="supervise", to=supervisor,
    )  # fmt: skip
    return reservation


def _require(value: Any, code: int, message: str) -> None:
    if value in (None, ""):
        raise InstructionError(code, message)


def _url(value: Any, code: int, name: str) -> None:
    if value is None:
        return
    try:  # the same validator as every other callback URL
        check_callback_url(str(value), name)
    except BadRequest as error:
        raise InstructionError(code, error.message) from None


def _check_timeout(name: str, value: Any) -> None:
    if value is None:
        return
    try:  # the one bounded integer reader: 1e400 or "²" is refused, never an OverflowError
        bounded_int(value, f"{name} timeout", low=1, high=MAX_RING_TIMEOUT)
    except BadRequest as error:
        raise InstructionError(55555, error.message) from None


def _post_work(tx: Transaction, reservation: Reservation, sid: Any, code: int) -> None:
    if sid is not None and _activity(tx, reservation, sid) is None:
        raise InstructionError(code, f"post_work_activity_sid {sid!r} is not an activity of "
                                     "this workspace")  # fmt: skip


def _activity(tx: Transaction, reservation: Reservation, sid: Any) -> Activity | None:
    activity = tx.get(str(sid), Activity)
    if isinstance(activity, Activity) and activity.workspace_sid == reservation.workspace_sid:
        return activity
    return None
