"""A room's seats: one isolated account per learner, kept in the data dir (``seats.json``, 0600).

The facilitator's credential is the sandbox's main account (``credentials.json``): it alone may
reset, move the clock and open the facilitator's page, so no seat can reach another seat
through the control plane. Seats are the sandbox's extra accounts, each seeing only its own
workspaces. A seat's join line names the room's URL and that seat's credentials, nothing else.
"""

from __future__ import annotations

import html
import json
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..files import private_dir
from ..wire import is_sid

SEATS_FILE = "seats.json"
JOIN_PAGE = "workshop-seats.html"
SEAT_ENV = "TASKROUTER_SEAT"  # what a learner puts in .env (helpers.workshop reads it)
MAX_SEATS = 500


class SeatsError(ValueError):
    """The seats file is damaged or a seat count is out of range; the message says how to fix."""


@dataclass(frozen=True)
class Seat:
    number: int
    account_sid: str
    auth_token: str

    def __repr__(self) -> str:
        return f"Seat(number={self.number}, account_sid={self.account_sid!r}, auth_token='***')"

    def join_value(self, room_host: str, port: int) -> str:
        """``http://AC…:TOKEN@HOST:PORT``: the room's sandbox and this seat's credentials."""
        host = f"[{room_host}]" if ":" in room_host else room_host
        return f"http://{self.account_sid}:{self.auth_token}@{host}:{port}"

    def join_line(self, room_host: str, port: int) -> str:
        return f"{SEAT_ENV}={self.join_value(room_host, port)}"


def load_or_create(data_dir: Path, count: int) -> list[Seat]:
    """The seats kept in the data dir, plus new ones up to ``count``. Existing seats are never
    changed or dropped (a learner's join line stays valid across restarts)."""
    if not 1 <= count <= MAX_SEATS:
        raise SeatsError(f"--seats must be between 1 and {MAX_SEATS}, got {count}")
    path = private_dir(data_dir) / SEATS_FILE
    seats = read(data_dir)
    if len(seats) >= count:
        return seats
    seats += [
        Seat(number, "AC" + secrets.token_hex(16), secrets.token_hex(16))
        for number in range(len(seats) + 1, count + 1)
    ]
    _write_private(path, json.dumps({"seats": [_row(s) for s in seats]}, indent=1))
    return seats


def read(data_dir: Path) -> list[Seat]:
    path = data_dir / SEATS_FILE
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text())["seats"]
        seats = [Seat(int(r["number"]), str(r["account_sid"]), str(r["auth_token"])) for r in rows]
    except (ValueError, KeyError, TypeError) as error:
        raise SeatsError(
            f"{path} is damaged ({type(error).__name__}). How to fix: restore it from a backup "
            "(learners' join lines use it) or delete it to make new seats"
        ) from None
    if [s.number for s in seats] != list(range(1, len(seats) + 1)) or not all(
        is_sid(s.account_sid, "AC") and s.auth_token for s in seats
    ):
        raise SeatsError(
            f"{path} is damaged (seat numbers or SIDs). How to fix: restore or delete it"
        )
    return seats


def _row(seat: Seat) -> dict[str, object]:
    return {"number": seat.number, "account_sid": seat.account_sid, "auth_token": seat.auth_token}


def _write_private(path: Path, text: str) -> None:
    """Write to a new 0600 file, then rename: a crash never leaves half a seats file."""
    temporary = path.with_name(path.name + ".new")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def room_host(bind_host: str, join_host: str | None) -> str:
    """The address learners use: ``--join-host``, else the bound address, else (bound to every
    interface) this machine's name as its resolver sees it."""
    if join_host:
        return join_host
    if bind_host not in ("0.0.0.0", "::", ""):
        return bind_host
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return socket.gethostname()


def write_join_page(data_dir: Path, seats: list[Seat], host: str, port: int) -> Path:
    """A printable page (one card per seat, to cut and hand out), private like the data dir."""
    cards = "\n".join(
        f'<section class="card"><h2>Seat {seat.number}</h2>'
        f"<p>Put this line in the kit's <code>.env</code> file, then run <code>make lab</code>:</p>"
        f"<pre>{html.escape(seat.join_line(host, port))}</pre></section>"
        for seat in seats
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Workshop seats</title>
<style>
body {{ font-family: sans-serif; }}
.card {{ border: 1px dashed #444; padding: 0.6em 1em; margin: 0.6em 0; break-inside: avoid; }}
pre {{ font-size: 0.95em; white-space: pre-wrap; word-break: break-all; }}
</style></head><body>
<h1>TaskRouter workshop: {len(seats)} seats on {html.escape(urlsplit(f"http://{host}:{port}").netloc)}</h1>
{cards}
</body></html>
"""
    path = data_dir / JOIN_PAGE
    _write_private(path, page)
    return path
