"""Live notebook widgets: see TaskRouter act as it happens, without re-running cells.

``ActivitySwitcher`` moves a worker between Activities and follows TaskRouter's own moves,
``TaskBoard`` tables tasks/reservations/workers with fresh changes highlighted, ``EventLog``
shows the event stream beside the callback server's request log, ``CallerPhone`` is a caller
dialling your number (tasks from phone calls). Each keeps exactly one
daemon poller however often its cell is re-run (see ``_live``).
"""

from __future__ import annotations

from ._live import LiveWidget, poller_threads
from .board import TaskBoard
from .eventlog import EventLog
from .phone import CallerPhone
from .switcher import ActivitySwitcher

__all__ = [
    "ActivitySwitcher", "CallerPhone", "EventLog", "LiveWidget", "TaskBoard", "poller_threads",
]  # fmt: skip
