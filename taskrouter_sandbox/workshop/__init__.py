"""Workshop mode: one sandbox for a room, a seat (an isolated account) for each learner, and a
facilitator's live page. ``python -m taskrouter_sandbox workshop --seats N`` runs
:func:`serve_room`; see ``docs/workshop.md``.

Modules: ``seats`` (accounts and join lines, kept in the data dir), ``progress`` (milestones
from what the sandbox saw), ``room`` (status, per-seat reset), ``control`` (routes under
``/_sandbox/workshop``), ``page`` (the facilitator's page), ``path_check`` (the callback path
check's diagnosis).
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import private_file
from ..http_server import warn
from . import seats as seats_module

if TYPE_CHECKING:
    from ..app import Sandbox

ACTION_HEADERS = {"X-Workshop-Action": "1"}


def network_warning(host: str, port: int) -> str | None:
    """The loud banner for an address other hosts can reach; None for loopback."""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        if host == "localhost":
            return None
    bar = "!" * 78
    return (
        f"\n{bar}\nWARNING: this sandbox listens on {host}:{port}: it is reachable FROM THE "
        "NETWORK.\nAnyone on this network with a seat's line can use that seat. Run it only "
        "for the\nworkshop, on a network you trust, and stop it (Ctrl-C) afterwards.\n" + bar
    )


def serve_room(
    data_dir: Path,
    host: str,
    port: int,
    seat_count: int,
    join_host: str | None = None,
    event_bridge_port: int | None = 0,
) -> None:
    """Make (or reload) the seats, write the printable join page, print the join lines, and
    serve in the foreground with the facilitator (the main account) and one account per seat."""
    from .. import process
    from .room import Room

    seats = seats_module.load_or_create(data_dir, seat_count)
    facilitator = process.credentials(data_dir)
    public_host = seats_module.room_host(host, join_host)
    page = seats_module.write_join_page(data_dir, seats, public_host, port)
    warning = network_warning(host, port)
    if warning:
        warn(warning)
    print(f"Workshop: {len(seats)} seats. Join lines (also in {page}, to print):", flush=True)
    for seat in seats:
        print(f"  seat {seat.number:>3}: {seat.join_line(public_host, port)}", flush=True)
    print(
        f"Facilitator's page: http://{public_host}:{port}/_sandbox/workshop  (user "
        f"{facilitator.account_sid}, password: auth_token in {data_dir / 'credentials.json'})",
        flush=True,
    )

    def attach(sandbox: Sandbox) -> None:
        sandbox.workshop = Room(sandbox, seats)

    extra = tuple((seat.account_sid, seat.auth_token) for seat in seats)
    state = private_file(data_dir / process.STATE_FILE)  # so status/stop/reset --seat find it
    reach = "127.0.0.1" if host in ("0.0.0.0", "") else host
    state.write_text(json.dumps({"pid": os.getpid(), "host": reach, "port": port}))
    try:
        process.serve(data_dir, host, port, facilitator.account_sid, facilitator.auth_token,
                      extra, event_bridge_port, setup=attach)  # fmt: skip
    finally:
        state.unlink(missing_ok=True)
