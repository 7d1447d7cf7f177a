"""Twilio's TaskRouter quickstart workspace, built through the SDK, and a polling helper.

For tests and benchmarks: ``qs = build_quickstart(client, callback_url)`` makes the
quickstart's activities (Idle, Busy, Reserved, WrapUp), workers Alice (en, es) and Bob (en),
a Spanish and an English queue and a workflow routing on ``selected_language``;
``eventually(probe, check)`` polls for an asynchronous outcome (a callback, an assignment).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from twilio.rest import Client

T = TypeVar("T")


@dataclass
class Quickstart:
    client: Client
    sid: str
    activities: dict[str, str]
    workers: dict[str, str]
    queues: dict[str, str]
    workflow_sid: str

    @property
    def ws(self) -> Any:
        return self.client.taskrouter.v1.workspaces(self.sid)

    def set_activity(self, worker: str, activity: str) -> Any:
        return self.ws.workers(self.workers[worker]).update(activity_sid=self.activities[activity])

    def worker(self, name: str) -> Any:
        return self.ws.workers(self.workers[name]).fetch()

    def task(self, sid: str) -> Any:
        return self.ws.tasks(sid).fetch()

    def create_task(self, **attributes: Any) -> Any:
        return self.ws.tasks.create(
            attributes=json.dumps(attributes), workflow_sid=self.workflow_sid
        )

    def reservations(self, task_sid: str) -> list[Any]:
        return list(self.ws.tasks(task_sid).reservations.list())


def build_quickstart(
    client: Client,
    callback_url: str | None = None,
    *,
    fallback_url: str | None = None,
    reservation_timeout: int = 120,
    multi_task: bool = False,
    max_reserved_workers: int = 1,
    events_url: str | None = None,
) -> Quickstart:
    ws = client.taskrouter.v1.workspaces.create(
        friendly_name="Quickstart", multi_task_enabled=multi_task, event_callback_url=events_url
    )
    context = client.taskrouter.v1.workspaces(ws.sid)
    activities = {a.friendly_name: a.sid for a in context.activities.list()}
    for name, available in (("Idle", True), ("Busy", False), ("Reserved", False),
                            ("WrapUp", False)):  # fmt: skip
        activities[name] = context.activities.create(friendly_name=name, available=available).sid
    workers = {
        name: context.workers.create(friendly_name=name, attributes=json.dumps(attrs)).sid
        for name, attrs in (("Alice", {"languages": ["en", "es"], "contact_uri": "+15555555555"}),
                            ("Bob", {"languages": ["en"]}))
    }  # fmt: skip
    queues = {
        lang: context.task_queues.create(
            friendly_name=f"Customer Care Requests - {lang}",
            target_workers=f'languages HAS "{code}"',
            reservation_activity_sid=activities["Reserved"],
            assignment_activity_sid=activities["Busy"],
            max_reserved_workers=max_reserved_workers,
        ).sid
        for lang, code in (("Spanish", "es"), ("English", "en"))
    }
    configuration = {"task_routing": {"filters": [
        {"filter_friendly_name": "Spanish", "expression": 'selected_language == "es"',
         "targets": [{"queue": queues["Spanish"]}]},
        {"filter_friendly_name": "English", "expression": 'selected_language == "en"',
         "targets": [{"queue": queues["English"]}]},
    ]}}  # fmt: skip
    flow = context.workflows.create(
        friendly_name="Incoming Customer Care Requests",
        configuration=json.dumps(configuration),
        assignment_callback_url=callback_url,
        fallback_assignment_callback_url=fallback_url,
        task_reservation_timeout=reservation_timeout,
    )
    return Quickstart(client, ws.sid, activities, workers, queues, flow.sid)


def eventually(probe: Callable[[], T], check: Callable[[T], bool], timeout: float = 10.0) -> T:
    """Poll ``probe`` until ``check`` holds (callbacks are asynchronous) or time runs out."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not check(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s; last value: {value!r}")
        time.sleep(0.01)
        value = probe()
    return value
