"""The sandbox clock: wall time plus an offset that ``POST /_sandbox/clock`` advances.

Every timestamp and timer in the sandbox reads this clock, so a test (or a learner) can jump
over a 120-second reservation timeout instead of waiting for it. The offset is stored with
the state, so it survives a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Clock:
    def __init__(
        self, offset: float = 0.0, on_change: Callable[[float], None] | None = None
    ) -> None:
        self._offset = offset
        self._on_change = on_change
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += seconds
            if self._on_change is not None:
                self._on_change(self._offset)
        return self.now()
