"""Latency of four twilio SDK calls: the sandbox vs the floor vs Stoplight Prism (report §2).

    python -m bench.sdk_latency [--iterations 300] [--rounds 5] [--no-prism]

The same ``twilio.rest.Client`` code runs against three servers, each through the kit's own
loopback ``SandboxHttpClient`` pointed at that server's URL:

* the sandbox (a real ``python -m taskrouter_sandbox serve`` process, state in SQLite);
* the floor (``bench.floor``): the sandbox's own answers replayed by a bare ``http.server``;
* Prism (``bench.prism``) mocking the TaskRouter spec in static mode (stateless examples).

Each round measures every call on every server back to back, so the ratios of one round share
the same machine conditions; the report gives the median round with the min and max rounds.
Target (issue 9): the sandbox at least 2x faster than Prism on every call.
"""

from __future__ import annotations

import argparse
import json
import statistics
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

CALLS = ("fetch task", "create task", "update worker", "list 50 tasks")


def client_for(url: str, account_sid: str, auth_token: str) -> Client:
    return Client(account_sid, auth_token, http_client=SandboxHttpClient(url),
                  environment=ISOLATED_ENV)  # fmt: skip


def prepare(client: Client) -> dict[str, str]:
    """A workspace with 60 tasks and one worker: enough for a full page of 50."""
    ws = client.taskrouter.v1.workspaces.create(friendly_name="Bench", template="FIFO")
    workspace = client.taskrouter.v1.workspaces(ws.sid)
    for _ in range(60):
        workspace.tasks.create(attributes='{"n": 1}')
    task = workspace.tasks.list(limit=1)[0]
    worker = workspace.workers.create(friendly_name="Ann")
    return {"ws": ws.sid, "task": task.sid, "worker": worker.sid,
            "offline": ws.default_activity_sid}  # fmt: skip


def calls_for(client: Client, ids: dict[str, str]) -> dict[str, Callable[[], Any]]:
    workspace = client.taskrouter.v1.workspaces(ids["ws"])
    return {
        "fetch task": lambda: workspace.tasks(ids["task"]).fetch(),
        "create task": lambda: workspace.tasks.create(attributes='{"type": "bench"}'),
        "update worker": lambda: workspace.workers(ids["worker"]).update(
            activity_sid=ids["offline"], attributes='{"level": 1}'
        ),
        "list 50 tasks": lambda: workspace.tasks.page(page_size=50),
    }


class RecordingHttpClient(SandboxHttpClient):
    """Keeps the last exchange, so the floor can replay the sandbox's exact answer."""

    last: tuple[str, str, Any] | None = None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = super().request(method, url, *args, **kwargs)
        self.last = (method, url, response)
        return response


def capture(url: str, creds: tuple[str, str], ids: dict[str, str]) -> list[dict[str, Any]]:
    """The sandbox's answer to each call, for the floor server to replay."""
    recorder = RecordingHttpClient(url)
    client = Client(*creds, http_client=recorder, environment=ISOLATED_ENV)
    answers = []
    for call in calls_for(client, ids).values():
        call()
        assert recorder.last is not None
        method, sent_to, response = recorder.last
        answers.append(canned(method, sent_to, response.status_code, response.text))
    return answers


def run(iterations: int, rounds: int, prism: bool, install_prism: bool = True) -> dict[str, Any]:
    binary, note = (
        prism_mod.locate(install_prism) if prism else (None, "Prism skipped (--no-prism)")
    )
    with tempfile.TemporaryDirectory(prefix="bench-sdk-") as tmp:
        sandbox = SandboxProcess(data_dir=Path(tmp)).start()
        floor = prism_proc = None
        try:
            creds = (sandbox.account_sid, sandbox.auth_token)
            sandbox_client = sandbox.client()
            ids = prepare(sandbox_client)
            targets = {"sandbox": calls_for(sandbox_client, ids)}
            floor = FloorProcess(capture(sandbox.url, creds, ids)).start()
            targets["floor"] = calls_for(client_for(floor.url, *creds), ids)
            if binary is not None:
                try:
                    prism_proc = prism_mod.PrismProcess(binary).start()
                    targets["prism"] = calls_for(client_for(prism_proc.url, *creds), ids)
                    targets["prism"]["fetch task"]()  # Prism's first answer is slow: not counted
                except Exception as error:  # the report says why instead
                    note = f"Prism skipped: {error}"
            return measure_rounds(targets, iterations, rounds) | {
                "prism_note": note,
                "prism_startup_s": prism_proc.startup_s if prism_proc else None,
                "iterations": iterations,
                "rounds": rounds,
            }
        finally:
            for process in (prism_proc, floor):
                if process is not None:
                    process.stop()
            sandbox.stop()


def measure_rounds(
    targets: dict[str, dict[str, Callable[[], Any]]], iterations: int, rounds: int
) -> dict[str, Any]:
    medians: dict[str, dict[str, list[float]]] = {t: {c: [] for c in CALLS} for t in targets}
    pooled: dict[str, dict[str, list[float]]] = {t: {c: [] for c in CALLS} for t in targets}
    for _ in range(rounds):
        for call in CALLS:
            for target, calls in targets.items():
                samples = measure(calls[call], iterations, warmup=10)
                medians[target][call].append(statistics.median(samples))
                pooled[target][call].extend(samples)
    result: dict[str, Any] = {"targets": {}, "ratios": {}}
    for target in targets:
        result["targets"][target] = {
            call: spread(medians[target][call]) | {"p95": percentile(pooled[target][call], 0.95)}
            for call in CALLS
        }
    pairs = [("sandbox / floor", "sandbox", "floor"), ("prism / sandbox", "prism", "sandbox")]
    for name, top, bottom in pairs:
        if top in targets and bottom in targets:
            result["ratios"][name] = {
                call: spread(ratio(a, b) for a, b in zip(medians[top][call],
                                                         medians[bottom][call], strict=True))
                for call in CALLS
            }  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-prism", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(args.iterations, args.rounds, not args.no_prism), indent=2))


if __name__ == "__main__":
    main()
