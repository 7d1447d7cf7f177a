"""The bridge's HTTP endpoint: the SDK's REST calls, wrapped in one JSON POST.

``util/Request.js`` (twilio-taskrouter 2.1.1) POSTs every call to ``ebServer`` with the body
``{"url": "Workspaces/WS…/Workers/WK…", "method": "GET"|"POST", "params": {…}, "token": …}``
and headers ``apiVersion`` (``v1``/``v2``), ``clientVersion`` and, with
``enableVersionCheck``, ``If-Match``. It reads ``response.data.payload``; on an error status it
reads ``response.data.message``. The routes it uses are in ``util/Routes.js``.

Each call is checked against the token's grant, then performed through the sandbox's own REST
handlers (the same validation, engine paths and errors as the REST API), and answered with
the record in the bridge's shapes (:mod:`.payloads`).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ..api_errors import ApiError
from ..models import Activity, R, Reservation, Task, Worker, WorkerChannel
from ..router import Request
from . import payloads, tokens

if TYPE_CHECKING:
    from ..app import Sandbox

SID = r"[A-Za-z0-9]+"
ROUTES = [
    ("worker", re.compile(rf"^Workspaces/(?P<ws>{SID})/Workers/(?P<wk>{SID})$")),
    ("activities", re.compile(rf"^Workspaces/(?P<ws>{SID})/Activities$")),
    ("channels", re.compile(rf"^Workspaces/(?P<ws>{SID})/Workers/(?P<wk>{SID})/WorkerChannels$")),
    ("reservations", re.compile(rf"^Workspaces/(?P<ws>{SID})/Workers/(?P<wk>{SID})/Reservations$")),
    ("reservation", re.compile(
        rf"^Workspaces/(?P<ws>{SID})/Workers/(?P<wk>{SID})/Reservations/(?P<wr>{SID})$")),
    ("task", re.compile(rf"^Workspaces/(?P<ws>{SID})/Tasks/(?P<wt>{SID})$")),
    ("tasks", re.compile(rf"^Workspaces/(?P<ws>{SID})/Tasks$")),
]  # fmt: skip
ACTIVE = ("pending", "accepted", "wrapping")  # the v2 list's Active=true


class BridgeError(Exception):
    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code, "status": self.status}


def handle(sandbox: Sandbox, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """Perform one request; its answer (``{"payload": …}``) or :class:`BridgeError`."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        raise BridgeError(400, "The body is not JSON: send {url, method, params, token}") from None
    if not isinstance(request, dict):
        raise BridgeError(400, "The body must be a JSON object: {url, method, params, token}")
    try:
        grant = tokens.verify(sandbox, request.get("token"))
    except tokens.TokenRefused as refused:
        raise BridgeError(refused.status, refused.message) from None
    url, method = str(request.get("url", "")).strip("/"), str(request.get("method", "")).upper()
    params = request.get("params") or {}
    if method not in ("GET", "POST") or not isinstance(params, dict):
        raise BridgeError(400, "method must be GET or POST and params an object")
    for name, pattern in ROUTES:
        match = pattern.match(url)
        if match:
            return {"payload": _perform(sandbox, grant, name, match.groupdict(), method,
                                        params, headers)}  # fmt: skip
    raise BridgeError(404, f"The sandbox's event bridge does not emulate {method} {url!r}")


def _perform(
    sandbox: Sandbox,
    grant: tokens.WorkerGrant,
    name: str,
    sids: dict[str, str],
    method: str,
    params: dict[str, Any],
    headers: dict[str, str],
) -> Any:
    if sids["ws"] != grant.workspace_sid:
        raise BridgeError(
            403, f"The token grants workspace {grant.workspace_sid}, not {sids['ws']}"
        )
    if "wk" in sids and sids["wk"] != grant.worker_sid:
        raise BridgeError(403, f"The token speaks for worker {grant.worker_sid}, not {sids['wk']}")
    if method == "POST":
        if name not in ("worker", "reservation", "task", "tasks"):
            raise BridgeError(405, f"POST is not allowed on {name}")
        path = "/v1/" + "/".join(_rest_path(name, sids))
        created = _rest(sandbox, grant, path, params, headers.get("if-match"))
        if name == "tasks":
            sids["wt"] = str(created.get("sid"))
    store, now = sandbox.store, sandbox.clock.now()
    with store.lock:
        return _render(name, sids, store, now)


def _rest_path(name: str, sids: dict[str, str]) -> list[str]:
    ws = ["Workspaces", sids["ws"]]
    return {
        "worker": [*ws, "Workers", sids.get("wk", "")],
        "reservation": [*ws, "Workers", sids.get("wk", ""), "Reservations", sids.get("wr", "")],
        "task": [*ws, "Tasks", sids.get("wt", "")],
        "tasks": [*ws, "Tasks"],
    }[name]


def _rest(
    sandbox: Sandbox, grant: tokens.WorkerGrant, path: str, params: dict[str, Any],
    if_match: str | None,
) -> dict[str, Any]:  # fmt: skip
    """POST through the sandbox's REST handlers, as the worker's account."""
    form = {key: [_form_value(value)] for key, value in params.items() if value is not None}
    request = Request("POST", path, {}, form, {"if-match": if_match} if if_match else {},
                      account_sid=grant.account_sid)  # fmt: skip
    try:
        response = sandbox.handle(request)
    except ApiError as error:
        raise BridgeError(error.status, error.message, error.code) from None
    return response.body if isinstance(response.body, dict) else {}


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _render(name: str, sids: dict[str, str], store: Any, now: float) -> Any:
    def found(sid: str | None, cls: type[R]) -> R:
        record: R | None = store.get(sid or "", cls)
        if record is None or record.workspace != sids["ws"]:
            raise BridgeError(404, f"No {cls.kind} {sid} in workspace {sids['ws']}", 20404)
        return record

    if name == "worker":
        return payloads.worker(found(sids["wk"], Worker), store)
    if name == "activities":
        records = [r for r in store.group(Activity, "workspace_sid", sids["ws"]).values()
                   if isinstance(r, Activity)]  # fmt: skip
        return {"contents": [payloads.activity(r) for r in records], "after_sid": None}
    if name == "channels":
        records = store.group(WorkerChannel, "worker_sid", sids["wk"]).values()
        return {"contents": [payloads.channel(r, store) for r in records
                             if isinstance(r, WorkerChannel)], "after_sid": None}  # fmt: skip
    if name == "reservations":
        records = store.group(Reservation, "worker_sid", sids["wk"]).values()
        active = [
            r for r in records if isinstance(r, Reservation) and r.reservation_status in ACTIVE
        ]
        return {"contents": [payloads.reservation(r, store, now) for r in active],
                "after_sid": None}  # fmt: skip
    if name == "reservation":
        record = found(sids["wr"], Reservation)
        if record.worker_sid != sids["wk"]:
            raise BridgeError(404, f"No reservation {sids['wr']} for worker {sids['wk']}", 20404)
        return payloads.reservation(record, store, now)
    return payloads.task(found(sids.get("wt"), Task), store, now)
