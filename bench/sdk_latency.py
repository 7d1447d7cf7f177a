"""Latency of six twilio SDK calls: the sandbox vs the floor vs Stoplight Prism (report §2).

    python -m bench.sdk_latency [--iterations 300] [--rounds 5] [--no-prism] [--profile DIR]

The same ``twilio.rest.Client`` code runs against three servers, each through the kit's own
loopback ``SandboxHttpClient`` pointed at that server's URL:

* the sandbox (a real ``python -m taskrouter_sandbox serve`` process, state in SQLite);
* the floor (``bench.floor``): the sandbox's own answers replayed by a bare ``http.server``;
* Prism (``bench.prism``) mocking the TaskRouter spec in static mode (stateless examples).

Each round measures every call on every server back to back, so the ratios of one round share
the same machine conditions; the report gives the median round with the min and max rounds.
Target (issue 20): the sandbox at least 2x faster than Prism on every call.

"accept" is a REST accept of a pending reservation: the sandbox gets a fresh one per call (a
pool of available workers and tasks made before each round, completed after it; only the
accept itself is timed), Prism and the floor answer the same URL every time. "list 50 tasks"
is not like for like: Prism answers its one-record example. So the floor also replays the
sandbox's answer cut to one record ("list 1 task"), and the fair Prism figure adds what the SDK
spends on the 49 other records: ``prism + (floor list 50 - floor list 1)``, same round.

``--profile DIR`` samples the sandbox with py-spy while the rounds run (``DIR/sandbox.txt``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twilio.rest import Client

from taskrouter_sandbox.sdk import ISOLATED_ENV, SandboxHttpClient
from taskrouter_sandbox.testing import SandboxProcess

from . import prism as prism_mod
from .floor import FloorProcess, canned
from .stats import measure, percentile, ratio, spread

CALLS = ("fetch task", "create task", "update worker", "list 50 tasks", "accept",
         "statistics")  # fmt: skip
LIST_1 = "list 1 task"  # the floor only: the sandbox's list answer cut to one record
WARMUP = 10


def client_for(url: str, account_sid: str, auth_token: str) -> Client:
    return Client(account_sid, auth_token, http_client=SandboxHttpClient(url),
                  environment=ISOLATED_ENV)  # fmt: skip


def prepare(client: Client, pool_workers: int) -> dict[str, str]:
    """A workspace with 60 tasks and one worker (a full page of 50), and a second one with
    available workers, whose tasks are reserved at once (the accept pool)."""
    ws = client.taskrouter.v1.workspaces.create(friendly_name="Bench", template="FIFO")
    workspace = client.taskrouter.v1.workspaces(ws.sid)
    for _ in range(60):
        workspace.tasks.create(attributes='{"n": 1}')
    task = workspace.tasks.list(limit=1)[0]
    worker = workspace.workers.create(friendly_name="Ann")
    pool = client.taskrouter.v1.workspaces.create(friendly_name="Bench accept", template="FIFO")
    available = next(a.sid for a in client.taskrouter.v1.workspaces(pool.sid).activities.list()
                     if a.available)  # fmt: skip
    for n in range(pool_workers):
        client.taskrouter.v1.workspaces(pool.sid).workers.create(
            friendly_name=f"Agent {n}", activity_sid=available
        )
    return {"ws": ws.sid, "task": task.sid, "worker": worker.sid,
            "offline": ws.default_activity_sid, "pool": pool.sid}  # fmt: skip


class AcceptPool:
    """Pending reservations for the sandbox's "accept" call, one per call.

    ``refill(n)`` (untimed, before a round) completes the tasks accepted so far, which frees
    their workers, and creates ``n`` tasks in the pool workspace (at most one per worker),
    keeping each one's reservation."""

    def __init__(self, client: Client, workspace_sid: str) -> None:
        self.workspace = client.taskrouter.v1.workspaces(workspace_sid)
        self.pending: list[tuple[str, str]] = []  # (task sid, reservation sid)
        self.accepted: list[str] = []

    def refill(self, count: int) -> None:
        self.drain()
        while len(self.pending) < count:  # one reservation per available worker
            sid = self.workspace.tasks.create(attributes="{}").sid
            reservation = self.workspace.tasks(sid).reservations.list(limit=1)[0]
            self.pending.append((sid, reservation.sid))

    def accept_one(self, task_sid: str, reservation_sid: str) -> None:
        self.workspace.tasks(task_sid).reservations(reservation_sid).update(
            reservation_status="accepted"
        )
        self.accepted.append(task_sid)

    def accept_next(self) -> None:
        self.accept_one(*self.pending.pop(0))

    def drain(self) -> None:
        for sid in self.accepted:
            self.workspace.tasks(sid).update(assignment_status="completed", reason="bench")
        self.accepted = []


def calls_for(
    client: Client, ids: dict[str, str], accept: Callable[[], Any] | None = None
) -> dict[str, Callable[[], Any]]:
    """The timed calls; ``accept`` overrides the accept of one fixed reservation (the sandbox's
    pool; Prism and the floor answer the same URL every time)."""
    workspace = client.taskrouter.v1.workspaces(ids["ws"])
    reservation = workspace.tasks(ids["accept_task"]).reservations(ids["reservation"])
    return {
        "fetch task": lambda: workspace.tasks(ids["task"]).fetch(),
        "create task": lambda: workspace.tasks.create(attributes='{"type": "bench"}'),
        "update worker": lambda: workspace.workers(ids["worker"]).update(
            activity_sid=ids["offline"], attributes='{"level": 1}'
        ),
        "list 50 tasks": lambda: workspace.tasks.page(page_size=50),
        "accept": accept or (lambda: reservation.update(reservation_status="accepted")),
        "statistics": lambda: workspace.real_time_statistics().fetch(),
    }


class RecordingHttpClient(SandboxHttpClient):
    """Keeps the last exchange, so the floor can replay the sandbox's exact answer."""

    last: tuple[str, str, Any] | None = None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = super().request(method, url, *args, **kwargs)
        self.last = (method, url, response)
        return response


def capture(
    url: str, creds: tuple[str, str], ids: dict[str, str], pool: AcceptPool
) -> list[dict[str, Any]]:
    """The sandbox's answer to each call, for the floor server to replay; sets
    ``ids["accept_task"]``, ``ids["reservation"]`` (the floor's and Prism's accept URL: the
    reservation accepted here, under the bench workspace's path), and adds the list answer cut
    to one record under a path of its own (``list 1 task``)."""
    recorder = RecordingHttpClient(url)
    client = Client(*creds, http_client=recorder, environment=ISOLATED_ENV)
    pool.refill(1)
    ids["accept_task"], ids["reservation"] = pool.pending.pop()
    in_pool = client.taskrouter.v1.workspaces(ids["pool"]).tasks(ids["accept_task"])
    answers = []
    for name, call in calls_for(client, ids).items():
        if name == "accept":
            in_pool.reservations(ids["reservation"]).update(reservation_status="accepted")
            pool.accepted.append(ids["accept_task"])
        else:
            call()
        assert recorder.last is not None
        method, sent_to, response = recorder.last
        sent_to = sent_to.replace(ids["pool"], ids["ws"])  # the URL the floor is asked
        answers.append(canned(method, sent_to, response.status_code, response.text))
        if name == "list 50 tasks":
            one = json.loads(response.text)
            one["tasks"] = one["tasks"][:1]
            one["meta"]["page_size"] = 1
            answers.append(canned(method, sent_to.replace(ids["ws"], LIST_1_WORKSPACE),
                                  response.status_code, json.dumps(one)))  # fmt: skip
    return answers


LIST_1_WORKSPACE = "WS" + "1" * 32  # the floor's path for the one-record list answer


def floor_calls(client: Client, ids: dict[str, str]) -> dict[str, Callable[[], Any]]:
    calls = calls_for(client, ids)
    one = client.taskrouter.v1.workspaces(LIST_1_WORKSPACE)
    calls[LIST_1] = lambda: one.tasks.page(page_size=1)
    return calls


def run(
    iterations: int, rounds: int, prism: bool, install_prism: bool = True,
    profile: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    binary, note = (
        prism_mod.locate(install_prism) if prism else (None, "Prism skipped (--no-prism)")
    )
    with tempfile.TemporaryDirectory(prefix="bench-sdk-") as tmp:
        sandbox = SandboxProcess(data_dir=Path(tmp)).start()
        floor = prism_proc = spy = None
        try:
            creds = (sandbox.account_sid, sandbox.auth_token)
            sandbox_client = sandbox.client()
            ids = prepare(sandbox_client, iterations + WARMUP)
            pool = AcceptPool(sandbox_client, ids["pool"])
            floor = FloorProcess(capture(sandbox.url, creds, ids, pool)).start()
            targets = {"sandbox": calls_for(sandbox_client, ids, pool.accept_next),
                       "floor": floor_calls(client_for(floor.url, *creds), ids)}  # fmt: skip
            if binary is not None:
                try:
                    prism_proc = prism_mod.PrismProcess(binary).start()
                    targets["prism"] = calls_for(client_for(prism_proc.url, *creds), ids)
                    targets["prism"]["fetch task"]()  # Prism's first answer is slow: not counted
                except Exception as error:  # the report says why instead
                    note = f"Prism skipped: {error}"
            spy = start_profile(sandbox.process.pid, profile) if profile else None  # type: ignore[union-attr]
            before = {("sandbox", "accept"): pool.refill}
            return measure_rounds(targets, iterations, rounds, before) | {
                "prism_note": note,
                "prism_startup_s": prism_proc.startup_s if prism_proc else None,
                "iterations": iterations,
                "rounds": rounds,
            }
        finally:
            if spy is not None:
                spy.send_signal(2)  # py-spy writes its file on SIGINT
                spy.wait(30)
            for process in (prism_proc, floor):
                if process is not None:
                    process.stop()
            sandbox.stop()


def start_profile(pid: int, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the sandbox process into ``out/sandbox.txt`` (collapsed stacks)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        return None
    out.mkdir(parents=True, exist_ok=True)
    command = [py_spy, "record", "-p", str(pid), "-o", str(out / "sandbox.txt"), "--rate", "500",
               "--format", "raw", "--nonblocking"]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure_rounds(
    targets: dict[str, dict[str, Callable[[], Any]]],
    iterations: int,
    rounds: int,
    before: dict[tuple[str, str], Callable[[int], None]] | None = None,
) -> dict[str, Any]:
    """Every call on every target, round after round; ``before[(target, call)](n)`` runs
    untimed before a measurement of ``n`` calls (the accept pool's refill)."""
    before = before or {}
    names = {t: [c for c in (*CALLS, LIST_1) if c in calls] for t, calls in targets.items()}
    medians = {t: {c: [] for c in names[t]} for t in targets}
    pooled = {t: {c: [] for c in names[t]} for t in targets}
    warmup = WARMUP
    for _ in range(rounds):
        for call in (*CALLS, LIST_1):
            for target, calls in targets.items():
                if call not in calls:
                    continue
                if (target, call) in before:
                    before[(target, call)](iterations + warmup)
                samples = measure(calls[call], iterations, warmup=warmup)
                medians[target][call].append(statistics.median(samples))
                pooled[target][call].extend(samples)
    result: dict[str, Any] = {"targets": {}, "ratios": {}}
    for target in targets:
        result["targets"][target] = {
            call: spread(medians[target][call]) | {"p95": percentile(pooled[target][call], 0.95)}
            for call in names[target]
        }
    pairs = [("sandbox / floor", "sandbox", "floor"), ("prism / sandbox", "prism", "sandbox")]
    for name, top, bottom in pairs:
        if top in targets and bottom in targets:
            result["ratios"][name] = {
                call: spread(ratio(a, b) for a, b in zip(medians[top][call],
                                                         medians[bottom][call], strict=True))
                for call in CALLS
            }  # fmt: skip
    if "prism" in targets and LIST_1 in medians.get("floor", {}):
        # Prism's one-record list plus what the SDK spends on 49 more records (the floor's
        # 50-record answer minus its one-record answer, same round), over the sandbox's.
        fair = zip(
            medians["prism"]["list 50 tasks"],
            medians["floor"]["list 50 tasks"],
            medians["floor"][LIST_1],
            medians["sandbox"]["list 50 tasks"],
            strict=True,
        )
        result["fair_list_ratio"] = spread(ratio(p + f50 - f1, s) for p, f50, f1, s in fair)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-prism", action="store_true")
    parser.add_argument("--profile", type=Path, help="py-spy the sandbox into DIR/sandbox.txt")
    args = parser.parse_args()
    result = run(args.iterations, args.rounds, not args.no_prism, profile=args.profile)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
