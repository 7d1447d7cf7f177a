"""A real Flask server on loopback that plays the learner's callback app in engine tests.

Its answer is set per test (status, content type, body, delay) and every request it gets is
recorded with the signature verdict, so tests can check what TaskRouter (the sandbox) sent.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server


@dataclass
class Answer:
    body: Any = field(default_factory=dict)  # dict -> JSON; str/bytes as is; or f(form)
    status: int = 200
    content_type: str = "application/json"
    delay: float = 0.0


@dataclass
class Received:
    path: str
    form: dict[str, str]
    signature_valid: bool
    at: float
    authorization: str | None = None  # the Authorization header, if the caller sent one


class Receiver:
    def __init__(self, auth_token: str) -> None:
        self.validator = RequestValidator(auth_token)
        self.answers: dict[str, Answer] = {"/assignment": Answer(), "/fallback": Answer()}
        self.received: list[Received] = []
        self._lock = threading.Lock()
        app = Flask("receiver")

        @app.post("/<path:name>")
        def receive(name: str) -> Response:
            form = request.form.to_dict()
            url = request.url
            valid = self.validator.validate(
                url, form, request.headers.get("X-Twilio-Signature", "")
            )
            with self._lock:
                self.received.append(
                    Received("/" + name, form, valid, time.monotonic(),
                             request.headers.get("Authorization"))
                )  # fmt: skip
            answer = self.answers.get("/" + name, Answer(body="", status=204))
            if answer.delay:
                time.sleep(answer.delay)
            body = answer.body(form) if callable(answer.body) else answer.body
            if isinstance(body, dict):
                body = json.dumps(body)
            return Response(body, status=answer.status, content_type=answer.content_type)

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str = "/assignment", **kwargs: Any) -> None:
        self.answers[path] = Answer(**kwargs)

    def requests(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.requests(path)
            if len(got) >= count:
                return got
            time.sleep(0.01)
        raise AssertionError(f"{path}: expected {count} requests, got {len(self.requests(path))}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
