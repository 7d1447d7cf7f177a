"""Joining a workshop: the room's sandbox and this learner's seat, from one line.

The facilitator hands each learner a line ``TASKROUTER_SEAT=http://AC…:TOKEN@HOST:PORT`` (put
it in the kit's ``.env``, or run ``TASKROUTER_SEAT=… make lab``). Then ``helpers.connect()``
talks to the room's sandbox as that seat, and callbacks come back to this machine:

    server = helpers.serve(app)  # or CallbackServer().start(): listens on this machine's address
    helpers.expose(server)       # the room calls it once to check, then it is the server's URL

The notebooks' own calls follow the seat (``server.default_host``, ``tunnel.expose``), so they
run unchanged in a room; ``callback_server()`` and ``expose()`` here do the same with explicit
settings. ``expose`` asks the room's sandbox to call the server
(``POST /_sandbox/workshop/check-callback``, signed with the seat's token like its callbacks)
and raises with the fix when it cannot: a firewall, the wrong interface, or the wrong port.
A port already taken on this machine is refused when the server starts, with its own fix.
``TASKROUTER_CALLBACK_HOST`` names the address to listen on when the one found (the interface
that routes to the room) is not it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .config import Settings, load_settings
from .errors import ConfigError, WorkshopError

if TYPE_CHECKING:
    from taskrouter_sandbox.control_client import ControlClient, Credentials

    from .callbacks import Callback
    from .server import CallbackServer

SEAT_ENV = "TASKROUTER_SEAT"
HOST_ENV = "TASKROUTER_CALLBACK_HOST"
CHECK_PATH = "/workshop-check"


def parse_seat(value: str) -> tuple[str, str, str]:
    """``(room_url, account_sid, auth_token)`` from a join value; never echoes the token."""
    parts = urlsplit(value.strip())
    sid, token = parts.username or "", parts.password or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or not parts.hostname or not port:
        raise ConfigError(
            f"{SEAT_ENV} is not a seat line (expected http://AC…:TOKEN@HOST:PORT)",
            "copy the whole line from your seat's card, e.g. into .env",
        )
    if not (sid.startswith("AC") and len(sid) == 34 and token):
        raise ConfigError(
            f"{SEAT_ENV} names no seat account (AC… and its token before the @)",
            "copy the whole line from your seat's card; ask the facilitator for a new one",
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"http://{host}:{port}", sid, token


def room_url(settings: Settings) -> str:
    assert settings.seat is not None
    return parse_seat(settings.seat)[0]


def seat_credentials(settings: Settings) -> Credentials:
    from taskrouter_sandbox.control_client import Credentials

    assert settings.seat is not None
    _, sid, token = parse_seat(settings.seat)
    return Credentials(sid, token)


def control(settings: Settings | None = None) -> ControlClient:
    """The room's control plane as this seat (its own callbacks, the path check)."""
    from taskrouter_sandbox.control_client import ControlClient

    settings = settings or load_settings()
    url, sid, token = parse_seat(settings.seat or "")
    return ControlClient(url, sid, token, timeout=15)


def learner_address(settings: Settings | None = None, env: Mapping[str, str] | None = None) -> str:
    """This machine's address as the room sees it: ``TASKROUTER_CALLBACK_HOST``, else the
    interface the operating system routes to the room through (a UDP ``connect`` sends
    nothing; it only picks the route)."""
    settings = settings or load_settings()
    chosen = (env or {}).get(HOST_ENV) if env is not None else settings.callback_host
    if chosen:
        return chosen
    host = urlsplit(room_url(settings)).hostname or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.connect((host, 9))
        return str(probe.getsockname()[0])


def callback_server(
    instruction: Mapping[str, Any] | Callable[[Callback], Any] | None = None,
    *,
    port: int | None = None,
    settings: Settings | None = None,
) -> CallbackServer:
    """A ``CallbackServer`` on this machine's room-facing address, checking the seat's token."""
    from .server import CallbackServer

    settings = settings or load_settings()
    return CallbackServer(
        instruction,
        port=port,
        host=learner_address(settings),
        auth_token=seat_credentials(settings).auth_token,
    )


def check_path(server: CallbackServer, settings: Settings | None = None) -> dict[str, Any]:
    """Ask the room's sandbox to call ``server`` once; its answer (``reachable``, ``fix``…)."""
    from taskrouter_sandbox.control_client import ControlError

    url = f"http://{_url_host(server.host)}:{server.port}{CHECK_PATH}"
    started = time.perf_counter()
    room = control(settings)
    try:  # this way round (learner -> room) first: the call itself proves it
        answer = dict(room.call("POST", "/_sandbox/workshop/check-callback", {"Url": url}))
    except ControlError as error:
        if error.status in (401, 403):
            raise WorkshopError(
                "The room's sandbox refused this seat's credentials",
                "copy the whole line from your seat's card again; ask the facilitator whether "
                "the room was restarted with new seats",
            ) from None
        if error.status is not None:
            raise WorkshopError(
                f"The sandbox at {room.url} is not a workshop room ({error})",
                "check the line's address and port against your seat's card",
            ) from None
        port = urlsplit(room.url).port
        raise WorkshopError(
            f"The room's sandbox at {room.url} does not answer",
            f"check that you are on the room's network and that the line's address is right; "
            f"the facilitator's machine must allow incoming TCP on port {port}",
        ) from None
    answer["seconds"] = round(time.perf_counter() - started, 3)
    return answer


def expose(server: CallbackServer, settings: Settings | None = None) -> str:
    """The URL the room's sandbox calls for ``server``, once it has proved it can."""
    if server.host in ("127.0.0.1", "localhost", "::1"):
        raise WorkshopError(
            f"The callback server listens on {server.host}: only this machine reaches it",
            "start it without host= (helpers.CallbackServer() or helpers.serve(app)): in a "
            "workshop seat it listens on your network address",
        )
    answer = check_path(server, settings)
    if not answer["reachable"]:
        raise WorkshopError(
            f"The room's sandbox could not reach your callback server ({answer['error']})",
            str(answer["fix"]),
        )
    url = f"http://{_url_host(server.host)}:{server.port}"
    server.public_url = url
    return url


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
