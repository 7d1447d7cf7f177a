"""``ActivitySwitcher``: one worker's Activity as toggle buttons that follow TaskRouter live.

The tutorial's central moment is a click — Alice from Offline to Idle — after which TaskRouter
(not the learner) moves her to Reserved and then Busy. So the buttons both *act* (a click
updates the worker through the twilio SDK, on a worker thread so the kernel never waits on
HTTP) and *follow* (a poller fetches the worker and moves the buttons when TaskRouter moved
her). A poller-made change must not look like a click, or the widget would fight TaskRouter:
the value observer ignores changes made inside :meth:`LiveWidget._programmatic`.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]  # no type information
from twilio.rest import Client

from .._html import escape
from ..errors import UsageError
from ._live import DEFAULT_INTERVAL, LiveWidget, error_text


def resolve_worker(qs: Any, worker: str) -> str:
    """The worker's sid from the quickstart's ``workers`` map (a ``WK…`` sid passes through)."""
    workers = dict(getattr(qs, "workers", {}) or {})
    if worker in workers:
        return str(workers[worker])
    if worker.startswith("WK"):
        return worker
    known = ", ".join(workers) or "none"
    raise UsageError(f"No worker named {worker!r} in this workspace",
                     f"use one of: {known} (or a WK… sid)")  # fmt: skip


class ActivitySwitcher(LiveWidget):
    """``ActivitySwitcher(client, qs, "Alice")``: click an Activity, or ``.select("Idle")``.

    ``.value`` is the Activity the buttons show, ``.activity``/``.available`` what TaskRouter
    last reported. Errors appear in the widget; only :meth:`select` (code) raises them.
    """

    def __init__(
        self, client: Client, qs: Any, worker: str = "Alice", *, interval: float = DEFAULT_INTERVAL
    ) -> None:
        super().__init__()
        self._workspace = client.taskrouter.v1.workspaces(qs.workspace_sid)
        self.worker_name = worker
        self.worker_sid = resolve_worker(qs, worker)
        self._activities: dict[str, str] = dict(getattr(qs, "activities", {}) or {})
        if not self._activities:
            self._load_activities()
        self.activity: str | None = None
        self.available: bool | None = None
        self._busy = 0  # updates in flight: the poller must not show stale state meanwhile
        self._generation = 0  # bumped by every update, so a fetch that raced one is dropped
        self._state_lock = threading.Lock()
        self.status = widgets.HTML(f"<b>{escape(worker)}</b> — …")
        self.buttons = widgets.ToggleButtons(
            options=list(self._activities), value=None, style={"button_width": "auto"}
        )
        self.message = widgets.HTML()
        self.children = (self.status, self.buttons, self.message)
        self.buttons.observe(self._on_value, names="value")
        try:
            self.refresh()
        except Exception as error:  # shown, not raised: the cell must still display the widget
            self._poll_failed(error)
        self._go_live(qs.workspace_sid, worker, interval)

    @property
    def value(self) -> str | None:
        """The Activity the buttons currently show."""
        value = self.buttons.value
        return None if value is None else str(value)

    # -- acting -------------------------------------------------------------------------------

    def select(self, activity: str) -> Any:
        """Move the worker to ``activity`` now, like a click; returns the updated worker.

        Blocks until TaskRouter answered; raises its error (and shows it in the widget).
        """
        if activity not in self._activities:
            self._load_activities()
        if activity not in self._activities:
            options = ", ".join(self._activities)
            raise UsageError(f"No Activity named {activity!r} in this workspace",
                             f"use one of: {options}")  # fmt: skip
        with self._programmatic():
            self.buttons.value = activity
        return self._apply(activity)

    def _on_value(self, change: dict[str, Any]) -> None:
        """A click (runs on the kernel's shell thread): hand the REST call to a thread."""
        new = change["new"]
        if self._is_programmatic() or new is None or new == self.activity:
            return
        with self._state_lock:  # counted now, so the poller cannot revert the click meanwhile
            self._busy += 1
            self._generation += 1
        thread = threading.Thread(
            target=self._apply_quietly, args=(new,), name="ActivitySwitcher-update", daemon=True
        )
        thread.start()

    def _apply_quietly(self, activity: str) -> None:
        with contextlib.suppress(Exception):  # shown in the widget; nobody to raise to here
            self._apply(activity, counted=True)

    def _apply(self, activity: str, counted: bool = False) -> Any:
        if not counted:
            with self._state_lock:
                self._busy += 1
                self._generation += 1
        self._set_message(f"moving {self.worker_name} to {activity}…")
        try:
            worker = self._workspace.workers(self.worker_sid).update(
                activity_sid=self._activities[activity]
            )
        except Exception as error:
            self._set_message(
                f"could not move {self.worker_name} to {activity}: {error_text(error)}",
                "error",
            )
            self._done()
            self._resync()  # the buttons go back to what TaskRouter says
            raise
        self._done()
        self._show(worker)
        self._set_message("")
        return worker

    def _done(self) -> None:
        with self._state_lock:
            self._busy -= 1
            self._generation += 1

    def _resync(self) -> None:
        try:
            self.refresh()
        except Exception:
            with self._programmatic():
                self.buttons.value = self.activity if self.activity in self._activities else None

    # -- following ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Fetch the worker and show its Activity (what the poller does every tick)."""
        with self._state_lock:
            generation = self._generation
        worker = self._workspace.workers(self.worker_sid).fetch()
        with self._state_lock:
            stale = self._busy > 0 or generation != self._generation
        if not stale:
            self._show(worker)
        self._clear_message("poll")

    def _show(self, worker: Any) -> None:
        name = worker.activity_name or self._name_of(worker.activity_sid)
        with self._refresh_lock, self._programmatic():
            if name and name not in self.buttons.options:
                self._activities.setdefault(name, worker.activity_sid)
                self.buttons.options = list(self._activities)  # resets the value: set it again
            if self.buttons.value != name:
                self.buttons.value = name
            self.activity, self.available = name, bool(worker.available)
            state = "available" if self.available else "unavailable"
            colour = "#1a7f37" if self.available else "#777"
            text = (
                f"<b>{escape(self.worker_name)}</b> — {escape(str(name))} "
                f'<span style="color:{colour}">({state})</span>'
            )
            if self.status.value != text:
                self.status.value = text

    def _name_of(self, sid: str | None) -> str | None:
        for name, known in self._activities.items():
            if known == sid:
                return name
        self._load_activities()
        return next((n for n, s in self._activities.items() if s == sid), sid)

    def _load_activities(self) -> None:
        for activity in self._workspace.activities.list():
            self._activities.setdefault(activity.friendly_name, activity.sid)

    def _interactive(self) -> list[Any]:
        return [self.buttons]

    def _poll_failed(self, error: BaseException) -> None:
        self._set_message(f"cannot read {self.worker_name}: {error_text(error)}", "error", "poll")

    def __repr__(self) -> str:
        return (
            f"<ActivitySwitcher {self.worker_name}: {self.activity} "
            f"({'available' if self.available else 'unavailable'})"
            f"{' polling' if self.polling else ''}>"
        )
