"""Requests, responses and the route table shared by the resource modules.

Each resource module owns a :class:`Routes` and registers handlers with path templates
copied from the spec (``/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}``). Literal segments win
over placeholders, so ``/TaskQueues/Statistics`` is never read as a queue sid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .api_errors import ApiError, MethodNotAllowed, NotFound
from .params import Params

if TYPE_CHECKING:
    from .app import Sandbox
    from .core.api import Core
    from .core.engine import Engine
    from .store import Store, Transaction


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    account_sid: str = ""
    raw_body: bytes = b""


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Context:
    """What a handler gets: the sandbox, the request and its parameters."""

    sandbox: Sandbox
    request: Request

    @property
    def params(self) -> Params:
        return Params(self.request.form, "post body")

    @property
    def query(self) -> Params:
        return Params(self.request.query, "query string")

    @property
    def store(self) -> Store:
        return self.sandbox.store

    @property
    def core(self) -> Core:
        return self.sandbox.core

    @property
    def engine(self) -> Engine:
        return self.sandbox.core.engine

    def now(self) -> float:
        return self.sandbox.clock.now()

    def transaction(self) -> Transaction:
        return self.sandbox.store.transaction()


Handler = Callable[..., Response]


class Routes:
    def __init__(self) -> None:
        self.table: list[tuple[str, str, Handler]] = []

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.table.append((method, template, handler))
            return handler

        return register

    def get(self, template: str) -> Callable[[Handler], Handler]:
        return self.route("GET", template)

    def post(self, template: str) -> Callable[[Handler], Handler]:
        return self.route("POST", template)

    def delete(self, template: str) -> Callable[[Handler], Handler]:
        return self.route("DELETE", template)


class Router:
    def __init__(self, *tables: Routes) -> None:
        compiled: dict[str, tuple[re.Pattern[str], dict[str, Handler], tuple[bool, ...]]] = {}
        for routes in tables:
            for method, template, handler in routes.table:
                if template not in compiled:
                    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
                    shape = tuple(s.startswith("{") for s in template.split("/"))
                    compiled[template] = (re.compile(f"^{regex}$"), {}, shape)
                compiled[template][1][method] = handler
        # Literal segments before placeholders at the same depth.
        self._routes = sorted(compiled.values(), key=lambda item: item[2])
        # By number of segments: a placeholder never spans a "/", so a path is tried only
        # against templates as deep as it is (in the same order), not all ~55 of them.
        self._by_depth: dict[int, list[tuple[re.Pattern[str], dict[str, Handler]]]] = {}
        for pattern, handlers, shape in self._routes:
            self._by_depth.setdefault(len(shape), []).append((pattern, handlers))

    def dispatch(self, ctx: Context) -> Response:
        request = ctx.request
        path = request.path.rstrip("/") or "/"
        if path.endswith(".json"):
            path = path[: -len(".json")]
        for pattern, handlers in self._by_depth.get(path.count("/") + 1, ()):
            match = pattern.match(path)
            if match is None:
                continue
            handler = handlers.get(request.method)
            if handler is None:
                raise MethodNotAllowed(
                    f"Method {request.method} is not allowed on {path}; use {', '.join(handlers)}"
                )
            return handler(ctx, **match.groupdict())
        raise NotFound(path)


def ok(body: Any, status: int = 200, etag: int | None = None) -> Response:
    headers = {"ETag": f'"{etag}"'} if etag is not None else {}
    return Response(status, body, headers)


def no_content() -> Response:
    return Response(204)


__all__ = ["ApiError", "Context", "Request", "Response", "Router", "Routes", "no_content", "ok"]
