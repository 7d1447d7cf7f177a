"""A room under load: N seats as separate client processes, each with its own callback server,
running notebook 02's flow against one workshop sandbox (``python -m taskrouter_sandbox
workshop``), first all at the same moment (the burst), then at a human pace.

One round of a seat, as notebook 02 does it: a task for English is created while Bob is
Offline; Bob is flipped to Idle (the *flip*); the sandbox reserves the task for Bob and calls
the seat's assignment callback, which answers ``accept``; the task is *assigned*, observed
by the seat's event callback ``reservation.accepted`` (TaskRouter has no ``task.assigned``
event: the accepted reservation is what assigns the task), the only event the workspace's
``EventsFilter`` lets through, so observing adds one callback per round. Then the task is
completed and Bob goes Offline again. Measured per round: flip → assigned (wall clock, one
machine). Checked: every task assigned exactly once (one accepted reservation), none lost, no
request failed. The sandbox's own CPU (utime + stime from /proc) per flip tells how to size
a bigger room.

    python -m bench.workshop --seats 30 --seconds 60   # this machine's reduced size
    python -m bench.workshop --seats 100 --seconds 600 # the issue's full size (not on a shared box)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from helpers.callbacks import ASSIGNMENT_PATH, EVENTS_PATH
from helpers.server import CallbackServer
from taskrouter_sandbox.scenario import build_quickstart
from taskrouter_sandbox.sdk import sandbox_client
from taskrouter_sandbox.workshop.testing import RoomProcess

from .stats import percentile

ROUND_TIMEOUT = 30.0
HUMAN_PAUSE = (5.0, 15.0)  # seconds a learner takes between two runs of the cell
PROFILE_SECONDS = 10  # the burst, and the human pace's first seconds


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_round(qs: Any, server: CallbackServer) -> dict[str, Any]:
    task = qs.create_task(selected_language="en")
    flipped = time.time()
    qs.set_activity("Bob", "Idle")
    # a condition variable, not polling: 100 seats polling every 2 ms took CPU the sandbox
    # needed during the burst (and a learner's kernel does not poll either)
    record = server.requests.wait_for(
        lambda r: (
            r.params.get("EventType") == "reservation.accepted"
            and r.params.get("TaskSid") == task.sid
        ),
        ROUND_TIMEOUT,
    )
    assigned_at = None if record is None else record.time
    accepted = [r for r in qs.reservations(task.sid) if r.reservation_status == "accepted"]
    if assigned_at is not None:
        qs.ws.tasks(task.sid).update(assignment_status="completed", reason="bench")
    qs.set_activity("Bob", "Offline")
    return {
        "latency_ms": None if assigned_at is None else (assigned_at - flipped) * 1000,
        "accepted": len(accepted),
    }


def seat_main(url: str, sid: str, token: str, start: Any, until: Any, seed: int,
              results: Any) -> None:  # fmt: skip
    """One learner's kernel: its own client and callback server, in its own process.
    ``until`` (a shared double) is the human phase's end, set as the burst starts."""
    out: dict[str, Any] = {"burst": [], "human": [], "errors": []}
    try:
        client = sandbox_client(url, sid, token)
        server = CallbackServer({"instruction": "accept"}, port=0, auth_token=token).start()
        qs = build_quickstart(client, server.base_url + ASSIGNMENT_PATH,
                              events_url=server.base_url + EVENTS_PATH)  # fmt: skip
        # notebook 02 sets no event callback: only the one event that observes the assignment
        qs.ws.update(events_filter="reservation.accepted")
        start.wait()  # every seat ready: the burst starts at the same moment
        # the seat's CPU: its SDK calls run on this thread, its callback server on others
        cpu, sdk_cpu = time.process_time(), time.thread_time()
        out["burst"].append(one_round(qs, server))
        pace = random.Random(seed)
        while time.time() + HUMAN_PAUSE[1] < float(until.value):
            time.sleep(pace.uniform(*HUMAN_PAUSE))
            out["human"].append(one_round(qs, server))
        out["cpu_s"], out["sdk_cpu_s"] = time.process_time() - cpu, time.thread_time() - sdk_cpu
        server.stop()
    except Exception as error:  # counted as an error of the run, never hidden
        out["errors"].append(f"{type(error).__name__}: {error}\n{traceback.format_exc()[-800:]}")
    results.put(out)


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = sorted(r["latency_ms"] for r in rounds if r["latency_ms"] is not None)
    return {
        "flips": len(rounds),
        "lost": sum(1 for r in rounds if r["latency_ms"] is None),
        "double_assigned": sum(1 for r in rounds if r["accepted"] > 1),
        "p50_ms": round(percentile(latencies, 0.50), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(latencies[-1], 1) if latencies else None,
    }


def start_profile(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy on the room's sandbox for the burst's first ``PROFILE_SECONDS``: collapsed stacks
    (a stack and its sample count per line), summarised by :func:`profile_summary`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [spy, "record", "--pid", str(pid), "--rate", "250", "--nonblocking", "--format",
               "raw", "--duration", str(PROFILE_SECONDS), "--output", str(out)]  # fmt: skip
    spy_process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # --duration counts samples, and on a loaded machine py-spy falls behind its rate and runs
    # for minutes: Ctrl-C it (it writes what it has) when the wall-clock seconds are up
    stop = threading.Timer(PROFILE_SECONDS, spy_process.send_signal, (signal.SIGINT,))
    stop.daemon = True
    stop.start()
    return spy_process


def profile_summary(path: Path, top: int = 25) -> dict[str, Any]:
    """The share of busy samples under each function (inclusive), for the findings."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}  # the leaf frame: where the CPU itself went
    busy = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        if any(idle in frames[-1] for idle in ("wait (threading", "select (", "accept (",
                                                 "_recv_into", "readinto (socket")):  # fmt: skip
            continue  # an idle thread waiting, not CPU
        busy += int(count)
        own[name(frames[-1])] = own.get(name(frames[-1]), 0) + int(count)
        for frame in {name(f) for f in frames}:
            inclusive[frame] = inclusive.get(frame, 0) + int(count)

    def shares(counts: dict[str, int]) -> dict[str, float]:
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:top]
        return {frame: round(n / max(busy, 1), 3) for frame, n in ranked}

    return {"busy_samples": busy, "inclusive_share": shares(inclusive), "self_share": shares(own)}


def name(frame: str) -> str:
    """``function (file:line)`` -> ``function (file)``: one entry per function."""
    function, _, where = frame.partition(" (")
    return f"{function} ({where.rsplit(':', 1)[0]})" if where else function


def run(seats: int, human_seconds: float, profile: Path | None = None) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    with tempfile.TemporaryDirectory() as tmp, RoomProcess(Path(tmp) / "room", seats) as room:
        assert room.process is not None
        start, results = context.Barrier(seats + 1), context.Queue()
        shared_until = context.Value("d", time.time() + 3600)  # fixed as the burst starts
        children = [
            context.Process(target=seat_main, args=(room.url, seat.account_sid, seat.auth_token,
                                                 start, shared_until, seat.number, results))
            for seat in room.seats
        ]  # fmt: skip
        for child in children:
            child.start()
        shared_until.value = time.time() + human_seconds + 5
        start.wait(timeout=300)  # every seat built its workspace: the burst starts now
        spy = None if profile is None else start_profile(room.process.pid, profile)
        cpu_start = cpu_seconds(room.process.pid)
        shared_until.value = time.time() + human_seconds
        outs = [results.get(timeout=human_seconds + 300) for _ in children]
        cpu_total = cpu_seconds(room.process.pid) - cpu_start
        if spy is not None:
            spy.wait(timeout=PROFILE_SECONDS + 60)
        for child in children:
            child.join(timeout=30)
    burst = summarise([r for o in outs for r in o["burst"]])
    human = summarise([r for o in outs for r in o["human"]])
    flips = burst["flips"] + human["flips"]
    seat_cpu = sum(o.get("cpu_s", 0.0) for o in outs)
    sdk_cpu = sum(o.get("sdk_cpu_s", 0.0) for o in outs)
    return {
        "seats": seats, "human_seconds": human_seconds, "burst": burst, "human": human,
        "errors": [e for o in outs for e in o["errors"]],
        "sandbox_cpu_s": round(cpu_total, 2),
        "sandbox_cpu_ms_per_flip": round(cpu_total * 1000 / flips, 2) if flips else None,
        # each seat's process over its rounds: all of it, and its SDK calls' thread alone
        "seat_cpu_ms_per_flip": round(seat_cpu * 1000 / flips, 2) if flips else None,
        "seat_sdk_cpu_ms_per_flip": round(sdk_cpu * 1000 / flips, 2) if flips else None,
        "cpus": os.cpu_count(), "load_end": os.getloadavg(),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.workshop",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seats", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60.0, help="the human-pace phase")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument(
        "--profile", type=Path, default=None, help="py-spy the room during the burst, to here"
    )
    args = parser.parse_args(argv)
    result = run(args.seats, args.seconds, args.profile)
    if args.profile is not None and args.profile.exists():
        result["profile"] = profile_summary(args.profile)
    text = json.dumps(result, indent=1, default=str)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    failed = result["errors"] or any(
        result[p]["lost"] or result[p]["double_assigned"] for p in ("burst", "human")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
