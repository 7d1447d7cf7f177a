"""CPU per callback of the kit's CallbackServer, alone in its own process.

    python -m bench.callback_cpu [--callbacks 3000] [--connections 1] [--kit DIR] [--learner]

A child process runs only ``helpers.CallbackServer`` (the kit's own ``{"instruction":
"accept"}`` server, or with ``--learner`` the learner's Flask route under ``helpers.serve``);
this process sends it signed assignment callbacks the way the sandbox's dispatcher does (form
body, ``X-Twilio-Signature``, one kept-alive ``http.client`` connection per sending thread) and
reads the child's user + system CPU from ``/proc`` before and after. ``--kit DIR`` imports
``helpers`` from another checkout of the kit (an A/B against an older commit);
``--profile OUT`` samples the child with py-spy (raw collapsed stacks to OUT; py-spy counts a
``send`` that wakes the peer on the same core as busy time); ``--cprofile OUT`` writes a cProfile
of the handler threads measured in thread CPU time (use one connection).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from . import KIT_ROOT

TOKEN = "0123456789abcdef0123456789abcdef"
PARAMS = {
    "AccountSid": "AC" + "0" * 32,
    "WorkspaceSid": "WS" + "1" * 32,
    "WorkflowSid": "WW" + "2" * 32,
    "TaskQueueSid": "WQ" + "3" * 32,
    "WorkerSid": "WK" + "4" * 32,
    "WorkerAttributes": json.dumps({"languages": ["en", "es"], "contact_uri": "client:alice"}),
    "TaskSid": "WT" + "5" * 32,
    "TaskAttributes": json.dumps({"selected_language": "es", "n": 1}),
    "TaskAge": "3",
    "TaskPriority": "0",
    "ReservationSid": "WR" + "6" * 32,
    "Timestamp": "1764633600",
}

CHILD = """
import cProfile, sys, time
from werkzeug.serving import WSGIRequestHandler
from flask import Flask, request
from twilio.request_validator import RequestValidator
import helpers
token, learner, profile = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
if profile:  # the handler threads' CPU time (thread_time), one connection at a time
    profiler, handle = cProfile.Profile(time.thread_time), WSGIRequestHandler.handle

    def profiled(self):
        profiler.enable()
        try:
            handle(self)
        finally:
            profiler.disable()

    WSGIRequestHandler.handle = profiled
if learner:
    app = Flask("learner")
    validator = RequestValidator(token)

    @app.post("/assignment_callback")
    def assignment_callback():
        if not validator.validate(request.url, request.form,
                                  request.headers.get("X-Twilio-Signature", "")):
            return {"error": "forged"}, 403
        return {"instruction": "accept"}

    server = helpers.CallbackServer(app=app, port=0, auth_token=token)
else:
    server = helpers.CallbackServer(port=0, auth_token=token)
server.start()
print(server.port, flush=True)
sys.stdin.readline()
server.stop()
if profile:
    profiler.dump_stats(profile)
"""


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def send(port: int, count: int, latencies: list[float]) -> None:
    url = f"http://127.0.0.1:{port}/assignment_callback"
    signature = RequestValidator(TOKEN).compute_signature(url, PARAMS)
    body = urlencode(PARAMS).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "X-Twilio-Signature": signature,
        "User-Agent": "TwilioProxy/1.1",
        "Accept": "*/*",
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(count):
        started = time.perf_counter()
        connection.request("POST", "/assignment_callback", body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        if response.status != 200 or json.loads(data) != {"instruction": "accept"}:
            raise RuntimeError(f"unexpected answer {response.status} {data!r}")
        latencies.append((time.perf_counter() - started) * 1000)
    connection.close()


def run(
    callbacks: int, connections: int, kit: Path, learner: bool, profile: str, cprofile: str
) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(kit)}
    argv = [sys.executable, "-c", CHILD, TOKEN, "1" if learner else "0", cprofile]
    child = subprocess.Popen(argv, cwd=kit, env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert child.stdout is not None and child.stdin is not None
        port = int(child.stdout.readline())
        send(port, 200, [])  # warm-up: imports, first-request setup
        spy = None
        if profile:  # py-spy samples every thread of the child while the callbacks run
            spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record",
                                    "--pid", str(child.pid), "--rate", "500", "--format", "raw",
                                    "--output", profile, "--nonblocking"])  # fmt: skip
            time.sleep(1)
        latencies: list[float] = []
        per_thread = callbacks // connections
        before, started = cpu_s(child.pid), time.perf_counter()
        threads = [threading.Thread(target=send, args=(port, per_thread, latencies))
                   for _ in range(connections)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed, cpu = time.perf_counter() - started, cpu_s(child.pid) - before
        if spy is not None:
            spy.send_signal(2)
            spy.wait(30)
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    latencies.sort()
    sent = per_thread * connections
    return {
        "callbacks": sent,
        "connections": connections,
        "cpu_ms_per_callback": round(cpu / sent * 1000, 3),
        "callbacks_per_s": round(sent / elapsed),
        "p50_ms": round(latencies[len(latencies) // 2], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--callbacks", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--kit", type=Path, default=KIT_ROOT, help="checkout to import from")
    parser.add_argument("--learner", action="store_true", help="the learner's Flask route")
    parser.add_argument("--profile", default="", help="py-spy the child, raw stacks to this file")
    parser.add_argument("--cprofile", default="", help="cProfile (thread CPU time) to this file")
    args = parser.parse_args()
    row = run(
        args.callbacks,
        args.connections,
        args.kit.resolve(),
        args.learner,
        args.profile,
        args.cprofile,
    )
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
