"""The kit's app that answers TaskRouter: assignment callback, event callback, health.

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
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" codec error handler)

from .errors import CallbackServerError
from .signatures import SignatureCheck

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


class KitApp:
    """The kit's callback routes as a plain WSGI application (see :func:`create_app`).

    Not a Flask app: it answers three fixed routes, and on the assignment callback's critical
    path Flask's request and app contexts, its routing and a second parse of the form per
    request cost the kernel more than everything else the callback needs. The learner's own
    app (``helpers.serve``) stays Flask. Answers match what the Flask version gave: JSON
    bodies, 204 for events, 404/405 for other paths and methods.
    """

    def __init__(
        self,
        handler: Instruction,
        *,
        auth_token: str | None,
        verify_signatures: bool,
        public_url: Callable[[], str | None] | str | None,
        log: RequestLog,
        refused: RequestLog,
    ) -> None:
        self.handler = handler
        self.verify_signatures = verify_signatures
        self.check = SignatureCheck(auth_token) if auth_token else None
        self.public_url = public_url
        self.log = log
        self.refused = refused

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        allowed = ROUTES.get(path)
        if allowed is None:
            return _plain(start_response, "404 NOT FOUND", NOT_FOUND)
        if method not in allowed:
            return _plain(start_response, "405 METHOD NOT ALLOWED", NOT_ALLOWED,
                          [("Allow", ", ".join(sorted(allowed)))])  # fmt: skip
        if method == "OPTIONS":
            return _plain(start_response, "200 OK", b"", [("Allow", ", ".join(sorted(allowed)))])
        if path == "/health":
            return _plain(start_response, "200 OK", b'{"status": "ok"}', [], "application/json")
        started = time.perf_counter()
        kind = "assignment" if path == ASSIGNMENT_PATH else "event"
        request = _Request(environ)
        verdict, url = self.check_signature(request)
        if verdict not in ("valid", "skipped"):
            status, body, error = self.refuse(request, verdict, url)
        elif kind == "event":
            status, body, error = 204, None, None
        else:
            status, body, error = self.answer(request)
        payload = b"" if status == 204 else json.dumps(body).encode()
        record = CallbackRecord(
            kind=kind, method=method, path=path, params=request.values(), signature=verdict,
            status=status, answer=body, url=url, error=error,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )  # fmt: skip
        (self.log if record.verified else self.refused).append(record)
        return _plain(start_response, STATUS[status], payload, [], "application/json")

    def check_signature(self, request: _Request) -> tuple[str, str | None]:
        """(verdict, URL that validated or the one expected): the public URL TaskRouter
        calls through a tunnel first, then the URL the request arrived on."""
        environ = request.environ
        query = environ.get("QUERY_STRING", "")
        full_path = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
        public = self.public_url() if callable(self.public_url) else self.public_url
        candidates = [f"{public.rstrip('/')}{full_path}"] if public else []
        host = environ.get("HTTP_HOST") or (
            f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
        )
        candidates.append(f"{environ.get('wsgi.url_scheme', 'http')}://{host}{full_path}")
        if not self.verify_signatures:
            return "skipped", candidates[0]
        signature = environ.get("HTTP_X_TWILIO_SIGNATURE")
        if not signature:
            return "missing", candidates[0]
        form = request.form if request.method == "POST" else []
        assert self.check is not None
        for url in candidates:
            if self.check.validate(url, form, signature):
                return "valid", url
        return "invalid", candidates[0]

    def refuse(self, request: _Request, verdict: str, url: str | None) -> tuple[int, Any, str]:
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
        return 403, {"error": message}, message

    def answer(self, request: _Request) -> tuple[int, Any, str | None]:
        try:
            answer = self.handler(Callback("assignment", request.values()))
            if not isinstance(answer, Mapping):
                raise CallbackServerError(
                    f"the instruction function returned {answer!r}",
                    'return a dict such as {"instruction": "accept"}, or {} to decide later '
                    "via the REST API",
                )
            answer = dict(answer)
            json.dumps(answer)  # fail here, with the learner's error, not while answering
        except Exception as error:  # the learner's code: answer 500, never kill the server
            message = f"{type(error).__name__}: {error}"
            logger.warning("Assignment callback failed: %s", message)
            return 500, {"error": message}, message
        return 200, answer, None


ROUTES = {
    ASSIGNMENT_PATH: frozenset({"GET", "POST", "HEAD", "OPTIONS"}),
    EVENTS_PATH: frozenset({"POST", "OPTIONS"}),
    "/health": frozenset({"GET", "HEAD", "OPTIONS"}),
}
STATUS = {
    200: "200 OK",
    204: "204 NO CONTENT",
    403: "403 FORBIDDEN",
    500: "500 INTERNAL SERVER ERROR",
}
NOT_FOUND = b"<!doctype html><title>404 Not Found</title><h1>Not Found</h1>"
NOT_ALLOWED = b"<!doctype html><title>405 Method Not Allowed</title><h1>Method Not Allowed</h1>"


def _plain(
    start_response: Callable[..., Any],
    status: str,
    body: bytes,
    headers: list[tuple[str, str]] | None = None,
    content_type: str = "text/html; charset=utf-8",
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                            *(headers or [])])  # fmt: skip
    return [body]


class _Request:
    """The request's form (read once) and query, parsed as Flask/werkzeug parse them."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.method: str = environ.get("REQUEST_METHOD", "GET")
        self.path: str = environ.get("PATH_INFO", "")
        self.args = _pairs(environ.get("QUERY_STRING", "").encode("latin-1"))
        self.form: list[tuple[str, str]] = []
        if (
            self.method in ("POST", "PUT", "PATCH", "DELETE")
            and environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
            == "application/x-www-form-urlencoded"
        ):
            length = environ.get("CONTENT_LENGTH") or ""
            stream = environ["wsgi.input"]
            body = stream.read(int(length)) if length.isdigit() else stream.read()
            self.form = _pairs(body)

    def values(self) -> dict[str, str]:
        """Query and form in one dict; the first value of a name wins, the query's first
        (werkzeug's ``request.values.to_dict()``)."""
        merged: dict[str, str] = {}
        for name, value in (*self.args, *self.form):
            merged.setdefault(name, value)
        return merged


def _pairs(raw: bytes) -> list[tuple[str, str]]:
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return []  # werkzeug's form parser drops an undecodable body silently too
    return parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")


def create_app(
    handler: Instruction,
    *,
    auth_token: str | None,
    verify_signatures: bool = True,
    public_url: Callable[[], str | None] | str | None = None,
    log: RequestLog | None = None,
    refused: RequestLog | None = None,
) -> KitApp:
    """The kit's WSGI app answering assignment callbacks with ``handler(callback)``'s dict.

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
    return KitApp(
        handler,
        auth_token=auth_token,
        verify_signatures=verify_signatures,
        public_url=public_url,
        log=log if log is not None else RequestLog(),
        refused=refused if refused is not None else RequestLog(),
    )
