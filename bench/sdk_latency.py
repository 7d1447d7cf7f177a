"""Median latency of twilio SDK calls against the sandbox (fetch, create, update, list 50).

    python -m bench.sdk_latency [--iterations N]

Target (issue 2): fetch task <= 1.5 ms median on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.sandbox import SandboxProcess


def measure(call: Callable[[], object], iterations: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 3),
        "min_ms": round(ordered[0], 3),
        "max_ms": round(ordered[-1], 3),
    }


def run(iterations: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = SandboxProcess(data_dir=Path(tmp)).start()
        try:
            client = sandbox.client()
            ws = client.taskrouter.v1.workspaces.create(friendly_name="Bench", template="FIFO")
            workspace = client.taskrouter.v1.workspaces(ws.sid)
            for _ in range(60):
                workspace.tasks.create(attributes='{"n": 1}')
            task = workspace.tasks.list(limit=1)[0]
            worker = workspace.workers.create(friendly_name="Ann")
            offline = ws.default_activity_sid
            calls = {
                "fetch task": lambda: workspace.tasks(task.sid).fetch(),
                "create task": lambda: workspace.tasks.create(attributes='{"type": "bench"}'),
                "update worker": lambda: workspace.workers(worker.sid).update(
                    activity_sid=offline, attributes='{"level": 1}'
                ),
                "list 50 tasks": lambda: workspace.tasks.page(page_size=50),
            }
            return {name: summary(measure(call, iterations)) for name, call in calls.items()}
        finally:
            sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=500)
    args = parser.parse_args()
    results = run(args.iterations)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
