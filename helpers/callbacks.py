"""The Flask app that answers TaskRouter: assignment callback, event callback, health.

``create_app`` is a pure factory (no import-time side effects, no global state), so every
:class:`~helpers.server.CallbackServer` owns its own app and a re-run cell never shares one.
Signatures are checked against the URL TaskRouter actually called: the *public* base URL when
the server is exposed through a tunnel (the server itself only sees a loopback URL, which is
the classic "signature fails behind ngrok" trap), else the URL the request arrived on.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from .errors import CallbackServerError

logger = logging.getLogger("helpers.callbacks")

LOG_SIZE = 500
ASSIGNMENT_PATH = "/assignment_callback"
EVENTS_PATH = "/events"
JSON_FIELDS = ("TaskAttributes", "WorkerAttributes")


def _decode(text: str | None) -> Any:
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return text  # shown as-is: TaskRouter always sends JSON, a hand-made request may not


@dataclass(frozen=True)
class Callback:
    """One callback as the learner's instruction function sees it.

    ``callback["TaskSid"]`` reads a form parameter; ``TaskAttributes``/``WorkerAttributes``
    come back JSON-decoded, also as ``callback.task_attributes``/``worker_attributes``.
    """

    kind: str  # "assignment" | "event"
    params: dict[str, str]

    @property
    def task_attributes(self) -> Any:
        return _decode(self.params.get("TaskAttributes"))

    @property
    def worker_attributes(self) -> Any:
        return _decode(self.params.get("WorkerAttributes"))

    def __getitem__(self, name: str) -> Any:
        return _decode(self.params[name]) if name in JSON_FIELDS else self.params[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self.params else default

    def __getattr__(self, name: str) -> Any:
        """``callback.task_sid`` == ``callback["TaskSid"]`` (None when absent)."""
        if name.startswith("_"):
            raise AttributeError(name)
        return self.params.get("".join(part.capitalize() for part in name.split("_")))


@dataclass
class CallbackRecord:
    """What one request was, how it was judged and what it was answered; no secrets."""

    kind: str
    method: str
    path: str
    params: dict[str, str]
    signature: str  # "valid" | "invalid" | "missing" | "skipped"
    status: int
    answer: Any
    latency_ms: float
    time: float = field(default_factory=time.time)
    url: str | None = None  # the URL the signature was checked against
    error: str | None = None

    @property
    def verified(self) -> bool:
        """Signed by TaskRouter (or checking is off): only such requests count as callbacks."""
        return self.signature in ("valid", "skipped")

    @property
    def callback(self) -> Callback:
        return Callback(self.kind, self.params)

    @property
    def task_attributes(self) -> Any:
        return self.callback.task_attributes

    @property
    def worker_attributes(self) -> Any:
        return self.callback.worker_attributes


class RequestLog:
    """A bounded, thread-safe, list-like log of callbacks, newest last."""

    def __init__(self, maxlen: int = LOG_SIZE) -> None:
        self._items: collections.deque[CallbackRecord] = collections.deque(maxlen=maxlen)
        self._changed = threading.Condition()

    def append(self, record: CallbackRecord) -> None:
        with self._changed:
            self._items.append(record)
            self._changed.notify_all()

    def snapshot(self) -> list[CallbackRecord]:
        with self._changed:
            return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[CallbackRecord]:
        return iter(self.snapshot())

    def __getitem__(self, index: Any) -> Any:
        return self.snapshot()[index]

    def __bool__(self) -> bool:
        return bool(self._items)

    def clear(self) -> None:
        with self._changed:
            self._items.clear()

    def of_kind(self, kind: str) -> list[CallbackRecord]:
        return [r for r in self.snapshot() if r.kind == kind]

    def wait_for(
        self, predicate: Callable[[CallbackRecord], bool], timeout: float
    ) -> CallbackRecord | None:
        """The first record (oldest first) matching ``predicate``, waiting up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for record in self._items:
                    if predicate(record):
                        return record
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(min(left, 0.25))  # short waits keep Ctrl-C responsive

    def __repr__(self) -> str:
        return f"RequestLog({len(self)} callbacks)"


Instruction = Callable[[Callback], Any]


def create_app(
    handler: Instruction,
    *,
    auth_token: str | None,
    verify_signatures: bool = True,
    public_url: Callable[[], str | None] | str | None = None,
    log: RequestLog | None = None,
    refused: RequestLog | None = None,
) -> Flask:
    """A Flask app answering assignment callbacks with ``handler(callback)``'s dict.

    ``public_url`` (a string or a zero-argument callable, read per request) is the base URL
    TaskRouter calls when the server sits behind a tunnel. Unsigned or forged requests get 403
    and go to ``refused``, never to ``log``: any web page the learner visits can POST a form
    to a loopback server, so only a request signed with the auth token is a callback.
    """
    if verify_signatures and not auth_token:
        raise CallbackServerError(
            "An auth token is needed to verify X-Twilio-Signature",
            "pass auth_token=helpers.auth_token(), or verify_signatures=False to switch the "
            "check off explicitly",
        )
    validator = RequestValidator(auth_token) if auth_token else None
    log = log if log is not None else RequestLog()
    refused_log = refused if refused is not None else RequestLog()
    app = Flask("helpers.callbacks")
    app.config["KIT_REQUESTS"] = log
    app.config["KIT_REFUSED"] = refused_log

    def base_url() -> str | None:
        value = public_url() if callable(public_url) else public_url
        return value.rstrip("/") if value else None

    def check_signature() -> tuple[str, str | None]:
        """(verdict, URL that validated or the one expected)."""
        full_path = request.full_path.rstrip("?")
        public = base_url()
        candidates = [f"{public}{full_path}"] if public else []
        candidates.append(request.host_url.rstrip("/") + full_path)  # called on loopback
        if not verify_signatures:
            return "skipped", candidates[0]
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            return "missing", candidates[0]
        params = request.form if request.method == "POST" else {}
        assert validator is not None
        for url in candidates:
            if validator.validate(url, params, signature):
                return "valid", url
        return "invalid", candidates[0]

    def reply(kind: str, started: float, status: int, body: Any, **extra: Any) -> Response:
        payload = b"" if status == 204 else json.dumps(body).encode()
        response = Response(payload, status=status, mimetype="application/json")
        record = CallbackRecord(
            kind=kind,
            method=request.method,
            path=request.path,
            params=request.values.to_dict(),
            status=status,
            answer=body,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            **extra,
        )
        (log if record.verified else refused_log).append(record)
        return response

    def refuse(kind: str, started: float, verdict: str, url: str | None) -> Response | None:
        if verdict in ("valid", "skipped"):
            return None
        why = (
            "no X-Twilio-Signature header"
            if verdict == "missing"
            else "a signature that does not match"
        )
        message = (
            f"refused: {why} for {url}; TaskRouter signs with your auth token. "
            "If this is TaskRouter, check the server's auth_token and that expose() recorded "
            "the public URL the workflow calls."
        )
        logger.warning("Callback %s %s %s", request.method, request.path, message)
        return reply(
            kind, started, 403, {"error": message}, signature=verdict, url=url, error=message
        )

    @app.route(ASSIGNMENT_PATH, methods=["GET", "POST"])
    def assignment_callback() -> Response:
        started = time.perf_counter()
        verdict, url = check_signature()
        refused = refuse("assignment", started, verdict, url)
        if refused is not None:
            return refused
        callback = Callback("assignment", request.values.to_dict())
        try:
            answer = handler(callback)
            if not isinstance(answer, Mapping):
                raise CallbackServerError(
                    f"the instruction function returned {answer!r}",
                    'return a dict such as {"instruction": "accept"}, or {} to decide later '
                    "via the REST API",
                )
            answer = dict(answer)
            json.dumps(answer)  # fail here, with the learner's error, not deep inside Flask
        except Exception as error:  # the learner's code: answer 500, never kill the server
            message = f"{type(error).__name__}: {error}"
            logger.warning("Assignment callback failed: %s", message)
            return reply(
                "assignment", started, 500, {"error": message},
                signature=verdict, url=url, error=message,
            )  # fmt: skip
        return reply("assignment", started, 200, answer, signature=verdict, url=url)

    @app.post(EVENTS_PATH)
    def events() -> Response:
        started = time.perf_counter()
        verdict, url = check_signature()
        refused = refuse("event", started, verdict, url)
        if refused is not None:
            return refused
        return reply("event", started, 204, None, signature=verdict, url=url)

    @app.get("/health")
    def health() -> Response:
        return Response(b'{"status": "ok"}', status=200, mimetype="application/json")

    return app
