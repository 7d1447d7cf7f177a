"""A simulated contact-centre day on the sandbox's clock (report §5): ``helpers.experiment``.

    python -m bench.experiment [--hours 8] [--per-hour 625] [--agents 30] [--profile DIR]

An 8-hour day, ~5,000 calls at 625 an hour, 30 agents (10 bilingual, 20 English only), 30 %
Spanish callers, lognormal talk time (mean 140 s), 10 s wrap-up, exponential patience (mean
300 s), the design "Spanish overflows to everyone after 30 s" — notebook 07's full-size day.
It runs in a fresh sandbox process; the figures:

* wall seconds of the simulated day (driver + sandbox, results not included) and of reading the
  results back (Events and cumulative statistics), tasks per second of wall time, API requests
  (every request of the day: clock moves ride on the SDK calls, ``X-Sandbox-Advance``);
* the sandbox's share of the cost: CPU seconds (user + system, ``/proc/<pid>/stat``) of the
  sandbox process and of the bench process (the driver: SDK calls, JSON) over the day.

``--profile DIR`` also samples the sandbox with py-spy (``DIR/sandbox.txt``, collapsed stacks).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from helpers.experiment import Arrivals, Duration, Scenario, agents, language_routing
from helpers.experiment.driver import drive
from helpers.experiment.results import collect
from tests.support.sandbox import SandboxProcess

from .scale import cpu_s, rss_mb


def scenario(hours: float, per_hour: float, crew: int, seed: int = 18) -> Scenario:
    bilingual = max(1, crew // 3)
    people = agents(bilingual, "Bilingual", languages=["en", "es"])
    people += agents(crew - bilingual, "English", languages=["en"])
    return Scenario(agents=people,
                    arrivals=Arrivals(per_hour, {"selected_language": {"es": 0.3, "en": 0.7}}),
                    handle_time=Duration.lognormal(140, 0.6), hours=hours, seed=seed,
                    wrap_up=Duration.fixed(10), patience=Duration.exponential(300))  # fmt: skip


def run(hours: float = 8.0, per_hour: float = 625.0, crew: int = 30,
        profile: Path | None = None) -> dict[str, Any]:  # fmt: skip
    day = scenario(hours, per_hour, crew)
    with tempfile.TemporaryDirectory(prefix="bench-experiment-") as tmp:
        sandbox = SandboxProcess(data_dir=Path(tmp)).start()
        spy = None
        try:
            pid = sandbox.process.pid  # type: ignore[union-attr]
            py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            if profile is not None and Path(py_spy).exists():
                profile.mkdir(parents=True, exist_ok=True)
                record = [py_spy, "record", "-p", str(pid), "-o", str(profile / "sandbox.txt"),
                          "--rate", "200", "--format", "raw"]  # fmt: skip
                quiet = subprocess.DEVNULL
                spy = subprocess.Popen(record, stdout=quiet, stderr=quiet)
            client = sandbox.client()
            cpu0 = (cpu_s(pid), cpu_s())
            started = time.perf_counter()
            outcome = drive(client, day, language_routing(30), sample_every=300)
            day_s = time.perf_counter() - started
            cpu1 = (cpu_s(pid), cpu_s())
            started = time.perf_counter()
            results = collect(client, day, outcome, 20, "overflow after 30 s")
            read_s = time.perf_counter() - started
            sandbox_cpu, bench_cpu = (b - a for a, b in zip(cpu0, cpu1, strict=True))
            tasks = len(outcome.calls)
            f = results.overall
            return {
                "hours": hours, "per_hour": per_hour, "agents": crew, "tasks": tasks,
                "day_s": day_s, "read_s": read_s, "tasks_per_s": tasks / day_s,
                "requests": outcome.requests, "requests_per_task": outcome.requests / tasks,
                "ms_per_request": day_s / outcome.requests * 1000,
                "sandbox_cpu_s": sandbox_cpu, "bench_cpu_s": bench_cpu,
                "sandbox_share": sandbox_cpu / (sandbox_cpu + bench_cpu),
                "rss_mb": rss_mb(pid), "answered": f.answered, "abandoned": f.abandoned,
                "service_level": f.service_level, "mean_wait_s": f.mean_wait,
            }  # fmt: skip
        finally:
            if spy is not None:
                spy.send_signal(2)
                spy.wait(30)
            sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--per-hour", type=float, default=625.0)
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()
    print(json.dumps(run(args.hours, args.per_hour, args.agents, args.profile), indent=1))


if __name__ == "__main__":
    main()
