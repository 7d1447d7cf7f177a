"""Timers on the sandbox clock: reservation timeouts, workflow step timeouts, task TTLs and the
purge of finished tasks.

:class:`Timers` is the schedule only (a heap of ``(due, seq, kind, sid)``); what a timer does
when it fires is the engine's (:meth:`~.engine.Engine.fire_due`). :class:`TimerThread` fires
them as the wall clock reaches them; ``POST /_sandbox/clock`` fires them when the clock jumps.
A timer is kept in memory only: on start-up and reset the engine schedules them again from the
stored records, so nothing about a timer needs to be persisted.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import Record
    from ..store import Transaction

POLL = 0.25  # seconds between checks when no timer is due sooner

# (loop, sid, what, error): a background item failed and was skipped (debugger log, 20500)
FaultSink = Callable[[str, str, str, BaseException], None]
# A timer kind another part registers (the voice side's ring/answer): (tx, record, due) -> did
# it act? The record is the one stored under the timer's sid, or None if it is gone.
TimerHandler = Callable[["Transaction", "Record | None", float], bool]


class Timers:
    """When each timer is due, in due order (ties: the order they were scheduled in)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, str]] = []
        self._seq = 0
        self._lock = threading.Lock()
        self.wake = threading.Event()  # set when a timer is due sooner than the thread waits
        # Kinds fired by another part instead of the engine (see :meth:`register`).
        self.handlers: dict[str, TimerHandler] = {}

    def register(self, kind: str, handler: TimerHandler) -> None:
        """Timers of ``kind`` are fired by ``handler`` (in the engine's transaction)."""
        self.handlers[kind] = handler

    def schedule(self, due: float, kind: str, sid: str) -> None:
        with self._lock:
            self._seq += 1
            heapq.heappush(self._heap, (due, self._seq, kind, sid))
            earliest = self._heap[0][1] == self._seq
        # Wake the timer thread only when its wait must get shorter: it already sleeps no longer
        # than the earliest timer. Waking it on every reservation cost a GIL handover each.
        if earliest:
            self.wake.set()

    def next_due(self) -> float | None:
        with self._lock:
            return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> tuple[float, str, str] | None:
        """The earliest timer due at ``now`` (removed from the schedule), or None."""
        with self._lock:
            if not self._heap or self._heap[0][0] > now:
                return None
            due, _seq, kind, sid = heapq.heappop(self._heap)
        return due, kind, sid

    def clear(self) -> None:
        with self._lock:
            self._heap.clear()


class TimerThread:
    """Fires due timers on a daemon thread; one failure is recorded and the loop goes on."""

    def __init__(
        self,
        timers: Timers,
        now: Callable[[], float],
        fire_due: Callable[[float], int],
        on_fault: FaultSink,
    ) -> None:
        self.timers = timers
        self.now = now
        self.fire_due = fire_due
        self.on_fault = on_fault
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sandbox-timers", daemon=True)
            self._thread.start()

    def stop(self, wait: float | None = None) -> None:
        self._stop.set()
        self.timers.wake.set()
        if wait is not None and self._thread is not None:
            self._thread.join(wait)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                due = self.timers.next_due()
                now = self.now()
                wait = POLL if due is None else min(max(due - now, 0), POLL)
                self.timers.wake.wait(wait)
                self.timers.wake.clear()
                if not self._stop.is_set():
                    self.fire_due(self.now())
            except Exception as error:  # the one timer thread must never die
                self.on_fault("timer", "", "the timer loop failed", error)
                self._stop.wait(POLL)
