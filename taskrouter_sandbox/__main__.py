"""``python -m taskrouter_sandbox serve|start|stop|status|reset`` (the contract in DESIGN.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import process, wire
from .control_client import ControlClient, ControlError
from .defaults import BadSetting, default_data_dir, default_port

EPILOG = """\
commands:
  serve   run in the foreground until Ctrl-C / SIGTERM (prints its URL when it listens)
  start   start the background instance of --data-dir (idempotent), print its URL
  stop    stop the background instance of --data-dir
  status  print its URL and exit 0, or "not running" and exit 3
  reset   empty its state (POST /_sandbox/reset)

environment: TASKROUTER_SANDBOX_PORT (default 8765), TASKROUTER_SANDBOX_DIR (default .sandbox
in the kit's checkout). The background instance keeps sandbox.json (pid, host, port),
credentials.json (mode 0600) and sandbox.log in the data dir.

control plane (Basic auth with the sandbox's credentials, except health):
  GET /_sandbox/health, GET|POST /_sandbox/clock (Advance=seconds), POST /_sandbox/reset,
  GET /_sandbox/callbacks[?WorkspaceSid=WS…], GET /_sandbox/calls,
  POST /_sandbox/calls (From=+1…[&To=+1…]: a caller dials in),
  POST /_sandbox/calls/CA… (Digits=1 at a <Gather>, or Status=completed: hang up),
  POST /_sandbox/phones (Number=+1…&AnswerAfter=seconds|never|busy)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m taskrouter_sandbox",
        description="A local TaskRouter: Twilio's v1 REST API, routing and signed callbacks.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["serve", "start", "stop", "status", "reset"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--account-sid", default=None)
    parser.add_argument("--auth-token", default=None)
    parser.add_argument(
        "--extra-account",
        action="append",
        default=[],
        type=_account,
        metavar="AC…:TOKEN",
        help="serve only: another account (repeatable); it sees only its own workspaces",
    )
    args = parser.parse_args(argv)
    data_dir: Path = (args.data_dir or default_data_dir()).resolve()
    try:
        port: int = args.port if args.port is not None else default_port()
    except BadSetting as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        return _run(args, data_dir, port)
    except (process.SandboxProcessError, ControlError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _account(value: str) -> tuple[str, str]:
    sid, _, token = value.partition(":")
    if not (wire.is_sid(sid, "AC") and token):
        raise argparse.ArgumentTypeError("expected AC + 32 hex digits, a colon and a token")
    return sid, token


def _run(args: argparse.Namespace, data_dir: Path, port: int) -> int:
    if args.command == "serve":
        extra = tuple(args.extra_account)
        process.serve(data_dir, args.host, port, args.account_sid, args.auth_token, extra)
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
        control.reset()
    except ControlError as error:
        print(f"reset failed: {error}", file=sys.stderr)
        return 1
    print("sandbox state reset")
    return 0


if __name__ == "__main__":
    sys.exit(main())
