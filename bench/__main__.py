"""``python -m bench``: run every benchmark, write ``docs/benchmarks.md`` and its figures.

    python -m bench                 # full run, writes docs/ (15-25 min on 2 busy cores;
                                    # the 100k-task row over HTTP is two thirds of it)
    python -m bench --quick         # CI smoke size (~20 s): tiny sizes, Prism only if installed
    python -m bench --only sdk,scale       # re-run some sections, keep the others' results
    python -m bench --only experiment      # the simulated 8-hour day (helpers.simulate)
    python -m bench --report-only   # redraw the report and figures from the saved results
    python -m bench --out DIR       # write DIR/benchmarks.md, DIR/img/, DIR/results.json

Each section runs in its own sandbox process(es); a section that fails is recorded with its
error (the report says so) and the exit status is 1, so the smoke test notices.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import KIT_ROOT

from . import assignment, experiment, report, routing_scale, scale, sdk_latency, startup
from .prose import TEXT

SECTIONS = ("assignment", "sdk", "scale", "startup", "experiment")


@dataclass(frozen=True)
class Plan:
    """How much of everything to run: the full run, or the quick smoke-test size."""

    mode: str
    assign_iterations: int
    assign_rounds: int
    assign_warmup: int
    sdk_iterations: int
    sdk_rounds: int
    install_prism: bool
    http_sizes: list[tuple[int, int, str]]  # (tasks, workers, kit|floor callback server)
    threads: int
    event_sizes: list[int]
    event_workers: list[int]
    events: int
    event_rounds: int
    startup_rounds: int
    notebook_rounds: int
    notebooks: list[Path] = field(default_factory=lambda: list(startup.NOTEBOOKS))
    experiment_hours: float = 8.0  # the simulated day: 625 calls an hour, 30 agents


FULL = Plan("full", 100, 5, 20, 200, 5, True,
            [(1000, 100, "kit"), (1000, 1000, "kit"), (10_000, 100, "kit"),
             (10_000, 1000, "kit"), (10_000, 100, "floor"), (100_000, 1000, "kit")], 4,
            [1000, 10_000, 100_000], [100, 1000], 200, 3, 5, 2)  # fmt: skip
QUICK = Plan("quick", 10, 2, 5, 10, 1, False, [(200, 20, "kit")], 4, [200, 1000], [20], 20, 1,
             1, 1, [KIT_ROOT / "notebooks" / "00-set-up-the-workspace.ipynb"], 0.1)  # fmt: skip


def section_runners(plan: Plan, prism: bool) -> dict[str, Callable[[], dict[str, Any]]]:
    def run_scale() -> dict[str, Any]:
        http = [scale.run_size(t, w, plan.threads, cb) for t, w, cb in plan.http_sizes]
        per_event = routing_scale.sweep(plan.event_sizes, plan.event_workers, plan.events,
                                        plan.event_rounds)  # fmt: skip
        return {"http": http, "per_event": per_event, "events": plan.events,
                "rounds": plan.event_rounds}  # fmt: skip

    return {
        "assignment": lambda: assignment.run(
            plan.assign_iterations, plan.assign_rounds, plan.assign_warmup
        ),
        "sdk": lambda: sdk_latency.run(
            plan.sdk_iterations, plan.sdk_rounds, prism, plan.install_prism
        ),
        "scale": run_scale,
        "startup": lambda: startup.run(plan.startup_rounds, plan.notebook_rounds, plan.notebooks),
        "experiment": lambda: experiment.run(plan.experiment_hours),
    }


def load_average() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def clean(value: Any) -> Any:
    """NaN -> None, so results.json stays strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def run(plan: Plan, only: tuple[str, ...], prism: bool, previous: dict[str, Any]) -> dict:
    results = {k: v for k, v in previous.items() if k in SECTIONS and k not in only}
    load_start, started = load_average(), time.monotonic()
    for name, runner in section_runners(plan, prism).items():
        if name not in only:
            continue
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        began = time.monotonic()
        try:
            results[name] = runner()
        except Exception as error:  # recorded in the report; the exit status says it failed
            traceback.print_exc()
            results[name] = {"error": f"{type(error).__name__}: {error}"}
        results[name]["seconds"] = round(time.monotonic() - began, 1)
        print(f"[bench] {name} done in {results[name]['seconds']} s", file=sys.stderr, flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=KIT_ROOT).stdout.strip()  # fmt: skip
    results["meta"] = {
        "mode": plan.mode, "date": time.strftime("%Y-%m-%d %H:%M %Z"), "commit": commit,
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "load_start": load_start, "load_end": load_average(),
        "duration_min": f"{(time.monotonic() - started) / 60:.1f}",
    }  # fmt: skip
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few iterations")
    parser.add_argument("--out", type=Path, default=KIT_ROOT / "docs")
    parser.add_argument("--results", type=Path, help="default: bench/out/results.json, or "
                        "OUT/results.json with --out")  # fmt: skip
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--no-prism", action="store_true", help="skip the Prism comparison")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    default_out = args.out == KIT_ROOT / "docs"
    results_path = args.results or (
        KIT_ROOT / "bench" / "out" / "results.json" if default_out else args.out / "results.json"
    )
    previous = json.loads(results_path.read_text()) if results_path.exists() else {}
    if args.report_only:
        results = previous
    else:
        only = tuple(s.strip() for s in args.only.split(",") if s.strip())
        unknown = set(only) - set(SECTIONS)
        if unknown:
            parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
        results = clean(run(QUICK if args.quick else FULL, only, not args.no_prism, previous))
        results_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(results, indent=1))
    inside = results_path.resolve().is_relative_to(KIT_ROOT)
    shown = results_path.resolve().relative_to(KIT_ROOT) if inside else results_path
    results.setdefault("meta", {})["results"] = str(shown)
    written = report.render(results, args.out, TEXT)
    print(f"[bench] wrote {written} and {args.out / 'img'}/bench-*.png", file=sys.stderr)
    return 1 if any("error" in (results.get(s) or {}) for s in SECTIONS) else 0


if __name__ == "__main__":
    sys.exit(main())
