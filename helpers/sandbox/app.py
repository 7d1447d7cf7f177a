"""``create_app(config)``: one sandbox = its store, its clock and its route table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import control
from .clock import Clock
from .resources import ROUTES
from .router import Context, Request, Response, Router
from .store import Store


@dataclass(frozen=True)
class SandboxConfig:
    account_sid: str
    auth_token: str
    data_dir: Path | None = None  # None: in memory only
    host: str = "127.0.0.1"
    port: int = 8765

    def __repr__(self) -> str:
        return (
            f"SandboxConfig(account_sid={self.account_sid!r}, auth_token='***', "
            f"data_dir={self.data_dir!r}, host={self.host!r}, port={self.port!r})"
        )


class Sandbox:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        db_path = None
        if config.data_dir is not None:
            config.data_dir.mkdir(parents=True, exist_ok=True)
            db_path = config.data_dir / "sandbox.sqlite3"
        self.store = Store(db_path)
        offset = float(self.store.meta("clock_offset", "0") or 0)
        self.clock = Clock(offset, on_change=lambda o: self.store.set_meta("clock_offset", repr(o)))
        self.accounts = {config.account_sid: config.auth_token}
        self.router = Router(*ROUTES, control.routes)

    def handle(self, request: Request) -> Response:
        return self.router.dispatch(Context(self, request))

    def timers_due(self, now: float) -> None:
        """Fire every timer due at ``now`` (the routing engine registers them)."""

    def reset(self) -> None:
        self.store.reset()

    def callback_log(self) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        self.store.close()


def create_app(config: SandboxConfig) -> Sandbox:
    return Sandbox(config)
