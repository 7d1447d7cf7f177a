"""Shared by the reliability tests: run size, the sandbox clock, the callback pipeline, reports.

CI size by default. ``KIT_LONG=1`` scales example counts, burst sizes and durations up::

    KIT_LONG=1 .venv/bin/python -m pytest tests/reliability -q -s

Each test prints one summary line (seen with ``-s``) and writes it to
``test-output/reliability/<name>.json``.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.support.receiver import Receiver
from tests.support.sandbox import KIT_ROOT, SandboxProcess

LONG = os.environ.get("KIT_LONG") == "1"
REPORTS = KIT_ROOT / "test-output" / "reliability"


def scaled(ci: int, long: int) -> int:
    """``ci`` in the default run, ``long`` with ``KIT_LONG=1``."""
    return long if LONG else ci


def sandbox_now(sandbox: SandboxProcess) -> float:
    """The sandbox clock (epoch seconds): wall time plus the offset it was advanced by."""
    offset = float(sandbox.control("GET", "/_sandbox/clock")["offset"])
    return time.time() + offset


def advance_to(sandbox: SandboxProcess, moment: float) -> float:
    """Advance the sandbox clock so that it reads (at least) ``moment``; returns the new now."""
    sandbox.advance(max(moment - sandbox_now(sandbox), 0.0))
    return sandbox_now(sandbox)


def callback_log(sandbox: SandboxProcess, workspace_sid: str | None = None) -> list[dict]:
    path = "/_sandbox/callbacks" + (f"?WorkspaceSid={workspace_sid}" if workspace_sid else "")
    return list(sandbox.control("GET", path)["callbacks"])


def settle(
    sandbox: SandboxProcess,
    receiver: Receiver,
    workspace: Any,
    workspace_sid: str,
    since: float,
    baseline: int,
    timeout: float = 10.0,
) -> list[dict]:
    """Wait until every assignment callback is answered and acted on; returns the sandbox log.

    Every reservation gets one callback (the workflows here have a URL). Quiet means: the
    receiver got one callback per ``reservation.created`` event of ``workspace`` (the SDK's
    workspace context, whose sid is ``workspace_sid``) since
    ``since`` (sandbox clock), and the sandbox logged the outcome of each callback the receiver
    got since it had ``baseline`` of them. ``since``/``baseline``: when the current sandbox
    process started (its log is in memory) or the workspace was made, whichever is later.
    """
    start = datetime.fromtimestamp(int(since) - 1, timezone.utc)
    deadline = time.monotonic() + timeout
    while True:
        created = [
            e
            for e in workspace.events.list(
                event_type="reservation.created", start_date=start, page_size=1000
            )
            if e.event_date_ms >= since * 1000
        ]
        received = [
            r
            for r in receiver.requests("/assignment")[baseline:]
            if r.form.get("WorkspaceSid") == workspace_sid
        ]
        log = callback_log(sandbox)
        logged = [
            e for e in log if e["kind"] == "assignment" and e["workspace_sid"] == workspace_sid
        ]
        if len(created) == len(received) == len(logged):
            return log
        if time.monotonic() > deadline:
            raise AssertionError(
                f"callbacks did not settle in {timeout} s: {len(created)} reservations, "
                f"{len(received)} callbacks received, {len(logged)} outcomes logged"
            )
        time.sleep(0.003)


def report(name: str, figures: dict[str, Any]) -> None:
    """Print one summary line and keep it in ``test-output/reliability/<name>.json``."""
    figures = {"long": LONG, **figures}
    print(f"\n[{name}] " + json.dumps(figures, sort_keys=True))
    REPORTS.mkdir(parents=True, exist_ok=True)
    Path(REPORTS / f"{name}.json").write_text(json.dumps(figures, indent=2, sort_keys=True))
