"""``preflight()``: is this machine ready for the tutorial? Each check says how to fix itself.

Versions, mode and why, credentials (masked), the sandbox's health or Twilio's reachability,
the ngrok authtoken, and whether the callback server's port is free. Shown as a table in the
notebook; ``report.ok`` tells code whether to go on.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata

from ._html import escape
from .config import Settings, is_placeholder, load_settings, mask, requested_mode
from .errors import KitError

PACKAGES = ("twilio", "flask", "pyngrok", "ipywidgets", "jupyterlab", "ipykernel")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass
class Report:
    mode: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def __str__(self) -> str:
        lines = [f"Preflight ({self.mode} mode): {'all good' if self.ok else 'needs attention'}"]
        for c in self.checks:
            lines.append(f"  {'ok ' if c.ok else 'FIX'} {c.name}: {c.detail}")
            if not c.ok and c.fix:
                lines.append(f"      fix: {c.fix}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr>{_td(_mark(c.ok))}{_td(escape(c.name))}{_td(escape(c.detail))}"
            f"{_td(escape('' if c.ok else c.fix))}</tr>"
            for c in self.checks
        )
        head = "".join(_td(f"<b>{h}</b>") for h in ("", "check", "result", "how to fix"))
        return (f"<b>Preflight — {escape(self.mode)} mode: "
                f"{'all good' if self.ok else 'needs attention'}</b>"
                f"<table><tr>{head}</tr>{rows}</table>")  # fmt: skip


def _mark(ok: bool) -> str:
    """A word in colour, not an emoji: Chromium without an emoji font draws empty boxes."""
    colour, word = ("#1a7f37", "ok") if ok else ("#b00020", "FIX")
    return f'<b style="color:{colour}">{word}</b>'


def _td(content: str) -> str:
    return f'<td style="text-align:left;vertical-align:top;padding:2px 8px">{content}</td>'


def preflight(settings: Settings | None = None) -> Report:
    try:
        settings = settings or load_settings()
    except KitError as error:
        return Report(f"{requested_mode()} (not ready)",
                      [Check("settings", False, error.message, error.hint)])  # fmt: skip
    report = Report(settings.mode)
    checks: list[tuple[str, Callable[[], Check]]] = [
        ("Python", _python),
        ("packages", _packages),
        ("mode", lambda: _mode(settings)),
        ("credentials", lambda: _credentials(settings)),
        ("TaskRouter", lambda: _service(settings)),
        ("ngrok authtoken", lambda: _ngrok(settings)),
        ("callback port", lambda: _port(settings.callback_port)),
    ]
    for name, check in checks:
        report.checks.append(_guarded(name, check))
    return report


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    """Run one check; whatever it raises becomes a failed check, so preflight always reports."""
    try:
        return check()
    except KitError as error:
        return Check(name, False, error.message, error.hint)
    except Exception as error:
        return Check(
            name, False, f"{type(error).__name__}: {error}",
            "run `python -m taskrouter_sandbox start` in a terminal to see more",
        )  # fmt: skip


def _python() -> Check:
    ok = sys.version_info >= (3, 10)
    return Check("Python", ok, sys.version.split()[0], "install Python 3.10 or newer")


def _packages() -> Check:
    found, missing = [], []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        return Check("packages", False, f"missing: {', '.join(missing)}",
                     "run `make lab` (it installs requirements.txt into .venv)")  # fmt: skip
    return Check("packages", True, ", ".join(found))


def _mode(settings: Settings) -> Check:
    why = "TASKROUTER_MODE=live"
    if not settings.live:
        why = "the default (set TASKROUTER_MODE=live in .env to use your Twilio account)"
    return Check("mode", True, f"{settings.mode}: {why}")


def _credentials(settings: Settings) -> Check:
    if settings.live:
        return Check("credentials", True,
                     f"{settings.account_sid} / token {mask(settings.auth_token)}")  # fmt: skip
    from .client import sandbox_credentials

    path = settings.sandbox_dir / "credentials.json"
    try:
        creds = sandbox_credentials(settings)
        detail = f"sandbox account {creds.account_sid} / token {mask(creds.auth_token)}"
    except Exception as error:  # a damaged or unreadable file: report it, with the way out
        return Check(
            "credentials", False, f"{path} is damaged or unreadable ({type(error).__name__})",
            f"stop the sandbox (`python -m taskrouter_sandbox stop`), delete {path} and run "
            "preflight() again: the sandbox makes new credentials (workspaces made with the "
            "old ones are not shown; build them again with helpers.ensure_quickstart)",
        )  # fmt: skip
    return Check("credentials", True, detail)


def _service(settings: Settings) -> Check:
    from .client import connect

    try:
        client = connect(settings)
        client.taskrouter.v1.workspaces.list(limit=1)
    except KitError as error:
        return Check("TaskRouter", False, error.message, error.hint)
    except Exception as error:  # the network or Twilio said no: show it, with the usual fixes
        return Check(
            "TaskRouter",
            False,
            f"{type(error).__name__}: {error}",
            "check your internet connection and TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN"
            if settings.live
            else "run `python -m taskrouter_sandbox start` to see why",
        )
    where = (
        "Twilio answers" if settings.live else f"sandbox healthy on port {settings.sandbox_port}"
    )
    return Check("TaskRouter", True, where)


def _ngrok(settings: Settings) -> Check:
    if settings.ngrok_authtoken and is_placeholder(settings.ngrok_authtoken):
        return Check(
            "ngrok authtoken",
            False,
            "NGROK_AUTHTOKEN still holds the placeholder from .env.example",
            "copy your authtoken from dashboard.ngrok.com into .env",
        )
    if settings.ngrok_authtoken:
        return Check("ngrok authtoken", True, f"set ({mask(settings.ngrok_authtoken)})")
    if settings.live:
        return Check("ngrok authtoken", False, "NGROK_AUTHTOKEN is not set",
                     "copy it from dashboard.ngrok.com into .env as NGROK_AUTHTOKEN=…")  # fmt: skip
    return Check(
        "ngrok authtoken", True, "not needed in sandbox mode (callbacks stay on this machine)"
    )


def _port(port: int) -> Check:
    if not port:  # each notebook's server takes a free port: nothing can be in the way
        return Check("callback port", True, "any free port (each notebook's server gets its own)")
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            mine = _ours(port)
            if mine:
                return Check(
                    "callback port", True, f"{port} is used by this kernel's callback server"
                )
            return Check("callback port", False, f"{port} is taken by another program",
                         "stop it, or set TASKROUTER_CALLBACK_PORT to a free port")  # fmt: skip
    return Check("callback port", True, f"{port} is free")


def _ours(port: int) -> bool:
    from .server import running_server

    return running_server(port) is not None
