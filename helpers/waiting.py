"""Waiting for an outcome with a visible progress line, a deadline, and a reason on failure.

Callbacks are asynchronous, so a notebook cell that wants "the task is assigned" must wait. A
bare ``sleep`` either wastes time or is too short; a silent loop that times out teaches
nothing. :func:`wait_for_task` shows what it waits for and, if the deadline passes, says *why*
from the state it can see: Alice still Offline, no callback URL, a callback refused with 403,
a debugger code, the task canceled…
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from ._html import escape
from .config import Settings, load_settings
from .errors import WaitTimeout
from .sids import short_sid

T = TypeVar("T")

DEBUGGER = {
    40000: "the callback answered without Content-Type: application/json",
    40001: "the callback's answer is not valid JSON",
    40005: "the callback answered without an instruction ({}): accept or reject via REST",
    55555: "the callback answered an unknown instruction",
    11200: "the callback server answered with an HTTP error",
    11205: "the callback server could not be reached (is it running? is the URL right?)",
}


INSTRUCTIONS = ("accept", "reject", "dequeue", "call", "conference", "redirect")


def wait_for(
    check: Callable[[], T],
    *,
    what: str,
    timeout: float = 10.0,
    interval: float = 0.1,
    explain: Callable[[], str] | None = None,
) -> T:
    """Call ``check`` until it returns something truthy; show progress; explain a timeout."""
    line = _Progress(what)
    started = time.monotonic()
    try:
        while True:
            value = check()
            if value:
                line.done(time.monotonic() - started)
                return value
            elapsed = time.monotonic() - started
            if elapsed > timeout:
                reason = explain() if explain else "no more detail available"
                line.failed(elapsed)
                raise WaitTimeout(f"Gave up waiting for {what} after {timeout:g} s: {reason}",
                                  "fix the cause above, then re-run this cell")  # fmt: skip
            line.tick(elapsed, timeout)
            time.sleep(interval)
    finally:
        line.close()


def wait_for_task(
    client: Any,
    qs: Any,
    task_sid: str,
    status: str = "assigned",
    *,
    timeout: float = 10.0,
    server: Any = None,
    settings: Settings | None = None,
) -> Any:
    """Wait until the task has ``status``; on timeout, diagnose why it has not."""
    tasks = client.taskrouter.v1.workspaces(qs.workspace_sid).tasks

    def check() -> Any:
        task = tasks(task_sid).fetch()
        return task if task.assignment_status == status else None

    return wait_for(check, what=f"task {short_sid(task_sid)} to be {status}", timeout=timeout,
                    explain=lambda: diagnose(client, qs, task_sid, server, settings))  # fmt: skip


def diagnose(
    client: Any, qs: Any, task_sid: str, server: Any = None, settings: Settings | None = None
) -> str:
    """The most useful explanation of why a task is not moving, from what the API shows."""
    ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
    task = ws.tasks(task_sid).fetch()
    if task.assignment_status == "canceled":
        return f"the task was canceled ({task.reason})"
    reasons = [f"the task is {task.assignment_status} in {task.task_queue_friendly_name}"]
    reservations = ws.tasks(task_sid).reservations.list()
    pending = [r for r in reservations if r.reservation_status == "pending"]
    if task.assignment_status == "pending" and not pending:
        workers = [ws.workers(sid).fetch() for sid in qs.workers.values()]
        states = ", ".join(f"{w.friendly_name} is {w.activity_name}" for w in workers)
        reasons.append(f"no worker is available for it ({states}); flip Alice to Idle")
    flow = ws.workflows(task.workflow_sid).fetch()
    if pending and not flow.assignment_callback_url:
        reasons.append(
            "the workflow has no assignment callback URL, so no instruction comes; "
            "accept the reservation via REST or point the workflow at your server"
        )
    refused = _refused(server, task_sid)
    if refused:
        reasons.append(
            "your callback server refused this task's callback with 403: the signature did "
            "not validate (wrong auth token, or not the URL TaskRouter called?)"
        )
    typo = _unknown_instruction(server)
    if typo:
        reasons.append(typo)
    settings = settings or load_settings()
    if not settings.live:
        from .control import sandbox_callbacks

        codes = [e for e in sandbox_callbacks(qs.workspace_sid, settings) if e.get("code")]
        if codes:
            last = codes[-1]
            meaning = DEBUGGER.get(last["code"], last.get("message", ""))
            if last.get("status") == 403 and not refused:
                meaning += " (403: it refused the signature; wrong auth token or URL?)"
            if last["code"] == 55555 and last.get("message"):
                meaning += f" ({last['message']})"  # quotes the bad value, lists valid ones
            reasons.append(f"the last callback got debugger code {last['code']}: {meaning}")
    if pending:
        reasons.append(
            f"reservation {short_sid(pending[0].sid)} for {pending[0].worker_name} is still pending"
        )
    return "; ".join(reasons)


def _refused(server: Any, task_sid: str) -> list[Any]:
    """The task's requests the callback server answered 403: ``server.refused`` (and any 403
    record in a duck-typed server's ``requests``). Other refused requests are not TaskRouter's
    (anyone can POST to the server), so they say nothing about this task."""
    if server is None:
        return []
    requests = getattr(server, "requests", None) or []
    candidates = [*(getattr(server, "refused", None) or []), *requests]
    return [
        r
        for r in candidates
        if getattr(r, "status", None) == 403
        and (getattr(r, "params", None) or {}).get("TaskSid") == task_sid
    ]


def _unknown_instruction(server: Any) -> str | None:
    """Your server's last answer named an instruction TaskRouter does not know (55555)."""
    records = [r for r in getattr(server, "requests", []) or [] if getattr(r, "kind", "") ==
               "assignment"]  # fmt: skip
    answer = getattr(records[-1], "answer", None) if records else None
    if not isinstance(answer, dict) or "instruction" not in answer:
        return None
    name = str(answer["instruction"])
    if name.strip().lower() in INSTRUCTIONS:
        return None
    return (f"your callback answered {{\"instruction\": {name!r}}}: {name!r} is not an "
            f"instruction; use one of {', '.join(INSTRUCTIONS)}")  # fmt: skip


class _Progress:
    """One updatable output line in a notebook; silent outside IPython."""

    def __init__(self, what: str) -> None:
        self.what = escape(what)  # Markdown output renders HTML: the text stays text
        self.handle: Any = None
        try:
            from IPython import get_ipython

            from ._display import display

            if get_ipython() is not None:
                self.handle = display(self._text("waiting…"), display_id=True)
        except ImportError:
            self.handle = None

    def _text(self, state: str) -> Any:
        from ._display import Markdown

        return Markdown(f"Waiting for {self.what}: {state}")

    def tick(self, elapsed: float, timeout: float) -> None:
        if self.handle is not None:
            done = min(10, int(10 * elapsed / timeout))
            bar = "`[" + "#" * done + "." * (10 - done) + "]`"  # text, not emoji: any font shows it
            self.handle.update(self._text(f"{bar} {elapsed:.1f}/{timeout:g} s"))

    def done(self, elapsed: float) -> None:
        if self.handle is not None:
            from ._display import Markdown

            self.handle.update(Markdown(f"**done**: {self.what} in {elapsed:.2f} s"))
            self.handle = None

    def failed(self, elapsed: float) -> None:
        if self.handle is not None:
            from ._display import Markdown

            self.handle.update(Markdown(f"**not done**: {self.what}, not after {elapsed:.1f} s"))
            self.handle = None

    def close(self) -> None:
        self.handle = None
