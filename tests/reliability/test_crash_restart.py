"""``kill -9`` of the sandbox in the middle of a burst of concurrent writes and reservations.

Threads create tasks, flip workers Idle (so reservations happen), accept pending reservations
and complete assigned tasks through the real SDK, while the callback app accepts some
reservations and leaves the others pending. Another thread SIGKILLs the sandbox after N
acknowledged operations; it is restarted on the same data dir. Then:

* every write answered 2xx is there, at least at the version it was answered with;
* tasks and reservations agree (no half-written transaction);
* no reservation is pending without its timer, and timers fire at the right sandbox time: a
  reservation made at T with a 120 s timeout is pending at T+119 and timed out at T+121, across
  the restart; every reservation pending after the restart times out once its time has come;
* no reservation gets a second assignment callback: the callbacks after the restart are for
  reservations made after it.

CI size: one round, the kill after 120 operations. ``KIT_LONG=1``: 6 rounds (kill, restart,
check, burst again on the same data dir), the kill after 600 operations each.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.reliability.support import advance_to, report, sandbox_now, scaled, settle
from tests.support.receiver import Receiver
from tests.support.sandbox import SandboxProcess

TIMEOUT = 120  # the workflow's task_reservation_timeout
WORKERS = 12
THREADS = 6
ROUNDS = scaled(1, 6)
KILL_AFTER = scaled(120, 600)


@dataclass
class Workspace:
    sid: str
    activities: dict[str, str]
    workers: list[str]
    probe_worker: str
    workflow: str


@dataclass
class Acked:
    """Writes the sandbox answered 2xx, with the version (ETag) it answered."""

    tasks: dict[str, int] = field(default_factory=dict)
    workers: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, str] = field(default_factory=dict)  # reservation -> task
    completed: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    count: int = 0
    cut: int = 0  # requests in flight when the sandbox died

    def add(self, kind: str, key: str, value: Any) -> None:
        with self.lock:
            if kind == "completed":
                self.completed.add(key)
            else:
                target = getattr(self, kind)
                target[key] = max(target.get(key, 0), value) if kind != "accepted" else value
            self.count += 1


def etag(headers: Any) -> int:
    return int(str(headers.get("ETag") or headers.get("etag")).strip('W/"'))


def build(client: Client, callback_url: str) -> Workspace:
    """Single-tasking: Idle/Busy/Reserved; burst workers and queue, and a probe worker/queue."""
    tr = client.taskrouter.v1
    ws = tr.workspaces.create(friendly_name="Crash", multi_task_enabled=False)
    context = tr.workspaces(ws.sid)
    activities = {a.friendly_name: a.sid for a in context.activities.list()}
    for name, available in (("Idle", True), ("Busy", False), ("Reserved", False)):
        activities[name] = context.activities.create(friendly_name=name, available=available).sid
    queues = {
        team: context.task_queues.create(
            friendly_name=team,
            target_workers=f'team == "{team}"',
            reservation_activity_sid=activities["Reserved"],
            assignment_activity_sid=activities["Busy"],
        ).sid
        for team in ("burst", "probe")
    }
    configuration = {"task_routing": {
        "filters": [{"filter_friendly_name": "Probe", "expression": "probe == true",
                     "targets": [{"queue": queues["probe"]}]}],
        "default_filter": {"queue": queues["burst"]},
    }}  # fmt: skip
    flow = context.workflows.create(
        friendly_name="Crash",
        configuration=json.dumps(configuration),
        assignment_callback_url=callback_url,
        task_reservation_timeout=TIMEOUT,
    )
    workers = [
        context.workers.create(friendly_name=f"W{i}", attributes='{"team": "burst"}').sid
        for i in range(WORKERS)
    ]
    probe = context.workers.create(friendly_name="Probe", attributes='{"team": "probe"}').sid
    return Workspace(ws.sid, activities, workers, probe, flow.sid)


def answer(form: dict[str, str]) -> dict[str, str]:
    """Accept about half the reservations at once; leave the others (and the probe) pending."""
    if json.loads(form["TaskAttributes"]).get("probe"):
        return {}
    return {"instruction": "accept"} if int(form["ReservationSid"][-1], 16) % 2 else {}


def burst(sandbox: SandboxProcess, space: Workspace, acked: Acked, seed: int) -> list[str]:
    """Concurrent writes until the sandbox dies under them; returns unexpected failures."""
    killed = threading.Event()
    failures: list[str] = []

    def killer() -> None:
        deadline = time.monotonic() + 60
        while acked.count < KILL_AFTER and not failures and time.monotonic() < deadline:
            time.sleep(0.001)
        sandbox.kill9()
        killed.set()

    def writer(number: int) -> None:
        rng = random.Random(seed * 100 + number)
        ws = sandbox.client().taskrouter.v1.workspaces(space.sid)
        while not killed.is_set():
            try:
                step(ws, rng)
            except TwilioRestException as error:  # races between writers are fine, 5xx not
                if error.status >= 500:
                    failures.append(f"{error.status}: {error.msg}")
            except AssertionError as error:
                failures.append(f"writer {number}: {error}")
                return
            except Exception as error:  # the sandbox died under the request
                with acked.lock:
                    acked.cut += 1
                if not killed.wait(5):
                    failures.append(f"{type(error).__name__}: {error}")
                return

    def step(ws: Any, rng: random.Random) -> None:
        op = rng.choice(["task", "task", "idle", "accept", "complete"])
        if op == "task":
            made = ws.tasks.create_with_http_info(attributes=json.dumps({"n": rng.random()}))
            acked.add("tasks", made.data.sid, etag(made.headers))
        elif op == "idle":
            sid = rng.choice(space.workers)
            made = ws.workers(sid).update_with_http_info(activity_sid=space.activities["Idle"])
            acked.add("workers", sid, etag(made.headers))
        elif op == "accept":
            pending = ws.workers(rng.choice(space.workers)).reservations.list(
                reservation_status="pending", limit=1
            )
            for r in pending:
                made = (
                    ws.tasks(r.task_sid).reservations(r.sid).update(reservation_status="accepted")
                )
                assert made.reservation_status == "accepted"
                acked.add("accepted", r.sid, r.task_sid)
        else:
            for task in ws.tasks.list(assignment_status="assigned", limit=1):
                made = ws.tasks(task.sid).update(assignment_status="completed", reason="done")
                assert made.assignment_status == "completed"
                acked.add("completed", task.sid, None)

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(THREADS)]
    threads.append(threading.Thread(target=killer, daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert killed.is_set(), "the burst never reached the kill"
    if acked.count < KILL_AFTER and not failures:
        failures.append(f"only {acked.count} operations acknowledged in 60 s")
    return failures


def check_acknowledged(ws: Any, acked: Acked) -> None:
    tasks = {t.sid: t for t in ws.tasks.list(page_size=1000)}
    for sid, version in acked.tasks.items():
        assert sid in tasks, f"acknowledged task {sid} lost"
        current = ws.tasks(sid).fetch_with_http_info()
        assert etag(current.headers) >= version, f"task {sid} older than acknowledged"
    for sid, version in acked.workers.items():
        current = ws.workers(sid).fetch_with_http_info()
        assert etag(current.headers) >= version, f"worker {sid} older than acknowledged"
    for reservation, task in acked.accepted.items():
        status = ws.tasks(task).reservations(reservation).fetch().reservation_status
        assert status in ("accepted", "completed"), f"accepted {reservation} is {status}"
    for sid in acked.completed:
        assert tasks[sid].assignment_status == "completed", f"completed {sid} lost"


def reservations(ws: Any, space: Workspace) -> list[Any]:
    return [
        r
        for worker in [*space.workers, space.probe_worker]
        for r in ws.workers(worker).reservations.list(page_size=1000)
    ]


def check_consistent(ws: Any, space: Workspace) -> None:
    """Tasks and reservations agree: no transaction was half written."""
    by_task: dict[str, Counter[str]] = {}
    for r in reservations(ws, space):
        by_task.setdefault(r.task_sid, Counter())[r.reservation_status] += 1
    for task in ws.tasks.list(page_size=1000):
        count = by_task.get(task.sid, Counter())
        where = f"task {task.sid} {task.assignment_status}: {dict(count)}"
        assert (task.assignment_status == "reserved") == (count["pending"] > 0), where
        assert count["accepted"] + count["completed"] <= 1, where
        if task.assignment_status == "assigned":
            assert count["accepted"] == 1, where


@pytest.mark.timeout(scaled(120, 1800))
def test_kill9_mid_burst_loses_nothing(tmp_path: Path) -> None:
    started = time.monotonic()
    sandbox = SandboxProcess(data_dir=tmp_path / "data").start()
    receiver = Receiver(sandbox.auth_token)
    receiver.answer("/assignment", body=answer)
    figures: Counter[str] = Counter()
    try:
        space = build(sandbox.client(), receiver.url("/assignment"))
        for round_number in range(ROUNDS):
            acked = Acked()
            ws = sandbox.client().taskrouter.v1.workspaces(space.sid)
            # The probe: a reservation made at a known sandbox time T, still pending at the kill.
            ws.workers(space.probe_worker).update(activity_sid=space.activities["Offline"])
            probe_task = ws.tasks.create(attributes='{"probe": true}').sid
            before = sandbox_now(sandbox)
            ws.workers(space.probe_worker).update(activity_sid=space.activities["Idle"])
            after = sandbox_now(sandbox)
            (probe,) = ws.tasks(probe_task).reservations.list()

            failures = burst(sandbox, space, acked, round_number)
            assert not failures, failures
            sandbox.start()  # same data dir, port and credentials
            at_restart = len(receiver.requests("/assignment"))
            restarted = sandbox_now(sandbox)
            ws = sandbox.client().taskrouter.v1.workspaces(space.sid)

            check_acknowledged(ws, acked)
            check_consistent(ws, space)
            known = {r.sid: r for r in reservations(ws, space)}
            waiting = [r for r in known.values() if r.reservation_status == "pending"]
            assert probe.sid in {r.sid for r in waiting}

            # Timers survived the crash and fire at the right sandbox time.
            advance_to(sandbox, before + TIMEOUT - 1)
            statuses = {r.sid: r.reservation_status for r in reservations(ws, space)}
            assert all(statuses[r.sid] == "pending" for r in waiting), "a timer fired early"
            advance_to(sandbox, after + TIMEOUT + 1)
            status = ws.tasks(probe_task).reservations(probe.sid).fetch().reservation_status
            assert status == "timeout", f"probe is {status} at T+{TIMEOUT + 1}"
            latest = max(r.date_created.timestamp() for r in waiting)
            advance_to(sandbox, latest + 1 + TIMEOUT + 1)
            statuses = {r.sid: r.reservation_status for r in reservations(ws, space)}
            stuck = [r.sid for r in waiting if statuses[r.sid] != "timeout"]
            assert not stuck, f"pending without a timer after the restart: {stuck}"
            # The timed-out tasks were offered again: wait for those callbacks' outcomes.
            settle(sandbox, receiver, ws, space.sid, restarted, at_restart)
            check_consistent(ws, space)

            # One callback per reservation; none again for reservations made before the kill.
            calls = [r.form["ReservationSid"] for r in receiver.requests("/assignment")]
            repeated = [sid for sid, n in Counter(calls).items() if n > 1]
            assert not repeated, f"assignment callbacks sent twice: {repeated}"
            again = [sid for sid in calls[at_restart:] if sid in known]
            assert not again, f"callbacks after the restart for old reservations: {again}"

            figures["sigkills"] += 1
            figures["operations_acknowledged"] += acked.count
            figures["requests_cut_by_the_kill"] += acked.cut
            figures["tasks_acknowledged"] += len(acked.tasks)
            figures["accepts_acknowledged"] += len(acked.accepted)
            figures["completions_acknowledged"] += len(acked.completed)
            figures["pending_at_restart_then_timed_out"] += len(waiting)
            # The next round starts from quiet: the probe done, everyone Offline.
            ws.tasks(probe_task).update(assignment_status="canceled", reason="probe done")
            for worker in space.workers:
                ws.workers(worker).update(activity_sid=space.activities["Offline"])
            settle(sandbox, receiver, ws, space.sid, restarted, at_restart)
        figures["assignment_callbacks"] = len(receiver.requests("/assignment"))
    finally:
        receiver.close()
        sandbox.stop()
    report(
        "crash_restart",
        {"seconds": round(time.monotonic() - started, 1), "lost": 0, **figures},
    )
