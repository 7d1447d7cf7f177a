"""``create_app(config)``: one sandbox = its store, clock, core, webhooks and routes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import control_plane
from .clock import Clock
from .core.api import Core
from .core.timers import TimerThread
from .event_bridge import control as event_bridge_control
from .files import private_dir, private_file
from .resources import ROUTES
from .router import Context, Request, Response, Router
from .store import Store
from .task_tally import TaskTally
from .voice import resources as voice_resources
from .voice.runner import Voice
from .webhooks import Webhooks
from .workshop import control as workshop_control

if TYPE_CHECKING:
    from .event_bridge.server import EventBridge

log = logging.getLogger("taskrouter_sandbox")


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
    """One sandbox: its store and clock, the domain core over them, the webhooks that follow
    committed changes, and the HTTP routes. Every part gets its collaborators through its
    constructor; nothing is assigned onto an object after it is built."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        db_path = None
        if config.data_dir is not None:  # private: 0700, and the database 0600
            db_path = private_file(private_dir(config.data_dir) / "sandbox.sqlite3")
        self.store = Store(
            db_path, on_fault=lambda what, error: self.fault("commit", "", what, error)
        )
        offset = float(self.store.meta("clock_offset", "0") or 0)
        self.clock = Clock(  # persisted with the advance's first commit (Core.advance)
            offset,
            on_change=lambda o: self.store.set_meta("clock_offset", repr(o), with_next_commit=True),
        )
        self.accounts = {**dict(config.extra_accounts), config.account_sid: config.auth_token}
        self.core = Core(self.store, self.clock, self.fault)
        self.engine = self.core.engine
        self.timers = self.core.timers
        self.webhooks = Webhooks(
            self.store, self.clock.now, self.token_for, self.core.answer, self.fault
        )
        self.store.subscribe(self.webhooks.committed)
        self.task_tally = TaskTally(self.store)  # real-time task statistics, kept on commit
        self.store.subscribe(self.task_tally.observe)
        self.timer_thread = TimerThread(
            self.timers, self.clock.now, self.engine.fire_due, self.fault
        )
        self.voice = Voice(self)  # the simulated phone side (numbers, calls, TwiML)
        self.router = Router(
            *ROUTES,
            voice_resources.routes,
            control_plane.routes,
            event_bridge_control.routes,
            workshop_control.routes,
        )
        # Set by event_bridge.start() in a serving process (the bridge needs the sandbox first).
        self.event_bridge: EventBridge | None = None
        self.workshop: Any = None  # a workshop.room.Room when serving a room's seats

    def handle(self, request: Request) -> Response:
        ctx = Context(self, request)
        control_plane.advance_before(ctx)  # X-Sandbox-Advance: the clock first, then the call
        return self.router.dispatch(ctx)

    def token_for(self, account_sid: str) -> str:
        return self.accounts[account_sid]

    def start_timers(self) -> None:
        """Fire timers as the (wall) clock reaches them, on a daemon thread."""
        self.timer_thread.start()

    def fault(self, loop: str, sid: str, what: str, error: BaseException) -> None:
        """A background item failed and was skipped: the sandbox log gets the traceback, the
        debugger log (``GET /_sandbox/callbacks``) an entry with code 20500 for its account."""
        log.error("%s", what, exc_info=error)
        record = self.store.get(sid) if sid else None
        account = record.account_sid if record is not None else self.config.account_sid
        workspace = record.workspace if record is not None else ""
        message = f"{what}: {type(error).__name__}: {error}"
        self.webhooks.dispatcher.record_fault(account, workspace, loop, message)

    # -- control plane ------------------------------------------------------------------

    def reset(self) -> None:
        with self.store.lock:  # no commit between the reset and the recount
            self.core.reset()
            self.task_tally.rebuild()
        self.webhooks.dispatcher.forget_all()  # every workspace is gone: so are its threads
        self.webhooks.dispatcher.clear()
        if self.workshop is not None:  # a room's milestones go with the state they came from
            self.workshop.progress.forget()

    def callback_log(self, account_sid: str) -> list[dict[str, Any]]:
        return self.webhooks.dispatcher.entries(account_sid)

    def close(self) -> None:
        self.timer_thread.stop()
        self.webhooks.dispatcher.close()
        self.store.close()


def create_app(config: SandboxConfig) -> Sandbox:
    return Sandbox(config)
