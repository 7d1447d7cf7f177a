"""Reservations, seen from the task (``/Tasks/{TaskSid}/Reservations``) and from the worker
(``/Workers/{WorkerSid}/Reservations``). Both views share one record and one update path."""

from __future__ import annotations

from typing import Any

from .. import wire
from ..api_errors import BadRequest
from ..core import instructions
from ..models import Reservation, Task, Worker
from ..router import Context, Response, Routes, ok
from .common import check_if_match, child_of, list_response, ws_path

routes = Routes()
STATUSES = (
    "pending",
    "accepted",
    "rejected",
    "timeout",
    "canceled",
    "rescinded",
    "wrapping",
    "completed",
)
INSTRUCTIONS = ("accept", "reject", "dequeue", "call", "redirect", "conference", "supervise")


def render(reservation: Reservation, store: Any, by_worker: bool = False) -> dict[str, Any]:
    ws = ws_path(reservation.workspace_sid)
    if by_worker:
        path = f"{ws}/Workers/{reservation.worker_sid}/Reservations/{reservation.sid}"
    else:
        path = f"{ws}/Tasks/{reservation.task_sid}/Reservations/{reservation.sid}"
    worker = store.get(reservation.worker_sid)
    return {
        "account_sid": reservation.account_sid,
        "date_created": wire.iso(reservation.date_created),
        "date_updated": wire.iso(reservation.date_updated),
        "reservation_status": reservation.reservation_status,
        "sid": reservation.sid,
        "task_sid": reservation.task_sid,
        "worker_name": worker.friendly_name if worker else None,
        "worker_sid": reservation.worker_sid,
        "workspace_sid": reservation.workspace_sid,
        "url": wire.BASE_URL + path,
        "links": {  # wire.links' absolute form, written out: every accept answers one
            "task": f"{wire.BASE_URL}{ws}/Tasks/{reservation.task_sid}",
            "worker": f"{wire.BASE_URL}{ws}/Workers/{reservation.worker_sid}",
            "workspace": wire.BASE_URL + ws,
        },
    }


def _list(ctx: Context, records: list[Reservation], path: str, by_worker: bool) -> Response:
    status = ctx.query.enum("ReservationStatus", STATUSES)
    worker_sid = ctx.query.text("WorkerSid")
    records = [
        r
        for r in records
        if (status is None or r.reservation_status == status)
        and (worker_sid is None or r.worker_sid == worker_sid)
    ]
    store = ctx.store
    return list_response(ctx, "reservations", path, records, lambda r: render(r, store, by_worker))


@routes.get("/v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations")
def list_task_reservations(ctx: Context, WorkspaceSid: str, TaskSid: str) -> Response:
    child_of(ctx, Task, WorkspaceSid, TaskSid)
    records = list(ctx.store.group(Reservation, "task_sid", TaskSid).values())
    return _list(ctx, records, f"{ws_path(WorkspaceSid)}/Tasks/{TaskSid}/Reservations", False)


@routes.get("/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Reservations")
def list_worker_reservations(ctx: Context, WorkspaceSid: str, WorkerSid: str) -> Response:
    child_of(ctx, Worker, WorkspaceSid, WorkerSid)
    records = list(ctx.store.group(Reservation, "worker_sid", WorkerSid).values())
    return _list(ctx, records, f"{ws_path(WorkspaceSid)}/Workers/{WorkerSid}/Reservations", True)


@routes.get("/v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations/{Sid}")
def fetch_task_reservation(ctx: Context, WorkspaceSid: str, TaskSid: str, Sid: str) -> Response:
    child_of(ctx, Task, WorkspaceSid, TaskSid)
    reservation = child_of(ctx, Reservation, WorkspaceSid, Sid, task_sid=TaskSid)
    return ok(render(reservation, ctx.store), etag=reservation.version)


@routes.get("/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Reservations/{Sid}")
def fetch_worker_reservation(ctx: Context, WorkspaceSid: str, WorkerSid: str, Sid: str) -> Response:
    child_of(ctx, Worker, WorkspaceSid, WorkerSid)
    reservation = child_of(ctx, Reservation, WorkspaceSid, Sid, worker_sid=WorkerSid)
    return ok(render(reservation, ctx.store, True), etag=reservation.version)


@routes.post("/v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations/{Sid}")
def update_task_reservation(ctx: Context, WorkspaceSid: str, TaskSid: str, Sid: str) -> Response:
    return _update(ctx, WorkspaceSid, Sid, {"task_sid": TaskSid}, by_worker=False)


@routes.post("/v1/Workspaces/{WorkspaceSid}/Workers/{WorkerSid}/Reservations/{Sid}")
def update_worker_reservation(
    ctx: Context, WorkspaceSid: str, WorkerSid: str, Sid: str
) -> Response:
    return _update(ctx, WorkspaceSid, Sid, {"worker_sid": WorkerSid}, by_worker=True)


def _update(
    ctx: Context, workspace_sid: str, sid: str, parent: dict[str, str], by_worker: bool
) -> Response:
    p = ctx.params
    status = p.enum("ReservationStatus", STATUSES)
    name = p.enum("Instruction", INSTRUCTIONS, fold=True)
    activity_sid = p.text("WorkerActivitySid")
    if status is None and name is None:
        raise BadRequest("Pass ReservationStatus (e.g. accepted or rejected) or an Instruction")
    now = ctx.now()
    with ctx.transaction() as tx:
        reservation = child_of(ctx, Reservation, workspace_sid, sid, tx, **parent)
        check_if_match(ctx, reservation)
        if name is not None and name.lower() not in ("accept", "reject"):
            if name.lower() == "supervise" and by_worker:
                raise BadRequest("Instruction supervise is only available on a task's reservation")
            try:
                instruction = instructions.from_rest(name.lower(), p)
                reservation = instructions.execute(ctx.engine, tx, reservation, instruction, now)
            except instructions.InstructionError as error:
                raise BadRequest(error.message, code=error.code) from None
        else:
            if name is not None:
                status = "accepted" if name.lower() == "accept" else "rejected"
            reservation = ctx.engine.update_reservation(tx, reservation, status, activity_sid, now)
        return ok(render(reservation, tx, by_worker), etag=reservation.version)
