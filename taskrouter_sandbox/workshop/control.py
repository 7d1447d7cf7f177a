"""The workshop's part of the control plane, ``/_sandbox/workshop/…``.

Facilitator only (the sandbox's main account; a seat gets 403, a stranger 401):

* ``GET /_sandbox/workshop`` — the facilitator's page (HTML, live).
* ``GET /_sandbox/workshop/status`` — every seat's milestones, workspaces, last errors (JSON).
* ``POST /_sandbox/workshop/seats/{Seat}/reset`` — empty one seat (its workspaces, log, progress).
* ``POST /_sandbox/workshop/reset`` — empty every seat (the whole sandbox).

The room's clock is moved with ``POST /_sandbox/clock`` (facilitator only): the sandbox has
one clock, so moving it fires every seat's due timers; there is no per-seat clock.

Any seat, for itself only:

* ``POST /_sandbox/workshop/check-callback`` (``Url``) — the sandbox POSTs once to ``Url``,
  signed with that seat's token as its callbacks are, and says whether it got through and, if
  not, the likely cause and its fix.

POSTs from the page must carry ``X-Workshop-Action: 1``: a header a cross-site form cannot
send, so another site cannot make the facilitator's browser reset seats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..api_errors import ApiError, BadRequest
from ..dispatch import Delivery
from ..router import Context, Response, Routes, ok
from ..urls import check_callback_url
from .page import facilitator_page
from .path_check import diagnose

if TYPE_CHECKING:
    from .room import Room

routes = Routes()
ACTION_HEADER = "x-workshop-action"
CHECK_TIMEOUT = 3.0


def _room(ctx: Context) -> Room:
    room = getattr(ctx.sandbox, "workshop", None)
    if room is None:
        raise ApiError(
            "This sandbox runs without seats. How to fix: start it with "
            "`python -m taskrouter_sandbox workshop --seats N`",
            code=20404,
            status=404,
        )
    return room  # type: ignore[no-any-return]


def _facilitator(ctx: Context, action: bool = False) -> Room:
    room = _room(ctx)
    if ctx.request.account_sid != ctx.sandbox.config.account_sid:
        raise ApiError(
            "Only the facilitator may do this; a seat sees only its own workspaces",
            code=20403,
            status=403,
        )
    if action and ctx.request.headers.get(ACTION_HEADER) != "1":
        raise ApiError(
            f"Workshop actions need the header {ACTION_HEADER.title()}: 1 (the facilitator's "
            "page and the CLI send it)",
            code=20403,
            status=403,
        )
    return room


@routes.get("/_sandbox/workshop")
def page(ctx: Context) -> Response:
    room = _facilitator(ctx)
    body = facilitator_page(len(room.seats)).encode()
    headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
    return Response(200, body, headers)


@routes.get("/_sandbox/workshop/status")
def status(ctx: Context) -> Response:
    return ok(_facilitator(ctx).status())


@routes.post("/_sandbox/workshop/seats/{Seat}/reset")
def reset_seat(ctx: Context, Seat: str) -> Response:
    room = _facilitator(ctx, action=True)
    seat = room.seat(int(Seat)) if Seat.isascii() and Seat.isdigit() and len(Seat) < 5 else None
    if seat is None:
        raise BadRequest(f"There is no seat {Seat!r}: seats are numbered 1 to {len(room.seats)}")
    return ok({"seat": seat.number, "workspaces_deleted": room.reset_seat(seat)})


@routes.post("/_sandbox/workshop/reset")
def reset_room(ctx: Context) -> Response:
    room = _facilitator(ctx, action=True)
    room.reset_all()
    return ok({"status": "reset", "seats": len(room.seats)})


@routes.post("/_sandbox/workshop/check-callback")
def check_callback(ctx: Context) -> Response:
    room = _room(ctx)
    seat = room.seat_of(ctx.request.account_sid)
    if seat is None:
        raise ApiError("Only a seat checks its callback path", code=20403, status=403)
    url = check_callback_url(ctx.params.text("Url", required=True), "Url")
    assert url is not None
    delivery = Delivery(
        "check", "", seat.account_sid, url, {"AccountSid": seat.account_sid, "WorkshopCheck": "1"},
        auth_token=seat.auth_token,
    )  # fmt: skip
    outcome = ctx.sandbox.webhooks.dispatcher.post(delivery, CHECK_TIMEOUT)
    return ok(diagnose(url, outcome.status, outcome.error, CHECK_TIMEOUT))
