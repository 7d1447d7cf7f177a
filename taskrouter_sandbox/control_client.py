"""The one client of the ``/_sandbox/`` control plane (stdlib only, cheap to import).

Used by the CLI (``status``, ``reset``), by the kit's ``helpers.control`` facade and by the
pytest plugin. It also reads what a background sandbox leaves in its data dir —
``sandbox.json`` (pid, host, port) and ``credentials.json`` (account SID and token) — so a
caller can find and authenticate to it without importing the server::

    control = ControlClient.for_data_dir(Path(".sandbox"))   # None when none answers
    control.advance(30)   # fire every timer due in the next 30 s
    control.reset()       # every workspace, task and event gone
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The files `process` writes in the data dir (the names are part of the CLI's contract).
STATE_FILE = "sandbox.json"
CREDENTIALS_FILE = "credentials.json"


# The sandbox listens on loopback: an HTTP(S)_PROXY set for the internet must not capture it.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlError(RuntimeError):
    """The sandbox refused a control request or could not be reached; the message says why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Credentials:
    account_sid: str
    auth_token: str

    def __repr__(self) -> str:
        return f"Credentials(account_sid={self.account_sid!r}, auth_token='***')"


def read_credentials(data_dir: Path) -> Credentials | None:
    """The credentials a sandbox keeps in ``data_dir``; None before its first start."""
    path = data_dir / CREDENTIALS_FILE
    try:
        saved = json.loads(path.read_text())
        return Credentials(str(saved["account_sid"]), str(saved["auth_token"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ControlError(
            f"{path} is damaged ({type(error).__name__})\n  How to fix: delete it; the sandbox "
            "makes new credentials on its next start"
        ) from None


def health(url: str, timeout: float = 0.5) -> bool:
    """True when a sandbox answers ``GET /_sandbox/health`` at ``url``."""
    try:
        with _OPENER.open(f"{url}/_sandbox/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def running_url(data_dir: Path) -> str | None:
    """The URL of the background sandbox of ``data_dir`` when it answers, else None."""
    try:
        info = json.loads((data_dir / STATE_FILE).read_text())
        url = f"http://{info['host']}:{int(info['port'])}"
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if health(url) else None


class ControlClient:
    """Authenticated calls to one sandbox's control plane (Basic auth, form bodies, JSON)."""

    def __init__(self, url: str, account_sid: str, auth_token: str, timeout: float = 30) -> None:
        self.url = url.rstrip("/")
        self.account_sid = account_sid
        self.timeout = timeout
        basic = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._authorization = f"Basic {basic}"

    def __repr__(self) -> str:
        return f"ControlClient({self.url!r}, account_sid={self.account_sid!r})"

    @classmethod
    def for_data_dir(cls, data_dir: Path, timeout: float = 30) -> ControlClient | None:
        """A client for the background sandbox of ``data_dir``; None when none answers."""
        url = running_url(data_dir)
        creds = read_credentials(data_dir) if url else None
        if url is None or creds is None:
            return None
        return cls(url, creds.account_sid, creds.auth_token, timeout)

    def call(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """``method path`` with ``form`` as the body; the decoded JSON answer (None if empty)."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": self._authorization,
                "Content-Type": "application/x-www-form-urlencoded",
                **(headers or {}),
            },
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            raise ControlError(f"The sandbox refused {method} {path}: {text}", error.code) from None
        except (OSError, urllib.error.URLError) as error:
            raise ControlError(f"The sandbox at {self.url} did not answer ({error})") from None
        return json.loads(body) if body else None

    def health(self) -> bool:
        return health(self.url)

    def now(self) -> str:
        """The sandbox clock's current time (ISO 8601)."""
        return str(self.call("GET", "/_sandbox/clock")["now"])

    def advance(self, seconds: float) -> str:
        """Move the clock forward, fire every timer that falls due; the new time."""
        return str(self.call("POST", "/_sandbox/clock", {"Advance": str(seconds)})["now"])

    def reset(self) -> None:
        """Empty the sandbox: every workspace, task, event and callback record."""
        self.call("POST", "/_sandbox/reset", {})

    def callbacks(self, workspace_sid: str | None = None) -> list[dict[str, Any]]:
        """Recent outgoing callbacks, newest last (the Console debugger's view)."""
        query = (
            f"?{urllib.parse.urlencode({'WorkspaceSid': workspace_sid})}" if workspace_sid else ""
        )
        return list(self.call("GET", f"/_sandbox/callbacks{query}")["callbacks"])

    def calls(self) -> list[dict[str, Any]]:
        """Simulated calls: callers' inbound calls and the legs voice instructions made."""
        return list(self.call("GET", "/_sandbox/calls")["calls"])

    def end_call(self, call_sid: str) -> dict[str, Any]:
        """Hang a simulated call up (a queued caller's task is canceled; a bridge ends both
        legs and the worker moves to the post-work activity)."""
        return dict(self.call("POST", f"/_sandbox/calls/{call_sid}", {"Status": "completed"}))

    def dial(self, caller: str, to: str | None = None) -> dict[str, Any]:
        """A simulated caller dials ``to`` (default: the account's number); the call after
        its TwiML ran up to the first wait (``waiting_for``: ``gather`` / ``enqueue``)."""
        form = {"From": caller, **({"To": to} if to else {})}
        return dict(self.call("POST", "/_sandbox/calls", form))

    def press(self, call_sid: str, digits: str) -> dict[str, Any]:
        """The caller presses ``digits`` at a ``<Gather>`` (empty: no input)."""
        return dict(self.call("POST", f"/_sandbox/calls/{call_sid}", {"Digits": digits}))

    def set_phone(self, number: str, answer_after: float | str) -> dict[str, Any]:
        """How ``number`` answers when rung: after ``answer_after`` s, ``"never"``, ``"busy"``."""
        form = {"Number": number, "AnswerAfter": str(answer_after)}
        return dict(self.call("POST", "/_sandbox/phones", form))
