"""Executing TwiML for a caller: fetch, run verbs, wait at ``<Gather>`` or in ``<Enqueue>``.

HTTP happens outside the store lock; each step's state change is its own transaction. The
caller's log (``Call.log``) records what the caller hears: ``<Say>`` text, ``<Play>`` URLs,
``<Pause>`` lengths, hold music, the bridge, and any error.

Twilio's rules followed here (https://www.twilio.com/docs/voice/twiml): verbs run in order; the
call ends after the last one; ``<Redirect>`` replaces the document; ``<Gather>`` plays its
nested ``<Say>``/``<Play>``/``<Pause>``, waits for digits and POSTs ``Digits`` to ``action``
(default: the current document's URL), or — no input — goes on with the verb after it;
``numDigits`` and ``finishOnKey`` (default ``#``) cut the digits. ``<Enqueue workflowSid>``
creates the TaskRouter task from ``<Task>`` (JSON attributes, ``priority``, ``timeout``) merged
over the call's parameters, then plays ``waitUrl``'s TwiML (once; Twilio loops it) or hold
music. A webhook that fails (11200 / 11205) or TwiML that cannot be parsed (12100) ends the
call after Twilio's "application error" message.

``<Enqueue action>`` is requested when the caller leaves: ``QueueResult=hangup`` if they hung up
while queued (the answer is ignored: nobody is on the line), ``bridged`` when the worker hung up
first (the caller stays and the answer's TwiML runs; without an ``action`` the call ends)
(https://www.twilio.com/docs/voice/twiml/enqueue, "action"). Not simulated: speech input,
``<Gather>``'s own timeout (send empty digits for "no input").
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from ..api_errors import ApiError, BadRequest, NotFound
from ..core.channels import find_channel
from ..core.tasks import create_task
from ..dispatch import Delivery, Outcome
from ..models import Call, PhoneNumber, Workflow, Workspace
from . import calls, numbers, twiml, webhooks

if TYPE_CHECKING:
    from ..app import Sandbox

MAX_FETCHES = 20  # redirects and actions in one step: a loop guard
APP_ERROR = "We are sorry, an application error has occurred. Goodbye."
DIGITS = set("0123456789*#")


class Voice:
    """The sandbox's voice side (``Sandbox.voice``): dial, press digits, hang up."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        calls.register_timers(sandbox.engine)  # ring and answer timers on core/timers.py

    # -- what the control plane calls ---------------------------------------------------

    def dial(self, account_sid: str, caller: str, to: str | None = None) -> Call:
        """``caller`` calls ``to`` (default: the account's first number); runs its TwiML."""
        now = self.sandbox.clock.now()
        with self.sandbox.store.transaction() as tx:
            owned = numbers.ensure_number(tx, account_sid, now)
            number = owned[0] if to is None else numbers.find(tx, account_sid, to, now)
            if not isinstance(number, PhoneNumber):
                listing = ", ".join(n.phone_number for n in owned)
                raise BadRequest(
                    f"{to} is not a number of this account\n  How to fix: call "
                    f"one of {listing} (client.incoming_phone_numbers.list())"
                )
            call = calls.new_inbound(tx, number, caller, now)
        if not number.voice_url:
            self._error(
                call.sid,
                None,
                None,
                11200,
                f"{number.phone_number} has no voice_url; "
                "How to fix: client.incoming_phone_numbers(sid).update(voice_url=…)",
            )
            return self._app_error(call.sid)
        self._execute(call.sid, number.voice_url, number.voice_method or "POST", {})
        return self._call(call.sid)

    def press(self, account_sid: str, call_sid: str, digits: str) -> Call:
        """The caller presses ``digits`` at a ``<Gather>`` (empty: no input)."""
        if not set(digits) <= DIGITS:
            raise BadRequest(f"Digits {digits!r}: use 0-9, * and # only")
        now = self.sandbox.clock.now()
        with self.sandbox.store.transaction() as tx:  # checked and taken in one step
            call = self._call(call_sid, account_sid)
            waiting = calls.state(call)
            if waiting.get("wait") != "gather":
                where = "in a queue" if waiting.get("wait") == "enqueue" else f"{call.status}"
                raise BadRequest(
                    f"Call {call_sid} is not at a <Gather> (it is {where}); digits "
                    "are heard only while a <Gather> waits for them"
                )
            finish = waiting.get("finish_on_key", "#")
            if finish and finish in digits:
                digits = digits[: digits.index(finish)]
            if waiting.get("num_digits"):
                digits = digits[: int(waiting["num_digits"])]
            calls.note(tx, call, now, "digits", f"pressed {digits or '(nothing)'}", state="{}")
        if digits:
            self._execute(call_sid, waiting["action"], waiting["method"], {"Digits": digits})
        else:
            self._execute(call_sid, waiting["url"], "POST", {}, verbs=waiting["rest"])
        return self._call(call_sid)

    def hang_up(self, account_sid: str, call_sid: str, who: str = "the caller") -> Call:
        """End a call; then ``<Enqueue action>``: ``QueueResult=hangup`` for a caller who left
        the queue, ``bridged`` (and its TwiML runs) when the worker left the caller."""
        now = self.sandbox.clock.now()
        with self.sandbox.store.transaction() as tx:
            call = tx.get(call_sid, Call)
            if not isinstance(call, Call) or call.account_sid != account_sid:
                raise NotFound(f"/_sandbox/calls/{call_sid}")
            before = calls.state(call)
            ended = calls.hang_up(self.sandbox.engine, tx, call, now, who)
        if before.get("wait") == "enqueue" and before.get("action"):
            queue = {"QueueResult": "hangup", "QueueTime": str(int(now - before["since"]))}
            self._fetch(call_sid, before["action"], before.get("method", "POST"), queue)
        caller = self.sandbox.store.get(ended.bridged_call_sid or "", Call)
        if isinstance(caller, Call) and caller.status not in calls.ENDED:
            waiting = calls.state(caller)
            if waiting.get("wait") == "bridged":
                with self.sandbox.store.transaction() as tx:
                    calls.note(tx, self._call(caller.sid), now, "status", "back from the queue",
                               state="{}")  # fmt: skip
                queue = {"QueueResult": "bridged", "QueueTime": waiting["queue_time"]}
                self._execute(caller.sid, waiting["action"], waiting["method"], queue)
        return self._call(call_sid)

    # -- execution ---------------------------------------------------------------------

    def _execute(
        self,
        call_sid: str,
        url: str,
        method: str,
        extra: dict[str, str],
        verbs: list[twiml.Verb] | None = None,
    ) -> None:
        fetches = 0
        while True:
            if verbs is None:
                fetches += 1
                if fetches > MAX_FETCHES:
                    self._error(
                        call_sid,
                        None,
                        None,
                        None,
                        f"more than {MAX_FETCHES} TwiML documents in a row (a <Redirect> loop?)",
                    )
                    self._app_error(call_sid)
                    return
                verbs = self._fetch(call_sid, url, method, extra)
                if verbs is None:
                    return
            redirect = None
            for index, verb in enumerate(verbs):
                if self._call(call_sid).status in calls.ENDED:
                    return
                name = verb["verb"]
                if name in ("Say", "Play", "Pause"):
                    self._hear(call_sid, verb)
                elif name == "Hangup":
                    self.hang_up(self._call(call_sid).account_sid, call_sid, "<Hangup>")
                    return
                elif name == "Redirect":
                    redirect = (
                        urljoin(url, verb["text"] or url),
                        verb["attrs"].get("method", "POST"),
                    )
                    break
                elif name == "Gather":
                    self._gather(call_sid, verb, url, verbs[index + 1 :])
                    return
                elif name == "Enqueue" and self._enqueue(call_sid, verb, url):
                    return
            if redirect is None:
                now = self.sandbox.clock.now()
                with self.sandbox.store.transaction() as tx:
                    calls.end(tx, self._call(call_sid), now, "completed", "the TwiML ended")
                return
            (url, method), extra, verbs = redirect, {}, None

    def _fetch(
        self, call_sid: str, url: str, method: str, extra: dict[str, str]
    ) -> list[twiml.Verb] | None:
        call = self._call(call_sid)
        params = {**webhooks.call_params(call), **extra}
        token = self.sandbox.token_for(call.account_sid)
        delivery, outcome = webhooks.fetch(self.dispatcher, token, call, url, method, params)
        if not (outcome.error is None and outcome.status and 200 <= outcome.status < 300):
            code = 11205 if outcome.status is None else 11200
            why = outcome.error or f"HTTP {outcome.status}"
            self._error(call_sid, delivery, outcome, code, f"{method} {url} failed: {why}")
            self._app_error(call_sid)
            return None
        try:
            document = twiml.parse(outcome.body)
        except twiml.TwimlError as error:
            self._error(call_sid, delivery, outcome, error.code, error.message)
            self._app_error(call_sid)
            return None
        self.dispatcher.record(delivery, outcome, None, f"TwiML: {len(document.verbs)} verbs")
        for warning in document.warnings:
            self._error(call_sid, delivery, outcome, warning.code, warning.message, "warning")
        now = self.sandbox.clock.now()
        with self.sandbox.store.transaction() as tx:
            calls.answer_inbound(tx, self._call(call_sid), now)
        return document.verbs

    def _hear(self, call_sid: str, verb: twiml.Verb, kind: str | None = None) -> None:
        name, attrs, text = verb["verb"], verb["attrs"], verb["text"]
        if name == "Say":
            language = f" [{attrs['language']}]" if attrs.get("language") else ""
            heard = f"{text}{language}"
        elif name == "Play":
            heard = f"♪ {text}"
        else:
            heard = f"({attrs.get('length', '1')} s of silence)"
        now = self.sandbox.clock.now()
        with self.sandbox.store.transaction() as tx:
            calls.note(tx, self._call(call_sid), now, kind or name.lower(), heard)

    def _gather(self, call_sid: str, verb: twiml.Verb, url: str, rest: list[twiml.Verb]) -> None:
        for child in verb["children"]:
            self._hear(call_sid, child)
        attrs = verb["attrs"]
        num_digits = attrs.get("numDigits")
        if num_digits is not None and not (num_digits.isdigit() and int(num_digits) > 0):
            self._error(call_sid, None, None, twiml.SCHEMA_WARNING,
                        f"<Gather numDigits={num_digits!r}>: use a positive integer; ignored",
                        "warning")  # fmt: skip
            num_digits = None
        waiting = {
            "wait": "gather",
            "url": url,
            "rest": rest,
            "action": urljoin(url, attrs.get("action") or url),
            "method": attrs.get("method", "POST"),
            "num_digits": num_digits,
            "finish_on_key": attrs.get("finishOnKey", "#"),
        }
        now = self.sandbox.clock.now()
        with self.sandbox.store.transaction() as tx:
            calls.note(
                tx,
                self._call(call_sid),
                now,
                "gather",
                "waiting for digits",
                state=json.dumps(waiting),
            )

    def _enqueue(self, call_sid: str, verb: twiml.Verb, url: str) -> bool:
        """Create the task; False when it could not be (the document goes on)."""
        attrs = verb["attrs"]
        flow_sid = attrs.get("workflowSid")
        if not flow_sid:
            self._error(
                call_sid,
                None,
                None,
                twiml.SCHEMA_WARNING,
                "<Enqueue> without "
                "workflowSid is a plain <Queue>, which the sandbox does not simulate",
                "warning",
            )
            return False
        task_verb = next((c for c in verb["children"] if c["verb"] == "Task"), None)
        try:
            given = json.loads(task_verb["text"] or "{}") if task_verb else {}
            if not isinstance(given, dict):
                raise ValueError("not an object")
            priority = _integer(task_verb, "priority")
            timeout = _integer(task_verb, "timeout")
        except ValueError as error:
            self._error(
                call_sid,
                None,
                None,
                twiml.SCHEMA_WARNING,
                f"<Task> must hold a JSON object and integer priority/timeout: {error}",
            )
            return False
        call = self._call(call_sid)
        attributes = {**webhooks.task_attributes(webhooks.call_params(call)), **given}
        now = self.sandbox.clock.now()
        try:
            with self.sandbox.store.transaction() as tx:
                flow = tx.get(flow_sid, Workflow)
                if not isinstance(flow, Workflow) or flow.account_sid != call.account_sid:
                    raise BadRequest(f"workflowSid {flow_sid} is not a workflow of this account")
                ws = tx.get(flow.workspace_sid, Workspace)
                assert isinstance(ws, Workspace)
                channel = "voice" if find_channel(tx, ws.sid, "voice") else None
                task = create_task(
                    self.sandbox.engine,
                    tx,
                    ws,
                    now,
                    attributes=json.dumps(attributes),
                    workflow_sid=flow.sid,
                    priority=priority,
                    timeout=timeout,
                    task_channel=channel,
                )
                waiting = {
                    "wait": "enqueue",
                    "since": now,
                    "method": attrs.get("method", "POST"),
                    "task_sid": task.sid,
                    "action": urljoin(url, attrs["action"]) if attrs.get("action") else None,
                }
                calls.note(
                    tx,
                    self._call(call_sid),
                    now,
                    "enqueue",
                    f"queued as task {task.sid} ({flow.friendly_name})",
                    queued_task_sid=task.sid,
                    state=json.dumps(waiting),
                )
        except ApiError as error:
            self._error(call_sid, None, None, error.code, f"<Enqueue> failed: {error}")
            return False
        self._hold(
            call_sid,
            urljoin(url, attrs["waitUrl"]) if attrs.get("waitUrl") else None,
            attrs.get("waitUrlMethod", "POST"),
            task.sid,
        )
        return True

    def _hold(self, call_sid: str, wait_url: str | None, method: str, task_sid: str) -> None:
        if wait_url is None:
            if self._call(call_sid).bridged_call_sid is None:
                self._hear(call_sid, {"verb": "Play", "attrs": {}, "text": "hold music"}, "hold")
            return
        queue = {
            "QueueSid": "QU" + task_sid[2:],
            "QueuePosition": "1",
            "QueueTime": "0",
            "AvgQueueTime": "0",
            "CurrentQueueSize": "1",
            "MaxQueueSize": "100",
        }
        verbs = self._fetch(call_sid, wait_url, method, queue) or []
        for verb in verbs:
            if verb["verb"] in ("Say", "Play", "Pause") and not self._bridged(call_sid):
                self._hear(call_sid, verb, "hold")

    # -- small helpers -----------------------------------------------------------------

    @property
    def dispatcher(self) -> Any:
        return self.sandbox.webhooks.dispatcher

    def _call(self, call_sid: str, account_sid: str | None = None) -> Call:
        call = self.sandbox.store.get(call_sid, Call)
        if not isinstance(call, Call) or (account_sid and call.account_sid != account_sid):
            raise NotFound(f"/_sandbox/calls/{call_sid}")
        return call

    def _bridged(self, call_sid: str) -> bool:
        return self._call(call_sid).bridged_call_sid is not None

    def _error(
        self,
        call_sid: str,
        delivery: Delivery | None,
        outcome: Outcome | None,
        code: int | None,
        message: str,
        level: str | None = None,
    ) -> None:
        call = self._call(call_sid)
        if delivery is None:
            delivery = Delivery(
                kind="voice",
                workspace_sid=call.workspace_sid,
                account_sid=call.account_sid,
                url="",
                params={},
                auth_token="",
            )
        self.dispatcher.record(delivery, outcome or Outcome(), code, message, level=level)
        now = self.sandbox.clock.now()
        with self.sandbox.store.transaction() as tx:
            calls.note(tx, self._call(call_sid), now, "error", f"{code or ''} {message}".strip())

    def _app_error(self, call_sid: str) -> Call:
        if self._call(call_sid).status in calls.ENDED:
            return self._call(call_sid)  # nobody left to hear it
        self._hear(call_sid, {"verb": "Say", "attrs": {}, "text": APP_ERROR})
        now = self.sandbox.clock.now()
        with self.sandbox.store.transaction() as tx:
            calls.answer_inbound(tx, self._call(call_sid), now)
            return calls.end(tx, self._call(call_sid), now, "completed", "application error")


def _integer(verb: twiml.Verb | None, name: str) -> int | None:
    value = verb["attrs"].get(name) if verb else None
    return None if value is None else int(value)
