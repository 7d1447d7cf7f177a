"""``python -m taskrouter_sandbox serve|start|stop|status|reset`` (the contract in DESIGN.md)."""

from __future__ import annotations

import argparse
import base64
import sys
import urllib.error
import urllib.request
from pathlib import Path

from .defaults import default_data_dir, default_port
from . import process, wire


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m taskrouter_sandbox", description="The kit's local TaskRouter sandbox."
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
    port: int = args.port if args.port is not None else default_port()
    try:
        return _run(args, data_dir, port)
    except process.SandboxProcessError as error:
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
    url = process.running_url(data_dir)
    if args.command == "status":
        print(f"running at {url}" if url else "not running")
        return 0 if url else 3
    if url is None:
        print("not running: start it with `python -m taskrouter_sandbox start`", file=sys.stderr)
        return 1
    creds = process.credentials(data_dir)
    token = base64.b64encode(f"{creds.account_sid}:{creds.auth_token}".encode()).decode()
    request = urllib.request.Request(
        f"{url}/_sandbox/reset",
        data=b"",
        method="POST",
        headers={"Authorization": f"Basic {token}"},
    )
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except urllib.error.URLError as error:
        print(f"reset failed: {error}", file=sys.stderr)
        return 1
    print("sandbox state reset")
    return 0


if __name__ == "__main__":
    sys.exit(main())
