"""Per-event routing cost with 1k, 10k and 100k waiting tasks (issue 3, engineering rules).

    python -m bench.routing_scale [--sizes 1000,10000,100000] [--events 200]

The sandbox app runs in process (no HTTP) so the figure is the engine's own cost per event,
including its SQLite write. The waiting tasks are loaded straight into the store; then each
measured event is a real REST request handled by the app:
  * "task arrives": POST a task while no worker is free (placement in the queue's index);
  * "worker frees up": a worker moves to Idle and is reserved for the best waiting task.
Flat figures across sizes mean one event does not scan the waiting tasks. :func:`sweep` (used by
``python -m bench``) repeats every size in each round, so the 100k-vs-1k ratio of one round is
measured under the same machine conditions.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from taskrouter_sandbox import SandboxConfig, create_app
from taskrouter_sandbox.app import Sandbox
from taskrouter_sandbox.models import Reservation, Task, TaskChannel
from taskrouter_sandbox.router import Request
from taskrouter_sandbox.wire import new_sid

from .stats import ratio, spread

ACCOUNT, TOKEN = "AC" + "b" * 32, "bench-token"


def call(app: Sandbox, method: str, path: str, **form: str) -> dict:
    request = Request(method, path, {}, {k: [v] for k, v in form.items()},
                      {"authorization": "Basic " + base64.b64encode(
                          f"{ACCOUNT}:{TOKEN}".encode()).decode()},
                      account_sid=ACCOUNT, raw_body=urlencode(form).encode())  # fmt: skip
    response = app.handle(request)
    assert response.status < 300, response.body
    return response.body


def setup(app: Sandbox, waiting: int, workers: int) -> dict[str, str]:
    ws = call(app, "POST", "/v1/Workspaces", FriendlyName="Scale", MultiTaskEnabled="false")
    base = f"/v1/Workspaces/{ws['sid']}"
    idle = call(app, "POST", f"{base}/Activities", FriendlyName="Idle", Available="true")["sid"]
    queue = call(app, "POST", f"{base}/TaskQueues", FriendlyName="All", TargetWorkers="1==1")
    config = {"task_routing": {"filters": [], "default_filter": {"queue": queue["sid"]}}}
    flow = call(app, "POST", f"{base}/Workflows", FriendlyName="Flow",
                Configuration=json.dumps(config))  # fmt: skip
    worker_sids = [call(app, "POST", f"{base}/Workers", FriendlyName=f"W{i}")["sid"]
                   for i in range(workers)]  # fmt: skip
    now = app.clock.now()
    channel = next(c for c in app.store.all(TaskChannel) if c.unique_name == "default")
    for start in range(0, waiting, 10_000):
        with app.store.transaction() as tx:
            for i in range(start, min(start + 10_000, waiting)):
                tx.put(Task(sid=new_sid("WT"), account_sid=ACCOUNT, date_created=now + i * 1e-6,
                            date_updated=now, workspace_sid=ws["sid"], attributes='{"n": 1}',
                            priority=i % 10, workflow_sid=flow["sid"],
                            task_queue_sid=queue["sid"], task_channel_sid=channel.sid,
                            task_queue_entered_date=now, virtual_start_time=now + i * 1e-6,
                            filter_index=-1))  # fmt: skip
    return {"base": base, "idle": idle, "offline": ws["default_activity_sid"],
            "flow": flow["sid"], "workers": ",".join(worker_sids)}  # fmt: skip


def run(size: int, events: int, workers: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(SandboxConfig(ACCOUNT, TOKEN, Path(tmp)))
        try:
            ids = setup(app, size, workers)
            base = ids["base"]
            assert app.engine.index.waiting_count(next(iter(app.engine.index._waiting))) == size
            arrive, free = [], []
            for i in range(events):
                started = time.perf_counter()
                call(app, "POST", f"{base}/Tasks", Attributes='{"n": 2}', WorkflowSid=ids["flow"])
                arrive.append((time.perf_counter() - started) * 1e6)
                worker = ids["workers"].split(",")[i % workers]
                started = time.perf_counter()
                call(app, "POST", f"{base}/Workers/{worker}", ActivitySid=ids["idle"])
                free.append((time.perf_counter() - started) * 1e6)
                call(app, "POST", f"{base}/Workers/{worker}", ActivitySid=ids["offline"],
                     RejectPendingReservations="true")  # fmt: skip
            reservations = len(app.store.all(Reservation))
            assert reservations == events, f"{reservations} reservations for {events} events"
            return {"task arrives (us)": statistics.median(arrive),
                    "worker frees up (us)": statistics.median(free)}  # fmt: skip
        finally:
            app.close()


def sweep(sizes: list[int], workers: list[int], events: int, rounds: int) -> dict:
    """Per-event cost (median µs of ``events`` events) for every size and worker count.

    Returns ``{workers: {"sizes": {size: {key: spread}}, "ratio": {key: spread}}}`` where the
    ratio is largest size / smallest size, one value per round.
    """
    out: dict = {}
    for count in workers:
        per_size: dict[int, dict[str, list[float]]] = {size: {} for size in sizes}
        for _ in range(rounds):
            for size in sizes:
                for key, value in run(size, events, count).items():
                    per_size[size].setdefault(key, []).append(value)
        low, high = per_size[min(sizes)], per_size[max(sizes)]
        out[count] = {
            "sizes": {n: {k: spread(v) for k, v in keys.items()} for n, keys in per_size.items()},
            "ratio": {k: spread(ratio(a, b) for a, b in zip(high[k], low[k], strict=True))
                      for k in low},
        }  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--workers", type=int, default=100)
    args = parser.parse_args()
    rows = {}
    for size in (int(s) for s in args.sizes.split(",")):
        rows[size] = run(size, args.events, args.workers)
        print(size, json.dumps({k: round(v, 1) for k, v in rows[size].items()}), flush=True)
    first, last = rows[min(rows)], rows[max(rows)]
    for key in first:
        print(f"{key}: {max(rows)} vs {min(rows)} waiting = {last[key] / first[key]:.2f}x")


if __name__ == "__main__":
    main()
