"""The room benchmark at a tiny size, as a smoke test: separate seat processes, each with its
own callback server, run notebook 02's burst round; nothing lost, nothing assigned twice."""

from __future__ import annotations

from bench.workshop import run


def test_two_seats_run_the_burst_without_loss() -> None:
    result = run(seats=2, human_seconds=0)
    assert result["errors"] == []
    assert result["burst"]["flips"] == 2 and result["burst"]["lost"] == 0
    assert result["burst"]["double_assigned"] == 0 and result["burst"]["p50_ms"] is not None
    assert result["sandbox_cpu_ms_per_flip"] is not None
