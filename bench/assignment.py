"""Assignment latency: Alice flips to Idle -> the task is ``assigned`` (report §1).

    python -m bench.assignment [--iterations 100] [--rounds 5]

One iteration is the tutorial's central loop, timed from the SDK call that moves Alice to Idle
to the moment the task reads ``assigned``:

1. ``workers(alice).update(activity_sid=Idle)`` (SDK -> sandbox over loopback HTTP); the
   sandbox reserves Alice for the waiting task and POSTs the signed assignment callback to
2. the real :class:`helpers.server.CallbackServer` (the kit's WSGI app, signature checked), which
   answers ``{"instruction": "accept"}``; the sandbox executes it;
3. detection: the bench blocks on the CallbackServer's request log (a condition variable, no
   polling) until the callback is logged, then fetches the task; only if the sandbox has not
   committed the accept yet does it fetch again (the fetch count is reported).

Between iterations (untimed) the task is completed and Alice goes back to Offline, and a new
Spanish task waits. The floor is measured in the same rounds: the same three round trips (the
SDK worker update, the callback POST, the SDK fetch) against ``bench.floor``, which replays the
sandbox's own answers. Targets (issue 9): p50 <= 10 ms and <= 3x the floor.
"""

from __future__ import annotations

import argparse
import http.client
import json
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from twilio.rest import Client

from helpers.server import CallbackServer
from taskrouter_sandbox.scenario import Quickstart, build_quickstart
from taskrouter_sandbox.sdk import ISOLATED_ENV
from taskrouter_sandbox.testing import SandboxProcess

from .floor import FloorProcess, canned
from .sdk_latency import RecordingHttpClient, client_for
from .stats import latency, ratio, spread


def one_iteration(qs: Quickstart, server: CallbackServer) -> dict[str, float]:
    """One timed flip-to-assigned; returns its phases in ms and the fetches it needed."""
    task = qs.create_task(selected_language="es")
    server.requests.clear()
    wall0, started = time.time(), time.perf_counter()
    qs.set_activity("Alice", "Idle")
    updated = time.perf_counter()
    record = server.wait_for(timeout=10)
    fetches = 1
    while qs.task(task.sid).assignment_status != "assigned":
        fetches += 1
        if fetches > 10_000:
            raise RuntimeError(f"task {task.sid} never became assigned")
    done = time.perf_counter()
    qs.ws.tasks(task.sid).update(assignment_status="completed", reason="bench")
    qs.set_activity("Alice", "Offline")
    return {
        "total": (done - started) * 1000,
        "update": (updated - started) * 1000,
        "callback": (record.time - wall0) * 1000,
        "fetches": fetches,
    }


def floor_answers(
    qs: Quickstart, url: str, creds: tuple[str, str]
) -> tuple[list[dict[str, Any]], str]:
    """The sandbox's own answers to the worker update and to the fetch of an assigned task."""
    recorder = RecordingHttpClient(url)
    client = Client(*creds, http_client=recorder, environment=ISOLATED_ENV)
    ws = client.taskrouter.v1.workspaces(qs.sid)
    answers = []
    task = qs.create_task(selected_language="es")
    ws.workers(qs.workers["Alice"]).update(activity_sid=qs.activities["Idle"])
    answers.append(_canned(recorder))
    deadline = time.monotonic() + 10
    while ws.tasks(task.sid).fetch().assignment_status != "assigned":
        if time.monotonic() > deadline:
            raise RuntimeError("the capture task was not assigned")
    answers.append(_canned(recorder))
    ws.tasks(task.sid).update(assignment_status="completed", reason="bench")
    ws.workers(qs.workers["Alice"]).update(activity_sid=qs.activities["Offline"])
    return answers, task.sid


def _canned(recorder: RecordingHttpClient) -> dict[str, Any]:
    assert recorder.last is not None
    method, url, response = recorder.last
    return canned(method, url, response.status_code, response.text)


def floor_iteration(qs: Quickstart, connection: http.client.HTTPConnection,
                    form: bytes, headers: dict[str, str], task_sid: str) -> float:  # fmt: skip
    """The same three round trips against the floor server, in ms."""
    started = time.perf_counter()
    qs.set_activity("Alice", "Idle")
    connection.request("POST", "/assignment_callback", body=form, headers=headers)
    response = connection.getresponse()
    json.loads(response.read())
    qs.task(task_sid)
    return (time.perf_counter() - started) * 1000


def run(iterations: int, rounds: int, warmup: int = 20) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-assign-") as tmp:
        sandbox = SandboxProcess(data_dir=Path(tmp)).start()
        server = CallbackServer(port=0, auth_token=sandbox.auth_token).start()
        try:
            qs = build_quickstart(sandbox.client(), server.assignment_url)
            creds = (sandbox.account_sid, sandbox.auth_token)
            answers, task_sid = floor_answers(qs, sandbox.url, creds)
            with FloorProcess(answers) as floor:
                floor_qs = Quickstart(client_for(floor.url, *creds), qs.sid, qs.activities,
                                      qs.workers, qs.queues, qs.workflow_sid)  # fmt: skip
                for _ in range(warmup):
                    one_iteration(qs, server)
                record = server.assignments[-1]
                form = urlencode(record.params).encode()
                headers = {"Content-Type": "application/x-www-form-urlencoded",
                           "X-Twilio-Signature": "x" * 28}  # fmt: skip
                connection = http.client.HTTPConnection("127.0.0.1", floor.port, timeout=10)
                real: list[dict[str, float]] = []
                floors: list[float] = []
                per_round: list[tuple[float, float]] = []
                for _ in range(rounds):
                    batch = [one_iteration(qs, server) for _ in range(iterations)]
                    base = [floor_iteration(qs=floor_qs, connection=connection, form=form,
                                            headers=headers, task_sid=task_sid)
                            for _ in range(iterations)]  # fmt: skip
                    real.extend(batch)
                    floors.extend(base)
                    per_round.append(
                        (latency([b["total"] for b in batch])["p50"], latency(base)["p50"])
                    )
                connection.close()
        finally:
            server.stop()
            sandbox.stop()
    return {
        "iterations": iterations,
        "rounds": rounds,
        "assigned": latency([r["total"] for r in real]),
        "update_returned": latency([r["update"] for r in real]),
        "callback_logged": latency([r["callback"] for r in real]),
        "floor": latency(floors),
        "p50_per_round": spread(a for a, _ in per_round),
        "floor_p50_per_round": spread(b for _, b in per_round),
        "ratio_p50": spread(ratio(a, b) for a, b in per_round),
        "fetches_mean": sum(r["fetches"] for r in real) / len(real),
        "fetches_max": max(r["fetches"] for r in real),
        "samples": [round(r["total"], 3) for r in real],
        "floor_samples": [round(f, 3) for f in floors],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = run(args.iterations, args.rounds)
    result.pop("samples"), result.pop("floor_samples")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
