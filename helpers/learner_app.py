"""Running the *learner's own* Flask app in the kernel, and watching what it answers.

Notebooks 01 and 02 teach the code a real app needs: a ``Flask`` app whose
``/assignment_callback`` route checks ``X-Twilio-Signature`` and returns the instruction. The
kit does not hide that app; it only *runs* it (``helpers.serve(app)``, on the re-run-safe
:class:`~helpers.server.CallbackServer` machinery) and wraps it in :class:`Recorder`, a WSGI
middleware that logs each callback — its parameters, whether the signature would validate,
the status and the answer the learner's route gave — into ``server.requests``, so the notebook
can show and check what happened. The middleware never changes a request or an answer.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from .callbacks import ASSIGNMENT_PATH, EVENTS_PATH, CallbackRecord, RequestLog
from .signatures import SignatureCheck

WSGIApp = Callable[..., Iterable[bytes]]
QUIET_PATHS = ("/health", "/favicon.ico")


def _kind(path: str) -> str:
    return {ASSIGNMENT_PATH: "assignment", EVENTS_PATH: "event"}.get(path, "other")


class Recorder:
    """WSGI middleware: pass every request to ``app`` unchanged and log what it answered."""

    def __init__(
        self,
        app: WSGIApp,
        log: RequestLog,
        auth_token: str | None,
        public_url: Callable[[], str | None],
    ) -> None:
        self.app = app
        self.log = log
        self.check = SignatureCheck(auth_token) if auth_token else None
        self.public_url = public_url

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path in QUIET_PATHS:
            return self.app(environ, start_response)
        started = time.perf_counter()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # the app reads the same bytes again
        query = environ.get("QUERY_STRING", "")
        params = dict(parse_qsl(query))
        form: list[tuple[str, str]] = []
        if "form-urlencoded" in environ.get("CONTENT_TYPE", ""):
            form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            params.update(form)
        status: list[int] = []

        def capture(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(int(line.split()[0]))
            return start_response(line, headers, exc_info)

        result = self.app(environ, capture)
        try:
            chunks = list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        signature, url = self._verdict(environ, path, query, form)
        self.log.append(
            CallbackRecord(
                kind=_kind(path),
                method=environ.get("REQUEST_METHOD", "?"),
                path=path,
                params=params,
                signature=signature,
                status=status[0] if status else 500,
                answer=_parse(b"".join(chunks)),
                latency_ms=round((time.perf_counter() - started) * 1000, 2),
                url=url,
            )
        )
        return chunks

    def _verdict(
        self, environ: dict[str, Any], path: str, query: str, form: list[tuple[str, str]]
    ) -> tuple[str, str | None]:
        """Would TaskRouter's signature validate? Checked against the public URL, then loopback."""
        full_path = path + (f"?{query}" if query else "")
        public = (self.public_url() or "").rstrip("/")
        host = environ.get("HTTP_HOST") or f"127.0.0.1:{environ.get('SERVER_PORT')}"
        candidates = [f"{public}{full_path}"] if public else []
        candidates.append(f"http://{host}{full_path}")
        signature = environ.get("HTTP_X_TWILIO_SIGNATURE")
        if self.check is None:
            return "skipped", candidates[0]
        if not signature:
            return "missing", candidates[0]
        signed = form if environ.get("REQUEST_METHOD") == "POST" else []
        for url in candidates:
            if self.check.validate(url, signed, signature):
                return "valid", url
        return "invalid", candidates[0]


def _parse(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:500]
