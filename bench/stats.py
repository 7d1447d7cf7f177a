"""Small statistics helpers shared by the benchmarks.

The machine is noisy (2 cores, other work running), so no single number is trusted: every
figure is a median over repeated runs ("rounds") with the min and max of those runs, and every
comparison is a ratio measured inside the same round, so a slow moment hurts both sides.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: p99 of 500 samples is a real sample)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[min(rank, len(ordered)) - 1]


def spread(values: Iterable[float]) -> dict[str, float]:
    """Median of repeated runs with their min and max: the shape every table cell uses."""
    data = [v for v in values if not math.isnan(v)]
    if not data:
        return {"median": math.nan, "min": math.nan, "max": math.nan, "runs": 0}
    return {
        "median": statistics.median(data),
        "min": min(data),
        "max": max(data),
        "runs": len(data),
    }


def latency(samples: Sequence[float]) -> dict[str, float]:
    """Percentiles of one pooled sample set (milliseconds in, milliseconds out)."""
    return {
        "n": len(samples),
        "p50": percentile(samples, 0.50),
        "p95": percentile(samples, 0.95),
        "p99": percentile(samples, 0.99),
        "min": min(samples) if samples else math.nan,
        "max": max(samples) if samples else math.nan,
    }


def measure(call: Callable[[], Any], iterations: int, warmup: int = 5) -> list[float]:
    """Wall time of ``call`` in milliseconds, ``iterations`` times after a short warm-up."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def windows(stamps: Sequence[float], start: float, count: int = 10) -> list[float]:
    """Throughput (events/s) of ``count`` consecutive equal slices of sorted event times.

    Used where a run is too long to repeat (100k tasks): its slices stand in for repeated runs.
    """
    ordered = sorted(stamps)
    if len(ordered) < count:
        count = max(len(ordered), 1)
    size = len(ordered) // count
    rates = []
    previous = start
    for index in range(count):
        end = ordered[(index + 1) * size - 1] if size else previous
        rates.append(size / (end - previous) if end > previous else math.nan)
        previous = end
    return rates
