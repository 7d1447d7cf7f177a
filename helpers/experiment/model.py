"""The seeded description of a simulated day: who works when, who calls, how long they talk.

Everything random is drawn here, up front, from one ``random.Random(seed)``: the arrival times,
each caller's attributes, handle time, patience and wrap-up. The routing under test decides
only *who* answers and *when*, so two designs run on the same seed face exactly the same
callers (common random numbers), and the differences between their figures are the designs'.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import KitError

HOUR = 3600.0


@dataclass(frozen=True)
class Duration:
    """A random duration in seconds: ``fixed``, ``exponential`` or ``lognormal`` (by its mean)."""

    kind: str
    mean: float
    sigma: float = 0.5  # lognormal only: the spread of log(duration)

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "exponential", "lognormal"):
            raise KitError(f"Unknown duration kind {self.kind!r}",
                           "use Duration.fixed(s), Duration.exponential(mean) or "
                           "Duration.lognormal(mean, sigma)")  # fmt: skip
        if not self.mean >= 0 or not math.isfinite(self.mean) or self.sigma < 0:
            raise KitError(f"A duration needs a finite mean >= 0 and sigma >= 0, got "
                           f"{self.mean!r}/{self.sigma!r}", "pass seconds, e.g. 180")  # fmt: skip

    @classmethod
    def fixed(cls, seconds: float) -> Duration:
        return cls("fixed", seconds)

    @classmethod
    def exponential(cls, mean: float) -> Duration:
        return cls("exponential", mean)

    @classmethod
    def lognormal(cls, mean: float, sigma: float = 0.5) -> Duration:
        return cls("lognormal", mean, sigma)

    def draw(self, rng: random.Random) -> float:
        if self.kind == "fixed" or self.mean == 0:
            return self.mean
        if self.kind == "exponential":
            return rng.expovariate(1 / self.mean)
        # E[lognormal(mu, sigma)] = exp(mu + sigma²/2): choose mu so the mean is self.mean.
        return rng.lognormvariate(math.log(self.mean) - self.sigma**2 / 2, self.sigma)


def as_duration(value: Duration | float | None) -> Duration | None:
    if value is None or isinstance(value, Duration):
        return value
    return Duration.fixed(float(value))


@dataclass(frozen=True)
class Agent:
    """A worker: name, TaskRouter attributes, and a shift in seconds from the start of the day."""

    name: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    shift: tuple[float, float] = (0.0, math.inf)


@dataclass(frozen=True)
class Arrivals:
    """Poisson arrivals at ``per_hour`` calls an hour; each attribute drawn from its shares.

    ``mix={"selected_language": {"es": 0.3, "en": 0.7}}`` gives 30 % Spanish callers.
    """

    per_hour: float
    mix: Mapping[str, Mapping[Any, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.per_hour > 0 or not math.isfinite(self.per_hour):
            raise KitError(f"Arrivals need a positive rate, got {self.per_hour!r} per hour",
                           "pass calls per hour, e.g. Arrivals(per_hour=120)")  # fmt: skip
        for key, shares in self.mix.items():
            if not shares or any(w < 0 for w in shares.values()) or sum(shares.values()) <= 0:
                example = 'e.g. mix={"selected_language": {"es": 0.3, "en": 0.7}}'
                raise KitError(f"The shares of {key!r} must be >= 0 with a positive sum", example)


@dataclass(frozen=True)
class Call:
    """One caller, fully drawn before the day starts."""

    index: int
    at: float  # seconds from the start of the day
    attributes: dict[str, Any]
    handle: float  # talk time once accepted
    wrap_up: float = 0.0  # after-call work, the task in `wrapping`
    patience: float = math.inf  # how long the caller waits before hanging up


@dataclass(frozen=True)
class Scenario:
    """A seeded day: agents, arrivals, handle time, optional patience, wrap-up, accept delay."""

    agents: tuple[Agent, ...]
    arrivals: Arrivals
    handle_time: Duration
    hours: float = 8.0
    seed: int = 1
    wrap_up: Duration | None = None
    patience: Duration | None = None
    accept_after: float = 0.0  # seconds between the reservation and the agent's accept
    script: tuple[Call, ...] | None = None  # exact callers instead of drawn ones (a replay)

    def __post_init__(self) -> None:
        object.__setattr__(self, "agents", tuple(self.agents))
        object.__setattr__(self, "wrap_up", as_duration(self.wrap_up))
        object.__setattr__(self, "patience", as_duration(self.patience))
        names = [a.name for a in self.agents]
        if not names:
            raise KitError("A scenario needs at least one agent", "pass agents=[Agent('Alice')]")
        if len(set(names)) != len(names):
            raise KitError("Agent names must be unique", "give every Agent its own name")
        if not self.hours > 0 or self.accept_after < 0:
            raise KitError("hours must be > 0 and accept_after >= 0", "e.g. hours=8")

    @property
    def seconds(self) -> float:
        return self.hours * HOUR

    def calls(self) -> list[Call]:
        """The day's callers, the same list for the same scenario (and seed), every time."""
        if self.script is not None:
            return sorted(self.script, key=lambda c: (c.at, c.index))
        rng = random.Random(self.seed)
        calls: list[Call] = []
        at = rng.expovariate(self.arrivals.per_hour / HOUR)
        while at < self.seconds:
            attributes = {
                key: rng.choices(list(shares), weights=list(shares.values()))[0]
                for key, shares in sorted(self.arrivals.mix.items())
            }
            handle = self.handle_time.draw(rng)
            wrap = self.wrap_up.draw(rng) if self.wrap_up else 0.0
            patience = self.patience.draw(rng) if self.patience else math.inf
            calls.append(Call(len(calls), at, attributes, handle, wrap, patience))
            at += rng.expovariate(self.arrivals.per_hour / HOUR)
        return calls


def agents(count: int, prefix: str = "Agent", hours: float | None = None,
           **attributes: Any) -> list[Agent]:  # fmt: skip
    """``count`` identical agents ``Agent 01``…, on shift all day (or for ``hours``)."""
    end = math.inf if hours is None else hours * HOUR
    return [Agent(f"{prefix} {i:02d}", dict(attributes), (0.0, end)) for i in range(1, count + 1)]
