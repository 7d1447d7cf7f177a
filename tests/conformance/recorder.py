"""Capture every raw HTTP exchange the real SDK makes, tagged with its spec operation id.

The SDK's instances hide the wire (missing keys become None, odd dates stay strings), so
conformance is checked on the raw responses: a :class:`RecordingClient` sits where the SDK's
HTTP client goes and keeps status, headers and parsed body of each call.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from functools import cache
from typing import Any

from twilio.http.response import Response
from twilio.rest import Client

from helpers.client import ISOLATED_ENV, SandboxHttpClient

from . import spec

PLACEHOLDER = re.compile(r"^\{\w+\}$")


@dataclass
class Exchange:
    """One request/response pair as it crossed the wire."""

    method: str
    path: str
    query: dict[str, Any]
    data: Any
    status: int
    headers: dict[str, str]  # lower-case names
    text: str
    body: Any
    operation_id: str | None

    def describe(self) -> str:
        """A one-paragraph summary for assertion messages: what was sent and what came back."""
        query = f"?{urllib.parse.urlencode(self.query, doseq=True)}" if self.query else ""
        data = f" data={self.data!r}" if self.data else ""
        return (
            f"{self.operation_id or '?'}: {self.method} {self.path}{query}{data} -> "
            f"{self.status} {self.text[:2000]}"
        )


@cache
def _templates() -> list[tuple[tuple[str, ...], str, str]]:
    """(segments, METHOD, operation_id), most literal segments first."""
    rows = [
        (tuple(path.strip("/").split("/")), method, op) for op, method, path in spec.operations()
    ]
    return sorted(rows, key=lambda row: sum(bool(PLACEHOLDER.match(s)) for s in row[0]))


def operation_for(method: str, path: str) -> str | None:
    """The spec operation a request hits; literal segments beat placeholders, as on Twilio.

    ``path`` is the URL path as sent (``/v1/Workspaces/WS.../TaskQueues/Statistics``); a
    trailing slash or ``.json`` suffix is tolerated like the server tolerates it.
    """
    clean = path.rstrip("/").removesuffix(".json")
    segments = tuple(clean.strip("/").split("/"))
    for template, verb, operation_id in _templates():
        if verb != method.upper() or len(template) != len(segments):
            continue
        if all(PLACEHOLDER.match(t) or t == s for t, s in zip(template, segments, strict=True)):
            return operation_id
    return None


class RecordingClient(SandboxHttpClient):
    """A SandboxHttpClient that also appends every exchange to :attr:`exchanges`."""

    def __init__(self, target: str, **kwargs: Any) -> None:
        super().__init__(target, **kwargs)
        self.exchanges: list[Exchange] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().request(method, url, *args, **kwargs)
        parts = urllib.parse.urlsplit(url)
        query = dict(kwargs.get("params") or {})
        query.update(urllib.parse.parse_qs(parts.query))
        try:
            body = json.loads(response.text) if response.text else None
        except ValueError:
            body = response.text
        self.exchanges.append(
            Exchange(
                method=method.upper(),
                path=parts.path,
                query=query,
                data=kwargs.get("data"),
                status=response.status_code,
                headers={k.lower(): v for k, v in (response.headers or {}).items()},
                text=response.text or "",
                body=body,
                operation_id=operation_for(method, parts.path),
            )
        )
        return response

    def for_operation(self, operation_id: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.operation_id == operation_id]


@dataclass
class Recorded:
    """A real ``twilio.rest.Client`` for the sandbox plus the recorder behind it."""

    client: Client
    http: RecordingClient

    @property
    def exchanges(self) -> list[Exchange]:
        return self.http.exchanges

    def since(self, mark: int) -> list[Exchange]:
        return self.http.exchanges[mark:]


def recording_client(url: str, account_sid: str, auth_token: str) -> Recorded:
    """A real SDK client talking to the sandbox at ``url`` through a recorder."""
    http = RecordingClient(url)
    client = Client(account_sid, auth_token, http_client=http, environment=ISOLATED_ENV)
    return Recorded(client, http)
