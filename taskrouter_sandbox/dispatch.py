"""Outgoing callbacks: signed form POSTs to the learner's servers, like Twilio's webhooks.

Deliveries leave the transaction that caused them only after it committed, and run on
dispatcher threads that never hold the state lock, so a slow or dead callback server blocks
neither the REST API nor other workspaces. Assignment callbacks run on a small pool per
workspace (5 s limit, then the fallback URL), and their answers are applied by one thread per
workspace in the order they came back; event callbacks run on one thread per workspace so they
arrive in order. Every attempt lands in :attr:`Dispatcher.log`
(``GET /_sandbox/callbacks``), with the code Twilio's debugger would show.

A workspace's threads live as long as the workspace: :meth:`Dispatcher.forget` (workspace
deleted) and :meth:`Dispatcher.forget_all` (``reset``) let them finish what is queued and end,
and no new ones start for a workspace that no longer exists, so a long workshop day of resets
does not grow threads without bound.
"""

from __future__ import annotations

import collections
import http.client
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import outgoing, wire
from .urls import CallTarget, call_target, redacted

ASSIGNMENT_TIMEOUT = 5.0  # TaskRouter's limit for an assignment callback answer
ASSIGNMENT_THREADS = 16  # concurrent assignment callbacks per workspace (threads made on demand)
EVENT_TIMEOUT = 15.0
LOG_SIZE = 2000
MAX_ANSWER = 64 * 1024
USER_AGENT = "TwilioProxy/1.1 (TaskRouter sandbox)"
# Debugger code of a background item (timer, event delivery, callback) that failed inside
# the sandbox and was skipped: Twilio's "Internal Server Error". The loop goes on.
SANDBOX_FAULT = 20500
log = logging.getLogger("taskrouter_sandbox")


@dataclass
class Delivery:
    kind: str  # "assignment" | "fallback" | "event"
    workspace_sid: str
    account_sid: str
    url: str
    params: dict[str, str]
    auth_token: str = field(repr=False)
    reservation_sid: str | None = None
    fallback_url: str | None = None
    event_type: str | None = None
    # When it was queued: a delivery from before a reset belongs to state that is gone, and its
    # late outcome must not reappear in the emptied debugger log.
    queued_at: float = field(default_factory=time.monotonic, repr=False, compare=False)


@dataclass
class Outcome:
    status: int | None = None
    content_type: str = ""
    body: bytes = b""
    latency_ms: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200


class Dispatcher:
    def __init__(
        self,
        on_answer: Callable[[Delivery, Outcome], None],
        alive: Callable[[str], bool] = lambda workspace_sid: True,
    ) -> None:
        self.on_answer = on_answer
        self.alive = alive  # does the workspace still exist? (no threads for a deleted one)
        self._pools: dict[str, ThreadPoolExecutor] = {}  # per workspace, like the event lanes
        self._event_queues: dict[str, queue.Queue[Delivery | None]] = {}
        # Per workspace: the answers of its assignment callbacks, applied by one thread in the
        # order they came back (16 callback threads queuing on the store lock cost more CPU
        # in lock hand-overs than the answers themselves, bench/findings.md).
        self._answer_lanes: dict[str, queue.Queue[tuple[Delivery, Outcome] | None]] = {}
        self._lock = threading.Lock()
        self._log: collections.deque[dict[str, Any]] = collections.deque(maxlen=LOG_SIZE)
        self._local = threading.local()
        self._closed = False
        self._cleared_at = 0.0  # time.monotonic() of the last reset
        self._account_cleared: dict[str, float] = {}  # the same, for one account's reset

    # -- sending --------------------------------------------------------------------------

    def send_assignment(self, delivery: Delivery) -> None:
        """On the workspace's own threads: a slow or hung callback server (a breakpoint in a
        learner's instruction function) delays that workspace only, never the others."""
        if self._closed:
            return
        with self._lock:
            pool = self._pools.get(delivery.workspace_sid)
            if pool is None:
                if not self.alive(delivery.workspace_sid):
                    return  # deleted meanwhile (a late fallback): nothing to call back for
                pool = self._pools[delivery.workspace_sid] = ThreadPoolExecutor(
                    max_workers=ASSIGNMENT_THREADS,
                    thread_name_prefix=f"sandbox-callback-{delivery.workspace_sid[-6:]}",
                )
        pool.submit(self._deliver_assignment, delivery)

    def send_event(self, delivery: Delivery) -> None:
        if self._closed:
            return
        with self._lock:
            lane = self._event_queues.get(delivery.workspace_sid)
            if lane is None:
                if not self.alive(delivery.workspace_sid):
                    return
                lane = queue.Queue()
                self._event_queues[delivery.workspace_sid] = lane
                threading.Thread(
                    target=self._event_lane,
                    args=(lane,),
                    daemon=True,
                    name=f"sandbox-events-{delivery.workspace_sid[-6:]}",
                ).start()
        lane.put(delivery)

    def _deliver_assignment(self, delivery: Delivery) -> None:
        outcome = Outcome()
        try:
            outcome = self.post(delivery, ASSIGNMENT_TIMEOUT)
        except Exception as error:  # never lose the log line, nor the thread
            self.fault(delivery, outcome, error)
            return
        self._apply_answer(delivery, outcome)

    def _apply_answer(self, delivery: Delivery, outcome: Outcome) -> None:
        """Hand the answer to its workspace's answer lane (started on first use), which
        applies answers one at a time, in the order they came back; a workspace already
        gone has no lane: its late answer is applied (and logged) here."""
        try:
            with self._lock:
                lane = self._answer_lanes.get(delivery.workspace_sid)
                if lane is None and not self._closed and self.alive(delivery.workspace_sid):
                    lane = self._answer_lanes[delivery.workspace_sid] = queue.Queue()
                    threading.Thread(target=self._answer_lane, args=(lane,), daemon=True,
                                     name=f"sandbox-answers-{delivery.workspace_sid[-6:]}",
                                     ).start()  # fmt: skip
                if lane is not None:
                    lane.put((delivery, outcome))  # under the lock: never after forget's None
                    return
            self.on_answer(delivery, outcome)
        except Exception as error:  # never lose the log line, nor the thread
            self.fault(delivery, outcome, error)

    def _answer_lane(self, lane: queue.Queue[tuple[Delivery, Outcome] | None]) -> None:
        while True:
            item = lane.get()
            if item is None:
                return
            delivery, outcome = item
            try:
                self.on_answer(delivery, outcome)
            except Exception as error:  # one bad answer must not end the lane
                self.fault(delivery, outcome, error)

    def _event_lane(self, lane: queue.Queue[Delivery | None]) -> None:
        while True:
            delivery = lane.get()
            if delivery is None:
                return
            try:
                self._deliver_event(delivery)
            except Exception as error:  # one bad event must not end the lane
                self.fault(delivery, Outcome(), error)

    def _deliver_event(self, delivery: Delivery) -> None:
        outcome = self.post(delivery, EVENT_TIMEOUT)
        if outcome.ok or (outcome.status is not None and 200 <= outcome.status < 300):
            self.record(delivery, outcome, code=None, message="delivered")
        else:
            self.record(
                delivery,
                outcome,
                code=_http_code(outcome),
                message=f"event callback failed: {_describe(outcome)}",
            )

    def fault(self, delivery: Delivery, outcome: Outcome, error: BaseException) -> None:
        """A delivery failed inside the sandbox: logged with SANDBOX_FAULT, the loop goes on."""
        log.error("%s callback to %s failed in the sandbox", delivery.kind,
                  redacted(delivery.url), exc_info=error)  # fmt: skip
        message = f"sandbox error: {type(error).__name__}: {error}"
        self.record(delivery, outcome, code=SANDBOX_FAULT, message=message)

    def record_fault(self, account_sid: str, workspace_sid: str, kind: str, message: str) -> None:
        """A background item that is not a callback (a timer) failed and was skipped."""
        self.record(
            Delivery(kind, workspace_sid, account_sid, "", {}, auth_token=""),
            Outcome(),
            code=SANDBOX_FAULT,
            message=f"sandbox error: {message}",
        )

    def post(self, delivery: Delivery, timeout: float) -> Outcome:
        """One signed form POST; connection errors and timeouts become an Outcome, not raise."""
        try:
            return self._post(delivery, timeout)
        except ValueError as error:  # a URL it cannot call (stored before it was validated)
            return _failed(time.perf_counter(), f"invalid URL: {error}")

    def _post(self, delivery: Delivery, timeout: float) -> Outcome:
        target = call_target(delivery.url)  # user:pw@ -> Basic auth, as Twilio does
        signature = outgoing.signature(delivery.auth_token, target.signed_url, delivery.params)
        body = outgoing.form_body(delivery.params)
        if target.scheme == "https":
            return self._post_https(target, signature, body, timeout)
        head = (
            f"POST {target.path} HTTP/1.1\r\n"
            "Accept-Encoding: identity\r\n"  # the headers http.client sent, in one write
            "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
            f"X-Twilio-Signature: {signature}\r\n"
            f"User-Agent: {USER_AGENT}\r\n"
            "Accept: */*\r\n"
            + (f"Authorization: {target.authorization}\r\n" if target.authorization else "")
            + f"Content-Length: {len(body)}\r\n"
        ).encode("latin-1")
        cache: dict[str, outgoing.Connection] = self._local.__dict__.setdefault("lean", {})
        started = time.perf_counter()
        for attempt in (1, 2):  # a kept-alive connection the server closed: retry once
            connection = cache.get(target.netloc)
            if connection is None:
                connection = cache[target.netloc] = outgoing.Connection(target.netloc, timeout)
            connection.timeout = timeout
            try:
                answer = connection.exchange(head, body, MAX_ANSWER)
                if answer.will_close or len(answer.body) == MAX_ANSWER:
                    cache.pop(target.netloc).close()
                return Outcome(answer.status, answer.content_type, answer.body,
                               (time.perf_counter() - started) * 1000)  # fmt: skip
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                cache.pop(target.netloc).close()
                if attempt == 2:
                    return _failed(started, f"connection closed: {e}")
            except TimeoutError:
                cache.pop(target.netloc).close()
                return _failed(started, f"no answer within {timeout:g} s")
            except (OSError, http.client.HTTPException) as error:
                cache.pop(target.netloc).close()
                return _failed(started, f"{type(error).__name__}: {error}")
        return _failed(started, "unreachable")

    def _post_https(self, target: CallTarget, signature: str, body: bytes,
                    timeout: float) -> Outcome:  # fmt: skip
        """The same POST over TLS, through ``http.client`` (rare: learners' servers are local)."""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "X-Twilio-Signature": signature,
            "User-Agent": USER_AGENT,
            "Accept": "*/*",
        }
        if target.authorization:
            headers["Authorization"] = target.authorization
        started = time.perf_counter()
        for attempt in (1, 2):  # a kept-alive connection the server closed: retry once
            connection = self._connection(target.netloc, timeout)
            try:
                connection.request("POST", target.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read(MAX_ANSWER)
                if response.will_close or len(data) == MAX_ANSWER:
                    self._drop(target.netloc)
                return Outcome(
                    response.status,
                    response.getheader("Content-Type") or "",
                    data,
                    (time.perf_counter() - started) * 1000,
                )
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                self._drop(target.netloc)
                if attempt == 2:
                    return _failed(started, f"connection closed: {e}")
            except TimeoutError:
                self._drop(target.netloc)
                return _failed(started, f"no answer within {timeout:g} s")
            except (OSError, http.client.HTTPException) as error:
                self._drop(target.netloc)
                return _failed(started, f"{type(error).__name__}: {error}")
        return _failed(started, "unreachable")

    def _connection(self, netloc: str, timeout: float) -> http.client.HTTPSConnection:
        cache: dict[str, http.client.HTTPSConnection] = self._local.__dict__.setdefault("https", {})
        connection = cache.get(netloc)
        if connection is None:
            connection = cache[netloc] = http.client.HTTPSConnection(netloc, timeout=timeout)
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection

    def _drop(self, netloc: str) -> None:
        connection = self._local.__dict__.get("https", {}).pop(netloc, None)
        if connection is not None:
            connection.close()

    # -- the log --------------------------------------------------------------------------

    def record(
        self, delivery: Delivery, outcome: Outcome, code: int | None, message: str,
        instruction: str | None = None, level: str | None = None,
    ) -> None:  # fmt: skip
        entry = {
            "sid": wire.new_sid("NO"),
            "date": wire.iso(time.time()),
            "kind": delivery.kind,
            "account_sid": delivery.account_sid,
            "workspace_sid": delivery.workspace_sid,
            "reservation_sid": delivery.reservation_sid,
            "event_type": delivery.event_type,
            "url": redacted(delivery.url),  # a user:pw@ callback URL's password stays secret
            "status": outcome.status,
            "latency_ms": round(outcome.latency_ms, 2),
            "code": code,
            "level": level or ("error" if code else "info"),
            "message": message,
            "instruction": instruction,
            "answer": outcome.body[:1000].decode("utf-8", "replace") if outcome.body else None,
        }
        with self._lock:
            cleared = max(self._cleared_at, self._account_cleared.get(delivery.account_sid, 0))
            if delivery.queued_at < cleared:
                return  # queued before a reset: its workspace no longer exists
            self._log.append(entry)

    def entries(self, account_sid: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self._log if e["account_sid"] == account_sid]

    def clear(self) -> None:
        with self._lock:
            self._log.clear()
            self._cleared_at = time.monotonic()
            self._account_cleared.clear()

    def clear_account(self, account_sid: str) -> None:
        """One account was reset (a workshop seat): only its entries go."""
        with self._lock:
            kept = [e for e in self._log if e["account_sid"] != account_sid]
            self._log.clear()
            self._log.extend(kept)
            self._account_cleared[account_sid] = time.monotonic()

    def forget(self, workspace_sid: str) -> None:
        """The workspace is gone: its lane and pool finish what they hold, then end."""
        with self._lock:
            lane = self._event_queues.pop(workspace_sid, None)
            pool = self._pools.pop(workspace_sid, None)
            answers = self._answer_lanes.pop(workspace_sid, None)
            if answers is not None:
                answers.put(None)  # after the answers already queued: they are still applied
        if lane is not None:
            lane.put(None)  # after the events already queued: they are still delivered
        if pool is not None:
            pool.shutdown(wait=False)  # running and queued callbacks finish; idle threads end

    def forget_all(self) -> None:
        with self._lock:
            workspaces = set(self._event_queues) | set(self._pools) | set(self._answer_lanes)
        for workspace_sid in workspaces:
            self.forget(workspace_sid)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            for lane in self._event_queues.values():
                lane.put(None)
            for answers in self._answer_lanes.values():
                answers.put(None)
            pools = list(self._pools.values())
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)


def _failed(started: float, error: str) -> Outcome:
    return Outcome(error=error, latency_ms=(time.perf_counter() - started) * 1000)


def _http_code(outcome: Outcome) -> int:
    """Twilio's debugger codes for webhook failures: 11200 HTTP, 11205 connection."""
    return 11205 if outcome.status is None else 11200


def _describe(outcome: Outcome) -> str:
    return outcome.error or f"HTTP {outcome.status}"


def pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
