"""Statistics endpoints, driven through the real twilio SDK against a real sandbox process.

The scenario (built by the ``scene`` fixture), on the sandbox clock:

* t=0   workers Alice and Bob (Offline); tasks T1 (priority 5), T2 (priority 1), T3 (0)
* t=30  Alice goes Idle: the sandbox reserves T1 for her; she accepts (T1 waited 30 s) and,
        her one slot (capacity 1, multitasking) taken, T2 keeps waiting
* t=40  T3 is canceled (it waited 40 s); T2 still waits
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException

STATUSES = ("pending", "reserved", "assigned", "wrapping", "completed", "canceled")


@dataclass
class Scene:
    ws: Any  # the SDK's workspace context
    queue_sid: str
    workflow_sid: str
    alice: str
    bob: str
    tasks: list[str]
    activities: dict[str, str]  # friendly name -> sid


class Body:
    """What ``bulk_real_time_statistics.create(body=...)`` serialises with ``to_dict()``."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def to_dict(self) -> Any:
        return self.value


@pytest.fixture
def scene(client, sandbox) -> Scene:
    tr = client.taskrouter.v1
    # Multitasking with capacity 1: after accepting T1, Alice (still Idle) has no room for T2.
    ws_sid = tr.workspaces.create(friendly_name="Stats", multi_task_enabled=True).sid
    ws = tr.workspaces(ws_sid)
    idle = ws.activities.create(friendly_name="Idle", available=True)
    queue = ws.task_queues.create(friendly_name="Support", target_workers="1==1")
    config = {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
    flow = ws.workflows.create(friendly_name="Main", configuration=json.dumps(config))
    alice = ws.workers.create(friendly_name="Alice").sid
    bob = ws.workers.create(friendly_name="Bob").sid
    tasks = [
        ws.tasks.create(workflow_sid=flow.sid, attributes="{}", priority=p).sid for p in (5, 1, 0)
    ]
    sandbox.advance(30)
    ws.workers(alice).update(activity_sid=idle.sid)
    (reservation,) = ws.tasks(tasks[0]).reservations.list()
    assert reservation.worker_sid == alice
    ws.tasks(tasks[0]).reservations(reservation.sid).update(reservation_status="accepted")
    sandbox.advance(10)
    ws.tasks(tasks[2]).update(assignment_status="canceled", reason="caller hung up")
    activities = {a.friendly_name: a.sid for a in ws.activities.list()}
    return Scene(ws, queue.sid, flow.sid, alice, bob, tasks, activities)


def workers_by_activity(stats: list[dict[str, Any]]) -> dict[str, int]:
    return {row["friendly_name"]: row["workers"] for row in stats}


def statuses(**counts: int) -> dict[str, int]:
    return {status: counts.get(status, 0) for status in STATUSES}


def spread(value: int) -> dict[str, int]:
    return {"avg": value, "min": value, "max": value, "total": value}


# -- workspace ------------------------------------------------------------------------------------


def test_workspace_real_time(scene: Scene) -> None:
    stats = scene.ws.real_time_statistics().fetch()
    assert stats.tasks_by_status == statuses(pending=1, assigned=1, canceled=1)
    assert stats.tasks_by_priority == {"1": 1, "5": 1}
    assert stats.total_tasks == 3
    assert stats.total_workers == 2
    assert stats.longest_task_waiting_sid == scene.tasks[1]
    assert stats.longest_task_waiting_age in (40, 41)
    assert workers_by_activity(stats.activity_statistics) == {
        "Offline": 1,
        "Available": 0,
        "Unavailable": 0,
        "Idle": 1,
    }
    assert {row["sid"] for row in stats.activity_statistics} == set(scene.activities.values())
    assert stats.url.endswith(f"/Workspaces/{scene.ws._solution['sid']}/RealTimeStatistics")


def test_workspace_cumulative(scene: Scene) -> None:
    stats = scene.ws.cumulative_statistics().fetch()
    assert (stats.tasks_created, stats.tasks_canceled, stats.tasks_completed) == (3, 1, 0)
    assert (stats.tasks_deleted, stats.tasks_moved, stats.tasks_timed_out_in_workflow) == (0, 0, 0)
    assert (stats.reservations_created, stats.reservations_accepted) == (1, 1)
    assert stats.reservations_rejected == stats.reservations_canceled == 0
    assert stats.reservations_timed_out == stats.reservations_rescinded == 0
    assert stats.avg_task_acceptance_time == 30
    assert stats.wait_duration_until_accepted == spread(30)
    assert stats.wait_duration_until_canceled == spread(40)
    assert stats.split_by_wait_time is None
    assert stats.end_time - stats.start_time == timedelta(minutes=15)
    assert stats.account_sid and stats.workspace_sid == scene.ws._solution["sid"]


def test_split_by_wait_time(scene: Scene) -> None:
    stats = scene.ws.cumulative_statistics().fetch(split_by_wait_time="35,5")
    assert stats.split_by_wait_time == {
        "5": {
            "above": {"tasks_canceled": 1, "reservations_accepted": 1},
            "below": {"tasks_canceled": 0, "reservations_accepted": 0},
        },
        "35": {
            "above": {"tasks_canceled": 1, "reservations_accepted": 0},
            "below": {"tasks_canceled": 0, "reservations_accepted": 1},
        },
    }


def test_workspace_statistics_has_both_views(scene: Scene) -> None:
    stats = scene.ws.statistics().fetch()
    assert stats.realtime["tasks_by_status"] == statuses(pending=1, assigned=1, canceled=1)
    assert stats.realtime["total_workers"] == 2
    assert stats.cumulative["tasks_created"] == 3
    assert stats.cumulative["reservations_accepted"] == 1
    assert stats.url.endswith("/Statistics")


def test_cumulative_window(scene: Scene, sandbox) -> None:
    sandbox.advance(20 * 60)
    assert scene.ws.cumulative_statistics().fetch().tasks_created == 0
    assert scene.ws.cumulative_statistics().fetch(minutes=60).tasks_created == 3
    clock = datetime.strptime(sandbox.advance(0)["now"], "%Y-%m-%dT%H:%M:%SZ")
    clock = clock.replace(tzinfo=timezone.utc)  # t=1240
    end = clock - timedelta(minutes=20, seconds=35)  # t=5: the tasks exist, nothing else yet
    window = scene.ws.cumulative_statistics().fetch(
        start_date=clock - timedelta(hours=1), end_date=end
    )
    assert (window.tasks_created, window.reservations_created, window.tasks_canceled) == (3, 0, 0)
    assert window.end_time == end


def test_task_channel_filter(scene: Scene) -> None:
    voice = scene.ws.real_time_statistics().fetch(task_channel="voice")
    assert voice.total_tasks == 0
    assert scene.ws.cumulative_statistics().fetch(task_channel="voice").tasks_created == 0
    default = scene.ws.cumulative_statistics().fetch(task_channel="default")
    assert (default.tasks_created, default.reservations_accepted) == (3, 1)


# -- task queues --------------------------------------------------------------------------------


def test_task_queue_real_time(scene: Scene) -> None:
    stats = scene.ws.task_queues(scene.queue_sid).real_time_statistics().fetch()
    assert stats.task_queue_sid == scene.queue_sid
    assert stats.tasks_by_status == statuses(pending=1, assigned=1, canceled=1)
    assert stats.total_eligible_workers == 2
    assert stats.total_available_workers == 1
    assert stats.longest_task_waiting_sid == scene.tasks[1]
    assert stats.longest_relative_task_sid_in_queue == scene.tasks[1]
    assert stats.longest_relative_task_age_in_queue in (40, 41)
    assert workers_by_activity(stats.activity_statistics)["Idle"] == 1


def test_task_queue_cumulative(scene: Scene) -> None:
    stats = scene.ws.task_queues(scene.queue_sid).cumulative_statistics().fetch()
    assert (stats.tasks_entered, stats.tasks_canceled) == (3, 1)
    assert (stats.reservations_created, stats.reservations_accepted) == (1, 1)
    assert stats.wait_duration_until_accepted == spread(30)
    # One time base: the task's age at acceptance, less its time before entering the queue.
    assert stats.wait_duration_in_queue_until_accepted == spread(30)
    assert stats.avg_task_acceptance_time == 30


def test_task_queue_statistics_and_list(scene: Scene) -> None:
    stats = scene.ws.task_queues(scene.queue_sid).statistics().fetch()
    assert stats.realtime["total_eligible_workers"] == 2
    assert stats.cumulative["tasks_entered"] == 3
    rows = scene.ws.task_queues.statistics.list()
    assert [row.task_queue_sid for row in rows] == [scene.queue_sid]
    assert rows[0].realtime["tasks_by_status"]["assigned"] == 1
    assert rows[0].cumulative["reservations_accepted"] == 1
    assert scene.ws.task_queues.statistics.list(friendly_name="Nope") == []


def test_bulk_real_time(scene: Scene) -> None:
    other = scene.ws.task_queues.create(friendly_name="Empty", target_workers="1==2").sid
    bulk = scene.ws.task_queues.bulk_real_time_statistics.create(
        body=Body([scene.queue_sid, {"TaskQueueSid": other, "TaskChannel": "voice"}])
    )
    assert bulk.task_queue_response_count == 2
    first, second = bulk.task_queue_data
    assert first["task_queue_sid"] == scene.queue_sid
    assert (first["total_tasks"], first["total_eligible_workers"]) == (3, 2)
    assert (second["total_tasks"], second["total_eligible_workers"]) == (0, 0)
    documented = Body({"queueSids": [other, scene.queue_sid]})
    bulk = scene.ws.task_queues.bulk_real_time_statistics.create(body=documented)
    assert [row["task_queue_sid"] for row in bulk.task_queue_data] == [other, scene.queue_sid]
    too_many = Body({"queueSids": [scene.queue_sid] * 51})
    with pytest.raises(TwilioRestException) as error:
        scene.ws.task_queues.bulk_real_time_statistics.create(body=too_many)
    assert error.value.status == 400
    with pytest.raises(TwilioRestException) as error:
        scene.ws.task_queues.bulk_real_time_statistics.create(body=Body(["WQ" + "0" * 32]))
    assert error.value.status == 400


# -- workers --------------------------------------------------------------------------------------


def test_workers_statistics(scene: Scene) -> None:
    realtime = scene.ws.workers.real_time_statistics().fetch()
    assert realtime.total_workers == 2
    assert workers_by_activity(realtime.activity_statistics)["Offline"] == 1
    cumulative = scene.ws.workers.cumulative_statistics().fetch()
    assert (cumulative.reservations_created, cumulative.reservations_accepted) == (1, 1)
    durations = {row["friendly_name"]: row for row in cumulative.activity_durations}
    # Offline: Alice's finished 30 s stint and Bob's running 40 s one; Idle: Alice's 10 s.
    assert durations["Offline"]["min"] in (30, 31) and durations["Offline"]["max"] in (40, 41)
    assert durations["Offline"]["total"] in (70, 71, 72)
    assert durations["Idle"]["total"] in (10, 11)
    assert {k: durations["Available"][k] for k in ("avg", "min", "max", "total")} == spread(0)
    both = scene.ws.workers.statistics().fetch(friendly_name="Bob")
    assert both.realtime["total_workers"] == 1
    assert both.cumulative["reservations_created"] == 0
    queued = scene.ws.workers.statistics().fetch(task_queue_sid=scene.queue_sid)
    assert queued.realtime["total_workers"] == 2


def test_worker_instance_statistics(scene: Scene) -> None:
    stats = scene.ws.workers(scene.alice).statistics().fetch()
    assert stats.worker_sid == scene.alice
    assert stats.cumulative["reservations_accepted"] == 1
    durations = {
        row["friendly_name"]: row["total"] for row in stats.cumulative["activity_durations"]
    }
    assert durations["Offline"] in (30, 31) and durations["Idle"] in (10, 11)
    bob = scene.ws.workers(scene.bob).statistics().fetch()
    assert bob.cumulative["reservations_created"] == 0


# -- workflows ------------------------------------------------------------------------------------


def test_workflow_statistics(scene: Scene) -> None:
    flow = scene.ws.workflows(scene.workflow_sid)
    realtime = flow.real_time_statistics().fetch()
    assert realtime.workflow_sid == scene.workflow_sid
    assert realtime.tasks_by_status == statuses(pending=1, assigned=1, canceled=1)
    assert realtime.longest_task_waiting_sid == scene.tasks[1]
    cumulative = flow.cumulative_statistics().fetch()
    assert (cumulative.tasks_entered, cumulative.tasks_canceled) == (3, 1)
    assert cumulative.reservations_accepted == 1
    both = flow.statistics().fetch()
    assert both.realtime["total_tasks"] == 3 and both.cumulative["tasks_entered"] == 3


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"minutes": 0},
        {"task_channel": "fax"},
        {"split_by_wait_time": "ten"},
        {"start_date": "2030-01-02T00:00:00Z", "end_date": "2030-01-01T00:00:00Z"},
    ],
)
def test_bad_parameters_are_400(scene: Scene, params: dict[str, Any]) -> None:
    with pytest.raises(TwilioRestException) as error:
        scene.ws.cumulative_statistics().fetch(**params)
    assert (error.value.status, error.value.code) == (400, 20001)


def test_unknown_sids_are_404(scene: Scene) -> None:
    unknown_queue = "WQ" + "0" * 32
    with pytest.raises(TwilioRestException) as error:
        scene.ws.task_queues(unknown_queue).statistics().fetch()
    assert error.value.status == 404
    with pytest.raises(TwilioRestException) as error:
        scene.ws.workflows("WW" + "0" * 32).real_time_statistics().fetch()
    assert error.value.status == 404
    with pytest.raises(TwilioRestException) as error:
        scene.ws.workers("WK" + "0" * 32).statistics().fetch()
    assert error.value.status == 404
