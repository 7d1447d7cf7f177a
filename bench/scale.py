"""Scale over HTTP: task creation, routing until every task is assigned, and RSS (report §3).

    python -m bench.scale [--sizes 1000:100,10000:1000] [--threads 4]

For each (tasks, workers) pair, a fresh sandbox process:

1. creation: ``tasks`` SDK ``tasks.create`` calls from ``threads`` client threads (each thread
   its own ``Client``; the sandbox is one process, so threads only hide client-side latency);
2. routing: the workers flip to Idle and the real :class:`~helpers.server.CallbackServer`
   answers every assignment callback with ``accept``. The queue's reservation activity is
   ``Reserved`` (unavailable) and its assignment activity ``Idle`` (available), so an accepted
   worker is at once reserved for the next waiting task: every one of the ``tasks``
   assignments is an HTTP callback round trip, end to end, until the workspace's real-time
   statistics count them all ``assigned``;
3. RSS: ``VmRSS`` of the sandbox process from ``/proc/<pid>/status`` after setup, after
   creation and after routing.

A run is too long to repeat at 100k, so its ten equal slices (by completion time) stand in for
repeated runs: the tables give the whole run's rate and the median/min/max slice.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from twilio.rest import Client

from helpers.server import CallbackServer
from taskrouter_sandbox.testing import SandboxProcess

from .floor import FloorProcess
from .stats import spread, windows


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from ``/proc/<pid>/status`` (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def parallel(make_client: Callable[[], Client], items: list[Any], threads: int,
             work: Callable[[Client, Any], Any]) -> list[float]:  # fmt: skip
    """Run ``work(client, item)`` over ``items`` on ``threads`` threads; completion times."""
    local = threading.local()
    stamps: list[float] = []

    def one(item: Any) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = make_client()
        work(client, item)
        stamps.append(time.perf_counter())

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bench-client") as pool:
        for future in [pool.submit(one, item) for item in items]:
            future.result()
    return stamps


class Counter:
    """The auto-accepting instruction: counts callbacks and keeps their times."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.stamps: list[float] = []
        self.done = threading.Event()

    def __call__(self, callback: Any) -> dict[str, str]:
        self.stamps.append(time.perf_counter())
        if len(self.stamps) >= self.expected:
            self.done.set()
        return {"instruction": "accept"}


def setup(client: Client, workers: int, callback_url: str) -> dict[str, Any]:
    ws = client.taskrouter.v1.workspaces.create(friendly_name="Scale", multi_task_enabled=False)
    context = client.taskrouter.v1.workspaces(ws.sid)
    idle = context.activities.create(friendly_name="Idle", available=True).sid
    reserved = context.activities.create(friendly_name="Reserved", available=False).sid
    queue = context.task_queues.create(
        friendly_name="Everyone", target_workers="1==1",
        reservation_activity_sid=reserved, assignment_activity_sid=idle,
    )  # fmt: skip
    config = {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
    flow = context.workflows.create(
        friendly_name="Scale", configuration=json.dumps(config),
        assignment_callback_url=callback_url, task_reservation_timeout=3600,
    )  # fmt: skip
    return {"ws": ws.sid, "idle": idle, "flow": flow.sid, "workers": workers}


def assigned_count(client: Client, ws: str) -> int:
    stats = client.taskrouter.v1.workspaces(ws).real_time_statistics().fetch()
    return int(stats.tasks_by_status.get("assigned", 0))


def cpu_s(pid: int | None = None) -> float:
    """CPU seconds (user + system) of a process, all threads: ``/proc/<pid>/stat``."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_size(
    tasks: int, workers: int, threads: int, callbacks: str = "kit", timeout: float = 900
) -> dict[str, Any]:
    """One row; ``callbacks="floor"`` answers them from ``bench.floor`` instead of the kit's
    CallbackServer (the sandbox's own capacity; completion then seen by polling statistics)."""
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        sandbox = SandboxProcess(data_dir=Path(tmp)).start()
        counter = Counter(tasks)
        server: CallbackServer | FloorProcess
        if callbacks == "floor":
            server = FloorProcess([]).start()
            callback_url = f"{server.url}/assignment_callback"
        else:
            server = CallbackServer(counter, port=0, auth_token=sandbox.auth_token).start()
            callback_url = server.assignment_url
        try:
            pid = sandbox.process.pid  # type: ignore[union-attr]
            client = sandbox.client()
            ids = setup(client, workers, callback_url)
            ws = ids["ws"]

            def create_worker(c: Client, i: int) -> None:
                c.taskrouter.v1.workspaces(ws).workers.create(friendly_name=f"W{i}")

            def create_task(c: Client, i: int) -> None:
                attributes = json.dumps({"n": i})
                c.taskrouter.v1.workspaces(ws).tasks.create(
                    attributes=attributes, workflow_sid=ids["flow"]
                )

            def make_idle(c: Client, sid: str) -> None:
                c.taskrouter.v1.workspaces(ws).workers(sid).update(activity_sid=ids["idle"])

            parallel(sandbox.client, list(range(workers)), threads, create_worker)
            worker_sids = [w.sid for w in client.taskrouter.v1.workspaces(ws).workers.list()]
            rss_setup = rss_mb(pid)
            cpu0, started = (cpu_s(pid), cpu_s()), time.perf_counter()
            created = parallel(sandbox.client, list(range(tasks)), threads, create_task)
            creation_s, create_started = time.perf_counter() - started, started
            cpu1, rss_loaded = (cpu_s(pid), cpu_s()), rss_mb(pid)
            started = time.perf_counter()
            parallel(sandbox.client, worker_sids, threads, make_idle)
            if callbacks != "floor" and not counter.done.wait(timeout):
                raise RuntimeError(f"only {len(counter.stamps)} of {tasks} callbacks arrived")
            while (count := assigned_count(client, ws)) < tasks:
                if time.perf_counter() - started > timeout:
                    raise RuntimeError(f"only {count} of {tasks} tasks assigned")
                time.sleep(0.25 if callbacks == "floor" else 0.02)
            routing_s = time.perf_counter() - started
            cpu2 = (cpu_s(pid), cpu_s())
            return {
                "tasks": tasks, "workers": workers, "threads": threads, "callbacks": callbacks,
                "create_per_s": tasks / creation_s, "create_s": creation_s,
                "create_windows": spread(windows(created, create_started)),
                "assign_per_s": tasks / routing_s, "assign_s": routing_s,
                "assign_windows": spread(windows(counter.stamps, started)),
                "create_cpu_ms": [(b - a) / tasks * 1000 for a, b in zip(cpu0, cpu1, strict=True)],
                "assign_cpu_ms": [(b - a) / tasks * 1000 for a, b in zip(cpu1, cpu2, strict=True)],
                "rss_setup_mb": rss_setup, "rss_loaded_mb": rss_loaded,
                "rss_routed_mb": rss_mb(pid),
            }  # fmt: skip
        finally:
            server.stop()
            sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000:100,10000:1000", help="tasks:workers,...")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--callbacks", choices=("kit", "floor"), default="kit")
    args = parser.parse_args()
    for pair in args.sizes.split(","):
        tasks, workers = (int(x) for x in pair.split(":"))
        row = run_size(tasks, workers, args.threads, args.callbacks)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
