"""Experiments on the sandbox's clock: a seeded day of calls through the real SDK, measured by
TaskRouter's own Statistics and Events.

    from helpers.experiment import Scenario, Arrivals, Duration, agents, language_routing
    day = Scenario(agents=agents(10, languages=["en"]), arrivals=Arrivals(per_hour=100),
                   handle_time=Duration.exponential(240), hours=8, seed=7)
    results = helpers.experiment(day, language_routing())        # a table in Jupyter; .plot()
    both = helpers.compare_designs(day, [language_routing(), language_routing(30)])
"""

from __future__ import annotations

from collections.abc import Sequence

from twilio.rest import Client

from ..client import connect
from ..config import load_settings
from ..errors import KitError
from .clock import LIVE_HINT
from .compare import Comparison, compare
from .design import Design, diff, language_routing, single_queue
from .driver import Run, drive
from .model import Agent, Arrivals, Call, Duration, Scenario, agents
from .results import Figures, Results, collect


def simulate(scenario: Scenario, design: Design, client: Client | None = None,
             service_level: int = 20, sample_every: float | None = 300.0) -> Results:  # fmt: skip
    """Run ``scenario`` against ``design`` in a fresh sandbox workspace; TaskRouter's figures.

    ``service_level``: the threshold N of "answered within N s". ``sample_every``: seconds
    between samples of the workspace's real-time statistics (``None``: none).
    """
    if client is None:
        if load_settings().live:
            raise KitError("A simulated day runs only on the sandbox's clock", LIVE_HINT)
        client = connect()
    run = drive(client, scenario, design, sample_every)
    return collect(client, scenario, run, service_level, design.name)


def compare_designs(scenario: Scenario, designs: Sequence[Design], client: Client | None = None,
                    service_level: int = 20,
                    sample_every: float | None = 300.0) -> Comparison:  # fmt: skip
    """The same seeded day against each design; side by side, with the configuration diffs."""
    return compare(designs, lambda d: simulate(scenario, d, client, service_level, sample_every))


__all__ = [
    "Agent", "Arrivals", "Call", "Comparison", "Design", "Duration", "Figures", "Results",
    "Run", "Scenario", "agents", "compare_designs", "diff", "language_routing", "simulate",
    "single_queue",
]  # fmt: skip
