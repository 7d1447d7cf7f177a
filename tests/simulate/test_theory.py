"""The driver and the sandbox against queueing theory, and same seed -> same figures.

M/M/c: Poisson arrivals, exponential handle times, c identical agents, one FIFO queue. Erlang C
gives the probability that a caller waits and the mean wait; the formula is computed here,
independently of the kit. Tolerance (stated in advance, about 2.5 standard errors of a run this
long, allowing for the correlation between successive waits): P(wait) within 0.05 absolute,
mean wait within 20 % relative. The run is seeded, so it is the same run every time.
"""

from __future__ import annotations

import math

import pytest
from twilio.rest import Client

from helpers.experiment import Arrivals, Duration, Scenario, agents, language_routing, simulate
from helpers.experiment.design import single_queue

AGENTS, HANDLE_S, PER_HOUR, HOURS = 2, 60.0, 72.0, 28.0  # a = 1.2 Erlangs, rho = 0.6, ~2000 calls


def erlang_c(c: int, a: float) -> float:
    """P(wait) in M/M/c with offered load a = lambda / mu Erlangs (a < c)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def test_mmc_matches_erlang_c(client: Client) -> None:
    lam, mu = PER_HOUR / 3600, 1 / HANDLE_S
    p_wait = erlang_c(AGENTS, lam / mu)
    mean_wait = p_wait / (AGENTS * mu - lam)
    assert p_wait == pytest.approx(0.45) and mean_wait == pytest.approx(33.75)  # by hand
    handle = Duration.exponential(HANDLE_S)
    scenario = Scenario(agents=agents(AGENTS), arrivals=Arrivals(per_hour=PER_HOUR),
                        handle_time=handle, hours=HOURS, seed=2026)  # fmt: skip
    results = simulate(scenario, single_queue(), client=client, sample_every=None)
    f = results.overall
    print(f"\nM/M/{AGENTS}: {f.answered} calls; P(wait) {f.waited_share:.3f} vs Erlang C "
          f"{p_wait:.3f}; mean wait {f.mean_wait:.1f} s vs {mean_wait:.1f} s; "
          f"{results.wall_seconds:.1f} s wall")  # fmt: skip
    assert f.answered == f.offered > 1800 and f.abandoned == 0
    assert f.waited_share == pytest.approx(p_wait, abs=0.05)
    assert f.mean_wait == pytest.approx(mean_wait, rel=0.20)
    (queue,) = results.queues  # TaskRouter's cumulative statistics tell the same story
    assert queue.mean_wait == pytest.approx(f.mean_wait, abs=1.0)


def test_same_seed_same_figures(client: Client) -> None:
    mix = {"selected_language": {"es": 0.3, "en": 0.7}}
    crew = agents(2, "Bilingual", languages=["en", "es"]) + agents(2, languages=["en"])
    scenario = Scenario(agents=crew, arrivals=Arrivals(per_hour=90, mix=mix),
                        handle_time=Duration.lognormal(150, 0.6), hours=1, seed=11,
                        wrap_up=Duration.fixed(15), patience=Duration.exponential(90))  # fmt: skip
    assert scenario.calls() == scenario.calls()
    first, second = (simulate(scenario, language_routing(30), client=client) for _ in range(2))
    assert first.workspace_sid != second.workspace_sid
    assert [(c.segment, c.worker, c.canceled) for c in first.calls] == [
        (c.segment, c.worker, c.canceled) for c in second.calls]  # fmt: skip
    for a, b in zip(first.rows(), second.rows(), strict=True):
        assert (a.label, a.offered, a.answered, a.abandoned) == (b.label, b.offered, b.answered,
                                                                 b.abandoned)  # fmt: skip
        assert a.mean_wait == pytest.approx(b.mean_wait, abs=0.5)
        assert a.service_level == pytest.approx(b.service_level, abs=0.02)
    assert first.occupancy == pytest.approx(second.occupancy, abs=0.01)
    other = simulate(scenario.__class__(**{**scenario.__dict__, "seed": 12}), language_routing(30),
                     client=client, sample_every=None)  # fmt: skip
    assert [c.segment for c in other.calls] != [c.segment for c in first.calls]
