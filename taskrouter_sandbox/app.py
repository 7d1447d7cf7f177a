"""``create_app(config)``: one sandbox = its store, clock, engine, webhooks and routes."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import control
from .clock import Clock
from .engine import Engine
from .event_bridge import control as event_bridge_control
from .files import private_dir, private_file
from .resources import ROUTES
from .router import Context, Request, Response, Router
from .store import Store
from .voice import resources as voice_resources
from .voice.runner import Voice
from .webhooks import Webhooks
from .workshop import control as workshop_control

log = logging.getLogger("taskrouter_sandbox")
TIMER_POLL = 0.25  # seconds between checks when no timer is due sooner


@dataclass(frozen=True)
class SandboxConfig:
    account_sid: str
    auth_token: str
    data_dir: Path | None = None  # None: in memory only
    host: str = "127.0.0.1"
    port: int = 8765
    # More accounts, e.g. one per workshop table: ((account_sid, auth_token), ...). Each sees
    # only its own workspaces; resetting and moving the clock stay with the main account.
    extra_accounts: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:
        extra = [sid for sid, _ in self.extra_accounts]
        return (
            f"SandboxConfig(account_sid={self.account_sid!r}, auth_token='***', "
            f"data_dir={self.data_dir!r}, host={self.host!r}, port={self.port!r}, "
            f"extra_accounts={extra!r})"
        )


class Sandbox:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        db_path = None
        if config.data_dir is not None:  # private: 0700, and the database 0600
            db_path = private_file(private_dir(config.data_dir) / "sandbox.sqlite3")
        self.store = Store(db_path)
        offset = float(self.store.meta("clock_offset", "0") or 0)
        self.clock = Clock(offset, on_change=lambda o: self.store.set_meta("clock_offset", repr(o)))
        self.accounts = {**dict(config.extra_accounts), config.account_sid: config.auth_token}
        self.engine = Engine(self.store, self.clock.now)
        self.webhooks = Webhooks(self)
        self.engine.on_reservation = self.webhooks.reservation_created
        self.engine.on_fault = self.fault
        self.store.on_fault = lambda what, error: self.fault("commit", "", what, error)
        self.store.listeners.append(self.webhooks.committed)
        self.voice = Voice(self)  # the simulated phone side (numbers, calls, TwiML)
        self.router = Router(
            *ROUTES,
            voice_resources.routes,
            control.routes,
            event_bridge_control.routes,
            workshop_control.routes,
        )
        self.event_bridge: Any = None  # set by event_bridge.start() in a serving process
        self.workshop: Any = None  # a workshop.room.Room when serving a room's seats
        self._stop = threading.Event()
        self._timer_thread: threading.Thread | None = None

    def handle(self, request: Request) -> Response:
        return self.router.dispatch(Context(self, request))

    def token_for(self, account_sid: str) -> str:
        return self.accounts[account_sid]

    # -- time -------------------------------------------------------------------------------

    def timers_due(self, now: float) -> int:
        """Fire every timer due at ``now`` (in due order) before returning."""
        return self.engine.fire_due(now)

    def start_timers(self) -> None:
        """Fire timers as the (wall) clock reaches them, on a daemon thread."""
        if self._timer_thread is None:
            self._timer_thread = threading.Thread(
                target=self._run_timers, name="sandbox-timers", daemon=True
            )
            self._timer_thread.start()

    def _run_timers(self) -> None:
        while not self._stop.is_set():
            try:
                due = self.engine.next_due()
                now = self.clock.now()
                wait = TIMER_POLL if due is None else min(max(due - now, 0), TIMER_POLL)
                self.engine.timer_added.wait(wait)
                self.engine.timer_added.clear()
                self.engine.fire_due(self.clock.now())
            except Exception as error:  # the one timer thread must never die
                self.fault("timer", "", "the timer loop failed", error)
                self._stop.wait(TIMER_POLL)

    def fault(self, loop: str, sid: str, what: str, error: BaseException) -> None:
        """A background item failed and was skipped: the sandbox log gets the traceback, the
        debugger log (``GET /_sandbox/callbacks``) an entry with code 20500 for its account."""
        log.error("%s", what, exc_info=error)
        record = self.store.get(sid) if sid else None
        account = getattr(record, "account_sid", None) or self.config.account_sid
        workspace = getattr(record, "workspace", "") if record is not None else ""
        message = f"{what}: {type(error).__name__}: {error}"
        self.webhooks.dispatcher.record_fault(account, workspace, loop, message)

    # -- control plane ------------------------------------------------------------------

    def reset(self) -> None:
        with self.store.lock:
            self.store.reset()
            self.engine.rebuild()
        self.webhooks.dispatcher.forget_all()  # every workspace is gone: so are its threads
        self.webhooks.dispatcher.clear()
        if self.workshop is not None:  # a room's milestones go with the state they came from
            self.workshop.progress.forget()

    def callback_log(self, account_sid: str) -> list[dict[str, Any]]:
        return self.webhooks.dispatcher.entries(account_sid)

    def close(self) -> None:
        self._stop.set()
        self.engine.timer_added.set()
        self.webhooks.dispatcher.close()
        self.store.close()


def create_app(config: SandboxConfig) -> Sandbox:
    return Sandbox(config)
