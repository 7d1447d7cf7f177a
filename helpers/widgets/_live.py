"""The machinery every live widget shares: one daemon poller, a re-run-safe registry, guards.

Why it exists: a notebook cell that builds a widget is re-run
again and again, and each run would otherwise leave one more thread polling TaskRouter.
So every live widget registers under ``(class, workspace sid, worker)``; a new one *retires*
the previous one (its poller stops, its buttons grey out). Pollers are daemon threads (a
non-daemon thread delays kernel restarts), stop on ``close()`` and stop by themselves once
the widget's comm is gone. They only *assign trait values* from their thread — the pattern
ipywidgets documents as thread-safe ("Updating a widget in the background", its
"Asynchronous Widgets" page; ipykernel 7.0.x broke it, 7.1 fixed it: ipykernel PR #1451) —
and never use ``with output:``, which the docs warn against when threads produce output.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]  # no type information

from .._html import escape
from ..errors import UsageError

DEFAULT_INTERVAL = 0.3  # seconds: the learner sees a change "at once", the API sees ~3 req/s
JOIN_TIMEOUT = 2.0

_registry: dict[tuple[str, str, str | None], LiveWidget] = {}
_registry_lock = threading.Lock()


def poller_threads(kind: str | None = None) -> list[threading.Thread]:
    """The live pollers in this process (of one widget class when ``kind`` is given)."""
    prefix = f"{kind}-poller" if kind else ""
    return [
        t
        for t in threading.enumerate()
        if t.name.startswith(prefix) and "-poller[" in t.name and t.is_alive()
    ]


def error_text(error: BaseException) -> str:
    """A one-line, secret-free description of a failed REST call."""
    message = getattr(error, "msg", None) or str(error) or type(error).__name__
    code, status = getattr(error, "code", None), getattr(error, "status", None)
    parts = [f"error {code}" if code else "", f"HTTP {status}" if status else ""]
    details = ", ".join(part for part in parts if part)
    return f"{message} ({details})" if details else str(message)


def note_html(text: str, kind: str = "info") -> str:
    """A small coloured message line; ``kind`` is info, error or muted."""
    if not text:
        return ""
    colour = {"error": "#b00020", "muted": "#777", "info": "#333"}.get(kind, "#333")
    icon = {"error": "<b>Error:</b> ", "muted": "<b>Paused:</b> "}.get(kind, "")  # no emoji
    return f'<span style="color:{colour}">{icon}{escape(text)}</span>'


def _close_tree(children: Any) -> None:
    """Close nested widgets too: ``Box.close`` leaves its children's comms open."""
    for child in children:
        _close_tree(getattr(child, "children", ()))
        child.close()


class Poller:
    """Calls ``tick`` every ``interval`` seconds on a daemon thread until stopped or dead."""

    def __init__(
        self,
        name: str,
        interval: float,
        tick: Callable[[], None],
        alive: Callable[[], bool],
        on_error: Callable[[BaseException], None],
    ) -> None:
        if interval <= 0:
            raise UsageError(f"The poll interval must be positive, not {interval!r}",
                             "give it in seconds, e.g. interval=0.3")  # fmt: skip
        self.interval = interval
        self._tick, self._alive, self._on_error = tick, alive, on_error
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Poller:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if not self._alive():
                break  # the widget was closed or its kernel comm went away
            try:
                self._tick()
            except Exception as error:  # a poller must survive any REST hiccup
                with contextlib.suppress(Exception):  # and never print into a random cell
                    self._on_error(error)

    @property
    def running(self) -> bool:
        return self.thread.is_alive() and not self._stop.is_set()

    def stop(self, join: bool = True) -> None:
        self._stop.set()
        if join and self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(JOIN_TIMEOUT)


class LiveWidget(widgets.VBox):  # type: ignore[misc]  # ipywidgets is untyped
    """A VBox that keeps itself current with one registered poller; see the module docstring."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._poller: Poller | None = None
        self._registry_key: tuple[str, str, str | None] | None = None
        self._guard = threading.local()
        self._refresh_lock = threading.Lock()
        self._closed = False

    # -- lifecycle --------------------------------------------------------------------------

    def _go_live(self, workspace_sid: str, worker: str | None, interval: float) -> None:
        """Register (retiring the previous instance) and start polling."""
        kind = type(self).__name__
        key = (kind, workspace_sid, worker)
        with _registry_lock:
            previous = _registry.get(key)
            _registry[key] = self
        self._registry_key = key
        if previous is not None and previous is not self:
            previous.retire(f"replaced by a newer {kind} (the cell ran again); this one is frozen")
        label = f"{workspace_sid[-6:]}{':' + worker if worker else ''}"
        self._poller = Poller(
            f"{kind}-poller[{label}]", interval, self._tick, self._alive, self._poll_failed
        ).start()

    def _alive(self) -> bool:
        comm = self.comm
        if self._closed or comm is None or getattr(comm, "_closed", False):
            return False
        return not (hasattr(comm, "kernel") and comm.kernel is None)

    @property
    def polling(self) -> bool:
        return self._poller is not None and self._poller.running

    def stop(self) -> None:
        """Stop following TaskRouter; the widget stays on screen as it is."""
        if self._poller is not None:
            self._poller.stop()
        with _registry_lock:
            if self._registry_key and _registry.get(self._registry_key) is self:
                del _registry[self._registry_key]

    def retire(self, reason: str) -> None:
        """Freeze this instance because a newer one took over (cell re-run)."""
        self.stop()
        for child in self._interactive():
            child.disabled = True
        self._set_message(reason, "muted", source="retired")

    def close(self) -> None:
        """Stop the poller first (it would otherwise write to a closed comm), then close."""
        self._closed = True
        self.stop()
        _close_tree(self.children)
        super().close()

    # -- hooks for subclasses -----------------------------------------------------------------

    def _tick(self) -> None:
        self.refresh()

    def refresh(self) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def _interactive(self) -> list[Any]:
        return []

    def _poll_failed(self, error: BaseException) -> None:
        self._set_message(f"cannot read TaskRouter: {error_text(error)}", "error", "poll")

    # -- helpers ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _programmatic(self) -> Iterator[None]:
        """Trait changes made inside this block (in this thread) are not user actions."""
        previous = getattr(self._guard, "active", False)
        self._guard.active = True
        try:
            yield
        finally:
            self._guard.active = previous

    def _is_programmatic(self) -> bool:
        return bool(getattr(self._guard, "active", False))

    def _set_message(self, text: str, kind: str = "info", source: str = "action") -> None:
        """Show ``text`` in the message area; ``source`` lets a later success clear its own."""
        self._message_source = source if text else None
        target = getattr(self, "message", None)
        if target is not None:
            value = note_html(text, kind)
            if target.value != value:
                target.value = value

    def _clear_message(self, source: str) -> None:
        if getattr(self, "_message_source", None) == source:
            self._set_message("")
