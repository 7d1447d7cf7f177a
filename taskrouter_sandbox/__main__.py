"""``python -m taskrouter_sandbox serve|start|stop|status|reset|workshop``: its contract is
``--help`` (also docs/sandbox-contract.md; workshop mode in docs/workshop.md)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from . import process, wire
from .control_client import ControlClient, ControlError
from .defaults import BadSetting, default_data_dir, default_port
from .workshop.seats import SeatsError

TOKEN_ENV = "TASKROUTER_SANDBOX_AUTH_TOKEN"
SID_ENV = "TASKROUTER_SANDBOX_ACCOUNT_SID"
EXTRA_ENV = "TASKROUTER_SANDBOX_EXTRA_ACCOUNTS"

EPILOG = f"""\
commands:
  serve   run in the foreground until Ctrl-C / SIGTERM (prints its URL when it listens)
  start   start the background instance of --data-dir (idempotent), print its URL
  stop    stop the background instance of --data-dir
  status  print its URL and exit 0, or "not running" and exit 3
  reset   empty its state (POST /_sandbox/reset); with --seat N (workshop): that seat only
  workshop  serve a room in the foreground: --seats N accounts (kept in the data dir), the
          facilitator = the main account; prints each seat's join line, writes them to
          workshop-seats.html, serves the facilitator's page at /_sandbox/workshop
          (--host 0.0.0.0 to be reachable from the room; --join-host: the address in join lines)

credentials (serve):
  main account   --account-sid AC... (or ${SID_ENV}) with its token from
                 --auth-token-file FILE (or ${TOKEN_ENV});
                 without both: the credentials kept in the data dir (made once)
  more accounts  --extra-accounts-file FILE (one AC...:TOKEN a line, # comments)
                 or ${EXTRA_ENV} (AC...:TOKEN pairs, space or comma separated)
  --auth-token and --extra-account still work, but they show the tokens to every user of
  the host in its process list (ps).

environment: TASKROUTER_SANDBOX_PORT (default 8765), TASKROUTER_SANDBOX_DIR (default .sandbox
in the kit's checkout). The background instance keeps sandbox.json (pid, host, port),
credentials.json (mode 0600) and sandbox.log in a private (0700) data dir.

control plane (Basic auth with the sandbox's credentials, except health):
  GET /_sandbox/health, GET|POST /_sandbox/clock (Advance=seconds), POST /_sandbox/reset,
  GET /_sandbox/callbacks[?WorkspaceSid=WS…] (callbacks and background faults, code 20500),
  GET /_sandbox/calls,
  POST /_sandbox/calls (From=+1…[&To=+1…]: a caller dials in),
  POST /_sandbox/calls/CA… (Digits=1 at a <Gather>, or Status=completed: hang up),
  POST /_sandbox/phones (Number=+1…&AnswerAfter=seconds|never|busy),
  GET /_sandbox/event-bridge (the JS SDK's ebServer/wsServer), POST /_sandbox/event-bridge/drop
  workshop (facilitator only; POSTs need X-Workshop-Action: 1): GET /_sandbox/workshop (page),
  GET /_sandbox/workshop/status, POST /_sandbox/workshop/seats/N/reset,
  POST /_sandbox/workshop/reset; a seat: POST /_sandbox/workshop/check-callback (Url=...)
  any request may carry X-Sandbox-Advance: seconds (main account): the clock moves first

event bridge: `serve` also serves the TaskRouter JS SDK's event bridge on loopback
(--event-bridge-port, default 0 = a free port; see docs/event-bridge.md).
"""


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(
        prog="python -m taskrouter_sandbox",
        description="A local TaskRouter: Twilio's v1 REST API, routing and signed callbacks.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command", choices=["serve", "start", "stop", "status", "reset", "workshop"]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--account-sid", default=None, help=f"serve: main account (${SID_ENV})")
    parser.add_argument(
        "--auth-token", default=None, help="serve: its token (visible in ps: prefer the next)"
    )
    parser.add_argument(
        "--auth-token-file",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"serve: read the main account's token from FILE (or set ${TOKEN_ENV})",
    )
    parser.add_argument(
        "--event-bridge-port", type=int, default=0,
        help="port of the event bridge for the TaskRouter JS SDK (0: any free port; -1: none)",
    )  # fmt: skip
    parser.add_argument(
        "--extra-account",
        action="append",
        default=[],
        type=_account,
        metavar="AC…:TOKEN",
        help="serve only: another account (repeatable); it sees only its own workspaces",
    )
    parser.add_argument(
        "--extra-accounts-file",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"serve: more accounts from FILE, one AC…:TOKEN a line (or ${EXTRA_ENV})",
    )
    parser.add_argument("--seats", type=int, default=None, metavar="N",
                        help="workshop: how many seats (learners' accounts)")  # fmt: skip
    parser.add_argument("--join-host", default=None, metavar="HOST",
                        help="workshop: the address learners reach (default: --host)")  # fmt: skip
    parser.add_argument("--seat", type=int, default=None, metavar="N",
                        help="reset: only this workshop seat")  # fmt: skip
    args = parser.parse_args(argv)
    if args.command == "workshop" and args.seats is None:
        parser.error("workshop needs --seats N (how many learners)")
    data_dir: Path = (args.data_dir or default_data_dir()).resolve()
    try:
        port: int = args.port if args.port is not None else default_port()
    except BadSetting as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        if args.command == "serve":
            _resolve_credentials(parser, args, env)
        return _run(args, data_dir, port)
    except (process.SandboxProcessError, ControlError, SeatsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _account(value: str) -> tuple[str, str]:
    sid, _, token = value.strip().partition(":")
    if not (wire.is_sid(sid, "AC") and token):
        raise argparse.ArgumentTypeError("expected AC + 32 hex digits, a colon and a token")
    return sid, token


def _resolve_credentials(
    parser: argparse.ArgumentParser, args: argparse.Namespace, env: Mapping[str, str]
) -> None:
    """Fill args.account_sid, args.auth_token and args.extra_account from the flags, the
    files or the environment (in that order); a token never has to be on the command line."""
    if args.auth_token is not None and args.auth_token_file is not None:
        parser.error("give --auth-token or --auth-token-file, not both")
    if args.auth_token_file is not None:
        lines = _read_secret_file(parser, args.auth_token_file, "--auth-token-file")
        if len(lines) != 1:
            parser.error(f"--auth-token-file {args.auth_token_file}: expected one line, the token")
        args.auth_token = lines[0]
    args.auth_token = args.auth_token or env.get(TOKEN_ENV) or None
    args.account_sid = args.account_sid or env.get(SID_ENV) or None
    if args.account_sid is not None and not wire.is_sid(args.account_sid, "AC"):
        parser.error("--account-sid: expected AC + 32 hex digits")
    if (args.account_sid is None) != (args.auth_token is None):
        given = "an account sid" if args.account_sid else "an auth token"
        parser.error(
            f"{given} without the other: give both (--account-sid or ${SID_ENV}, and "
            f"--auth-token-file or ${TOKEN_ENV}), or neither to use the data dir's credentials"
        )
    pairs: list[str] = []
    where = ""
    if args.extra_accounts_file is not None:
        pairs = _read_secret_file(parser, args.extra_accounts_file, "--extra-accounts-file")
        where = f"--extra-accounts-file {args.extra_accounts_file}"
    elif not args.extra_account and env.get(EXTRA_ENV):
        pairs = env[EXTRA_ENV].replace(",", " ").split()
        where = EXTRA_ENV
    for number, pair in enumerate(pairs, 1):
        try:
            args.extra_account.append(_account(pair))
        except argparse.ArgumentTypeError as error:
            parser.error(f"{where}: entry {number}: {error}")  # never echoes the token


def _read_secret_file(parser: argparse.ArgumentParser, path: Path, flag: str) -> list[str]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        parser.error(f"{flag} {path}: cannot read it ({type(error).__name__})")
    lines = [line.strip() for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _run(args: argparse.Namespace, data_dir: Path, port: int) -> int:
    if args.command == "serve":
        extra = tuple(args.extra_account)
        bridge_port = None if args.event_bridge_port < 0 else args.event_bridge_port
        process.serve(data_dir, args.host, port, args.account_sid, args.auth_token, extra,
                      bridge_port)  # fmt: skip
        return 0
    if args.command == "workshop":
        from . import workshop

        bridge_port = None if args.event_bridge_port < 0 else args.event_bridge_port
        workshop.serve_room(data_dir, args.host, port, args.seats, args.join_host, bridge_port)
        return 0
    if args.command == "start":
        url = process.start(data_dir, args.host, port)
        print(f"TaskRouter sandbox running at {url} (data in {data_dir})")
        return 0
    if args.command == "stop":
        print("stopped" if process.stop(data_dir) else "not running")
        return 0
    control = ControlClient.for_data_dir(data_dir, timeout=10)
    if args.command == "status":
        print(f"running at {control.url}" if control else "not running")
        return 0 if control else 3
    if control is None:
        print("not running: start it with `python -m taskrouter_sandbox start`", file=sys.stderr)
        return 1
    try:
        if args.seat is not None:
            from .workshop import ACTION_HEADERS

            path = f"/_sandbox/workshop/seats/{args.seat}/reset"
            answer = control.call("POST", path, {}, ACTION_HEADERS)
            print(f"seat {args.seat} reset ({answer['workspaces_deleted']} workspaces deleted)")
            return 0
        control.reset()
    except ControlError as error:
        print(f"reset failed: {error}", file=sys.stderr)
        return 1
    print("sandbox state reset")
    return 0


if __name__ == "__main__":
    sys.exit(main())
