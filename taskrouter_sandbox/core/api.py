"""The core's entry points, in process: one :class:`Core` wires the engine to its store,
clock and timers (constructor arguments only) and is what the HTTP layer, the webhooks and an
in-process test call.

It knows nothing of HTTP: a refusal is an :class:`~taskrouter_sandbox.api_errors.ApiError`
(Twilio's error code and the status Twilio answers with) or, for an instruction, an
:class:`~.instructions.InstructionError` with the debugger's code.
"""

from __future__ import annotations

from typing import Any

from ..clock import Clock
from ..models import Reservation
from ..store import Store, Transaction
from . import instructions
from .engine import Engine
from .timers import FaultSink, Timers


class Core:
    def __init__(self, store: Store, clock: Clock, on_fault: FaultSink) -> None:
        self.store = store
        self.clock = clock
        self.timers = Timers()
        self.engine = Engine(store, clock.now, self.timers, on_fault)

    def now(self) -> float:
        return self.clock.now()

    def transaction(self) -> Transaction:
        return self.store.transaction()

    def answer(self, reservation_sid: str, instruction: dict[str, Any]) -> Reservation:
        """Carry out an instruction answered to an assignment callback, in its own
        transaction; :class:`~.instructions.InstructionError` (nothing committed) when
        TaskRouter would refuse it."""
        with self.store.transaction() as tx:
            reservation = tx.get(reservation_sid, Reservation)
            if reservation is None:
                raise instructions.InstructionError(20404, "the reservation no longer exists")
            return instructions.execute(self.engine, tx, reservation, instruction, self.now())

    def advance(self, seconds: float) -> float:
        """Move the clock forward and fire every timer that falls due, in due order."""
        with self.store.lock:
            now = self.clock.advance(seconds)
            self.engine.fire_due(now)
            self.store.flush_meta()  # the new offset, unless a timer's commit carried it
        return now

    def reset(self) -> None:
        """Every record and event gone (the clock keeps its offset); timers follow."""
        with self.store.lock:
            self.store.reset()
            self.engine.rebuild()
