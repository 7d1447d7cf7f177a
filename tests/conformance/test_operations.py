"""Every TaskRouter v1 operation, called through the real SDK and checked against the spec.

One scenario (a single-tasking contact centre with workers, queues, a workflow, tasks in
every state and live reservations) is built per test, then :data:`OPERATIONS` names the SDK
call for each of the spec's 61 operation ids. The recorder keeps the raw responses, so what
is checked is the wire (status, headers, every declared key, sid/date/URL formats), not the
SDK's forgiving view of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioException
from twilio.rest.taskrouter.v1.workspace import WorkspaceContext

from tests.support.sandbox import SandboxProcess

from . import spec
from .recorder import Exchange, Recorded, operation_for, recording_client

HOST = "https://taskrouter.twilio.com"
ETAG_OPERATIONS = {
    "FetchTask",
    "UpdateTask",
    "FetchWorker",
    "UpdateWorker",
    "FetchTaskReservation",
    "UpdateTaskReservation",
    "FetchWorkerReservation",
    "UpdateWorkerReservation",
}
VALIDATED: set[str] = set()  # operation ids whose every response passed, across this module


@dataclass
class Scenario:
    """Sids of everything the scenario built, and the recorder that saw it being built."""

    recorded: Recorded
    workspace_sid: str
    spare_workspace_sid: str = ""
    activities: dict[str, str] = field(default_factory=dict)  # friendly name -> sid
    workers: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    workflows: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)  # unique name -> sid
    tasks: dict[str, str] = field(default_factory=dict)
    reservations: dict[str, str] = field(default_factory=dict)
    worker_channels: dict[str, str] = field(default_factory=dict)  # unique name -> WC sid

    @property
    def ws(self) -> WorkspaceContext:
        return self.recorded.client.taskrouter.v1.workspaces(self.workspace_sid)

    def last(self, operation_id: str) -> Exchange:
        return [e for e in self.recorded.exchanges if e.operation_id == operation_id][-1]

    def etag(self, operation_id: str) -> str:
        return self.last(operation_id).headers["etag"]


def routing_configuration(queues: dict[str, str]) -> str:
    return json.dumps(
        {
            "task_routing": {
                "filters": [
                    {
                        "filter_friendly_name": "Support",
                        "expression": "type == 'support'",
                        "targets": [{"queue": queues["Support"]}],
                    },
                    {
                        "filter_friendly_name": "Sales",
                        "expression": "type == 'sales'",
                        "targets": [{"queue": queues["Sales"], "priority": 3}],
                    },
                ],
                "default_filter": {"queue": queues["Support"]},
            }
        }
    )


def build_scenario(sandbox: SandboxProcess) -> Scenario:
    """A single-tasking workspace with one assigned, one reserved and one pending task.

    Alice (support) accepted the support task and is Busy; Bob (sales) rejected his first
    reservation for the sales task and holds a second, pending one; a second support task
    waits because Alice is busy. Spares (Break, Carol, Overflow, Spare Flow, support_chat)
    exist so the delete operations have something safe to delete.
    """
    recorded = recording_client(sandbox.url, sandbox.account_sid, sandbox.auth_token)
    v1 = recorded.client.taskrouter.v1
    workspace = v1.workspaces.create(friendly_name="Conformance Centre", multi_task_enabled=False)
    scn = Scenario(recorded, workspace.sid)
    scn.spare_workspace_sid = v1.workspaces.create(friendly_name="Conformance Spare").sid
    ws = scn.ws
    scn.activities = {a.friendly_name: a.sid for a in ws.activities.list()}
    for name, available in (("Idle", True), ("Busy", False), ("Reserved", False)):
        scn.activities[name] = ws.activities.create(friendly_name=name, available=available).sid
    scn.activities["Break"] = ws.activities.create(friendly_name="Break").sid
    scn.channels = {c.unique_name: c.sid for c in ws.task_channels.list()}
    scn.channels["support_chat"] = ws.task_channels.create(
        friendly_name="Support Chat", unique_name="support_chat", channel_optimized_routing=True
    ).sid
    people = {
        "Alice": {"skills": ["support"], "languages": ["en"], "level": 3},
        "Bob": {"skills": ["sales"], "languages": ["en", "es"], "level": 1},
        "Carol": {"skills": [], "languages": ["fr"], "level": 0},
    }
    for name, attributes in people.items():
        scn.workers[name] = ws.workers.create(
            friendly_name=name, attributes=json.dumps(attributes)
        ).sid
    queue_settings = {
        "Support": ("skills HAS 'support'", "FIFO"),
        "Sales": ("skills HAS 'sales' AND level >= 1", "LIFO"),
    }
    for name, (target, order) in queue_settings.items():
        scn.queues[name] = ws.task_queues.create(
            friendly_name=name,
            target_workers=target,
            task_order=order,
            max_reserved_workers=1,
            reservation_activity_sid=scn.activities["Reserved"],
            assignment_activity_sid=scn.activities["Busy"],
        ).sid
    scn.queues["Overflow"] = ws.task_queues.create(
        friendly_name="Overflow", target_workers="languages HAS 'fr'"
    ).sid
    scn.workflows["Router"] = ws.workflows.create(
        friendly_name="Router",
        configuration=routing_configuration(scn.queues),
        task_reservation_timeout=120,
    ).sid
    scn.workflows["Spare Flow"] = ws.workflows.create(
        friendly_name="Spare Flow",
        configuration=json.dumps(
            {"task_routing": {"default_filter": {"queue": scn.queues["Sales"]}}}
        ),
    ).sid
    for name, attributes, channel, priority in (
        ("support", {"type": "support", "customer": "ACME"}, "voice", 5),
        ("sales", {"type": "sales", "lead": True}, "default", 1),
        ("waiting", {"type": "support", "customer": "Initech"}, "sms", 0),
    ):
        scn.tasks[name] = ws.tasks.create(
            workflow_sid=scn.workflows["Router"],
            attributes=json.dumps(attributes),
            task_channel=channel,
            priority=priority,
            timeout=3600,
        ).sid
    ready = scn.activities["Idle"]
    ws.workers(scn.workers["Alice"]).update(activity_sid=ready)
    alice = ws.workers(scn.workers["Alice"]).reservations.list(reservation_status="pending")
    assert len(alice) == 1, "Alice going Idle should reserve the support task for her"
    scn.reservations["alice"] = alice[0].sid
    ws.tasks(scn.tasks["support"]).reservations(alice[0].sid).update(reservation_status="accepted")
    ws.workers(scn.workers["Bob"]).update(activity_sid=ready)
    first = ws.workers(scn.workers["Bob"]).reservations.list(reservation_status="pending")
    assert len(first) == 1, "Bob going Idle should reserve the sales task for him"
    scn.reservations["bob_rejected"] = first[0].sid
    ws.workers(scn.workers["Bob"]).reservations(first[0].sid).update(reservation_status="rejected")
    again = ws.workers(scn.workers["Bob"]).reservations.list(reservation_status="pending")
    assert len(again) == 1, "Bob is back in Idle after rejecting, so the task is offered again"
    scn.reservations["bob"] = again[0].sid
    scn.worker_channels = {
        c.task_channel_unique_name: c.sid
        for c in ws.workers(scn.workers["Alice"]).worker_channels.list()
    }
    return scn


@pytest.fixture
def scenario(sandbox: SandboxProcess) -> Scenario:
    return build_scenario(sandbox)


class QueueSids:
    """The bulk statistics body: the SDK sends ``body.to_dict()`` as JSON.

    Twilio's docs example posts ``{"queueSids": [...]}`` (their parameter table spells it
    ``QueueSids``); the spec leaves the body schema empty.
    """

    def __init__(self, sids: list[str]) -> None:
        self.sids = sids

    def to_dict(self) -> dict[str, list[str]]:
        return {"queueSids": self.sids}


def _new_flow_config(scn: Scenario) -> str:
    return json.dumps(
        {
            "task_routing": {
                "filters": [
                    {
                        "filter_friendly_name": "VIP",
                        "expression": "vip == true",
                        "targets": [{"queue": scn.queues["Sales"], "timeout": 30}],
                    }
                ],
                "default_filter": {"queue": scn.queues["Support"]},
            }
        }
    )


def _update_task(scn: Scenario) -> Any:
    task = scn.ws.tasks(scn.tasks["waiting"])
    task.fetch()
    return task.update(
        if_match=scn.etag("FetchTask"),
        attributes=json.dumps({"type": "support", "customer": "Initech", "vip": True}),
        priority=7,
    )


def _update_worker(scn: Scenario) -> Any:
    worker = scn.ws.workers(scn.workers["Carol"])
    worker.fetch()
    return worker.update(
        if_match=scn.etag("FetchWorker"),
        friendly_name="Caroline",
        attributes=json.dumps({"skills": ["support"], "languages": ["fr"], "level": 2}),
    )


Call = Callable[[Scenario], Any]

OPERATIONS: dict[str, Call] = {
    # Workspaces
    "CreateWorkspace": lambda s: s.recorded.client.taskrouter.v1.workspaces.create(
        friendly_name="Created Here", template="FIFO", prioritize_queue_order="LIFO"
    ),
    "FetchWorkspace": lambda s: s.ws.fetch(),
    "UpdateWorkspace": lambda s: s.ws.update(
        friendly_name="Renamed Centre",
        timeout_activity_sid=s.activities["Unavailable"],
        prioritize_queue_order="LIFO",
    ),
    "ListWorkspace": lambda s: s.recorded.client.taskrouter.v1.workspaces.list(),
    "DeleteWorkspace": lambda s: s.ws.delete(),
    # Activities
    "CreateActivity": lambda s: s.ws.activities.create(friendly_name="Lunch", available=False),
    "FetchActivity": lambda s: s.ws.activities(s.activities["Idle"]).fetch(),
    "UpdateActivity": lambda s: s.ws.activities(s.activities["Idle"]).update(friendly_name="Ready"),
    "ListActivity": lambda s: s.ws.activities.list(),
    "DeleteActivity": lambda s: s.ws.activities(s.activities["Break"]).delete(),
    # Task channels
    "CreateTaskChannel": lambda s: s.ws.task_channels.create(
        friendly_name="Escalation", unique_name="escalation"
    ),
    "FetchTaskChannel": lambda s: s.ws.task_channels(s.channels["support_chat"]).fetch(),
    "UpdateTaskChannel": lambda s: s.ws.task_channels(s.channels["support_chat"]).update(
        friendly_name="Support Chat Two", channel_optimized_routing=False
    ),
    "ListTaskChannel": lambda s: s.ws.task_channels.list(),
    "DeleteTaskChannel": lambda s: s.ws.task_channels(s.channels["support_chat"]).delete(),
    # Workers
    "CreateWorker": lambda s: s.ws.workers.create(
        friendly_name="Dave",
        attributes=json.dumps({"skills": ["sales"], "level": 2}),
        activity_sid=s.activities["Offline"],
    ),
    "FetchWorker": lambda s: s.ws.workers(s.workers["Alice"]).fetch(),
    "UpdateWorker": _update_worker,
    "ListWorker": lambda s: s.ws.workers.list(),
    "DeleteWorker": lambda s: s.ws.workers(s.workers["Carol"]).delete(),
    # Task queues
    "CreateTaskQueue": lambda s: s.ws.task_queues.create(
        friendly_name="Escalations",
        target_workers="level >= 3",
        task_order="LIFO",
        reservation_activity_sid=s.activities["Reserved"],
        assignment_activity_sid=s.activities["Busy"],
    ),
    "FetchTaskQueue": lambda s: s.ws.task_queues(s.queues["Support"]).fetch(),
    "UpdateTaskQueue": lambda s: s.ws.task_queues(s.queues["Support"]).update(
        friendly_name="Support Tier 1",
        target_workers="skills HAS 'support' AND level >= 2",
        max_reserved_workers=2,
    ),
    "ListTaskQueue": lambda s: s.ws.task_queues.list(),
    "DeleteTaskQueue": lambda s: s.ws.task_queues(s.queues["Overflow"]).delete(),
    # Workflows
    "CreateWorkflow": lambda s: s.ws.workflows.create(
        friendly_name="VIP Router", configuration=_new_flow_config(s), task_reservation_timeout=60
    ),
    "FetchWorkflow": lambda s: s.ws.workflows(s.workflows["Router"]).fetch(),
    "UpdateWorkflow": lambda s: s.ws.workflows(s.workflows["Router"]).update(
        friendly_name="Router v2", configuration=_new_flow_config(s), task_reservation_timeout=90
    ),
    "ListWorkflow": lambda s: s.ws.workflows.list(),
    "DeleteWorkflow": lambda s: s.ws.workflows(s.workflows["Spare Flow"]).delete(),
    # Tasks
    "CreateTask": lambda s: s.ws.tasks.create(
        workflow_sid=s.workflows["Router"],
        attributes=json.dumps({"type": "sales", "lead": False}),
        task_channel="support_chat",
        priority=2,
        timeout=600,
    ),
    "FetchTask": lambda s: s.ws.tasks(s.tasks["support"]).fetch(),
    "UpdateTask": _update_task,
    "ListTask": lambda s: s.ws.tasks.list(),
    "DeleteTask": lambda s: s.ws.tasks(s.tasks["waiting"]).delete(),
    # Worker channels
    "ListWorkerChannel": lambda s: s.ws.workers(s.workers["Bob"]).worker_channels.list(),
    "FetchWorkerChannel": lambda s: (
        s.ws.workers(s.workers["Alice"]).worker_channels(s.worker_channels["voice"]).fetch()
    ),
    "UpdateWorkerChannel": lambda s: (
        s.ws.workers(s.workers["Alice"])
        .worker_channels(s.worker_channels["voice"])
        .update(capacity=2, available=True)
    ),
    # Reservations, from the task and from the worker
    "ListTaskReservation": lambda s: s.ws.tasks(s.tasks["sales"]).reservations.list(),
    "FetchTaskReservation": lambda s: (
        s.ws.tasks(s.tasks["support"]).reservations(s.reservations["alice"]).fetch()
    ),
    "UpdateTaskReservation": lambda s: (
        s.ws.tasks(s.tasks["sales"])
        .reservations(s.reservations["bob"])
        .update(reservation_status="accepted")
    ),
    "ListWorkerReservation": lambda s: s.ws.workers(s.workers["Bob"]).reservations.list(),
    "FetchWorkerReservation": lambda s: (
        s.ws.workers(s.workers["Bob"]).reservations(s.reservations["bob"]).fetch()
    ),
    "UpdateWorkerReservation": lambda s: (
        s.ws.workers(s.workers["Bob"])
        .reservations(s.reservations["bob"])
        .update(reservation_status="rejected", worker_activity_sid=s.activities["Break"])
    ),
    # Events
    "ListEvent": lambda s: s.ws.events.list(),
    "FetchEvent": lambda s: s.ws.events(s.ws.events.list(limit=1)[0].sid).fetch(),
    # Workspace statistics
    "FetchWorkspaceStatistics": lambda s: s.ws.statistics().fetch(minutes=60),
    "FetchWorkspaceRealTimeStatistics": lambda s: s.ws.real_time_statistics().fetch(),
    "FetchWorkspaceCumulativeStatistics": lambda s: s.ws.cumulative_statistics().fetch(
        minutes=60, split_by_wait_time="5,30"
    ),
    # TaskQueue statistics
    "FetchTaskQueueStatistics": lambda s: (
        s.ws.task_queues(s.queues["Support"]).statistics().fetch(minutes=60)
    ),
    "FetchTaskQueueRealTimeStatistics": lambda s: (
        s.ws.task_queues(s.queues["Support"]).real_time_statistics().fetch(task_channel="voice")
    ),
    "FetchTaskQueueCumulativeStatistics": lambda s: (
        s.ws.task_queues(s.queues["Sales"])
        .cumulative_statistics()
        .fetch(minutes=60, split_by_wait_time="5,30")
    ),
    "ListTaskQueuesStatistics": lambda s: s.ws.task_queues.statistics.list(minutes=60),
    "CreateTaskQueueBulkRealTimeStatistics": lambda s: (
        s.ws.task_queues.bulk_real_time_statistics.create(
            body=QueueSids([s.queues["Support"], s.queues["Sales"]])
        )
    ),
    # Worker statistics
    "FetchWorkerInstanceStatistics": lambda s: (
        s.ws.workers(s.workers["Alice"]).statistics().fetch(minutes=60)
    ),
    "FetchWorkerStatistics": lambda s: s.ws.workers.statistics().fetch(minutes=60),
    "FetchWorkersRealTimeStatistics": lambda s: s.ws.workers.real_time_statistics().fetch(),
    "FetchWorkersCumulativeStatistics": lambda s: s.ws.workers.cumulative_statistics().fetch(
        minutes=60
    ),
    # Workflow statistics
    "FetchWorkflowStatistics": lambda s: (
        s.ws.workflows(s.workflows["Router"]).statistics().fetch(minutes=60)
    ),
    "FetchWorkflowRealTimeStatistics": lambda s: (
        s.ws.workflows(s.workflows["Router"]).real_time_statistics().fetch()
    ),
    "FetchWorkflowCumulativeStatistics": lambda s: (
        s.ws.workflows(s.workflows["Router"])
        .cumulative_statistics()
        .fetch(minutes=60, split_by_wait_time="5,30")
    ),
}


def check_exchange(exchange: Exchange) -> None:
    """One response against its operation's contract: status, headers, body, self URLs."""
    op = exchange.operation_id
    assert op is not None, f"no spec operation for {exchange.describe()}"
    expected = spec.success_status(op)
    where = exchange.describe()
    assert exchange.status == expected, f"status {exchange.status}, spec says {expected}:\n{where}"
    if expected == 204:
        assert exchange.text == "", f"a 204 must have no body:\n{where}"
        return
    content_type = exchange.headers.get("content-type", "")
    assert content_type.startswith("application/json"), f"Content-Type {content_type!r}: {where}"
    if op in ETAG_OPERATIONS:
        assert exchange.headers.get("etag"), f"{op} response lacks an ETag header:\n{where}"
    try:
        spec.validate(op, exchange.body)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{where}") from None
    body, here = exchange.body, HOST + exchange.path
    key = spec.list_key(op)
    if key is not None:
        meta = body["meta"]
        assert meta["key"] == key, f"meta.key is {meta['key']!r}, the records are under {key!r}"
        assert meta["url"].split("?")[0] == here, f"meta.url {meta['url']!r} is not {here}"
        for item in body[key]:
            if "url" in item and "sid" in item:
                assert item["url"] == f"{here}/{item['sid']}", f"item url {item['url']!r}"
    elif op.startswith("Create") and "sid" in body:
        assert body["url"] == f"{here}/{body['sid']}", f"url {body['url']!r} is not its own"
    elif "url" in body:
        assert body["url"] == here, f"url {body['url']!r} is not the requested {here}"


def test_validator_demands_what_the_spec_leaves_optional() -> None:
    """The oracle itself: {} passes JSON Schema for every operation, so it must fail here."""
    with pytest.raises(AssertionError, match="missing: \\$ lacks account_sid"):
        spec.validate("FetchWorker", {})
    with pytest.raises(AssertionError, match=r"missing: \$\.meta lacks .*next_page_url"):
        spec.validate("ListWorker", {"workers": [], "meta": {"key": "workers"}})
    schema = spec.response_schema("FetchWorker")
    assert schema is not None
    worker = {name: None for name in schema["properties"]}
    spec.validate("FetchWorker", worker)  # nullable: every key may be null
    worker.update(sid="WK" + "0" * 32, date_created="2024-01-02 03:04:05", url="http://x/y")
    with pytest.raises(AssertionError) as raised:
        spec.validate("FetchWorker", {**worker, "sid": "WK123"})
    message = str(raised.value)
    assert "YYYY-MM-DDTHH:MM:SSZ" in message and "does not start with" in message
    assert "sid: $.sid = 'WK123'" in message


def test_paths_map_to_operations() -> None:
    """Literal segments win over placeholders, as in the sandbox's router and on Twilio."""
    ws, wq = "/v1/Workspaces/WS" + "a" * 32, "/TaskQueues/WQ" + "b" * 32
    assert operation_for("GET", ws + "/TaskQueues/Statistics") == "ListTaskQueuesStatistics"
    assert operation_for("GET", ws + "/TaskQueues/Statistics/") == "ListTaskQueuesStatistics"
    assert operation_for("POST", ws + "/TaskQueues/RealTimeStatistics") == (
        "CreateTaskQueueBulkRealTimeStatistics"
    )
    assert operation_for("GET", ws + wq + "/RealTimeStatistics") == (
        "FetchTaskQueueRealTimeStatistics"
    )
    assert operation_for("GET", ws + "/Workers/Statistics") == "FetchWorkerStatistics"
    assert operation_for("GET", ws + "/Workers/WK" + "c" * 32) == "FetchWorker"
    assert operation_for("DELETE", ws) == "DeleteWorkspace"
    assert operation_for("GET", "/v1/Workspaces") == "ListWorkspace"
    assert operation_for("PUT", ws) is None
    assert operation_for("GET", "/_sandbox/health") is None


def test_table_covers_the_spec() -> None:
    """The call table names exactly the spec's operations: none forgotten, none invented."""
    ids = set(spec.operation_ids())
    assert len(ids) == 61
    assert set(OPERATIONS) - ids == set(), "table entries that are not spec operations"
    assert ids - set(OPERATIONS) == set(), "spec operations without a call in the table"


@pytest.mark.parametrize("operation_id", spec.operation_ids())
def test_operation(scenario: Scenario, operation_id: str) -> None:
    """Call the operation through the SDK; every response it got (setup included) conforms."""
    mark = len(scenario.recorded.exchanges)
    failure: TwilioException | None = None
    try:
        OPERATIONS[operation_id](scenario)
    except TwilioException as error:
        failure = error  # reported below, outside the handler, without the SDK's traceback
    if failure is not None:
        made = "\n".join(e.describe() for e in scenario.recorded.since(mark))
        pytest.fail(f"{operation_id} raised {failure}; exchanges:\n{made}", pytrace=False)
    called = [e for e in scenario.recorded.since(mark) if e.operation_id == operation_id]
    assert called, f"the table's call for {operation_id} never sent a {operation_id} request"
    for exchange in [e for e in scenario.recorded.exchanges if e.operation_id == operation_id]:
        check_exchange(exchange)
    VALIDATED.add(operation_id)


def test_every_operation_validated(request: pytest.FixtureRequest) -> None:
    """Across this run, each collected operation test really validated its operation."""
    if hasattr(request.config, "workerinput"):
        pytest.skip("under pytest-xdist each worker sees only its share of the operations")
    collected = {
        item.callspec.params["operation_id"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_operation"
    }
    if collected != set(spec.operation_ids()):
        pytest.skip("only part of the operation tests ran; the full set is checked on full runs")
    missing = sorted(set(spec.operation_ids()) - VALIDATED)
    assert not missing, f"operations not exercised and validated: {', '.join(missing)}"


# -- lists ------------------------------------------------------------------------------------

LISTS: dict[str, Callable[..., list[Any]]] = {
    "ListWorkspace": lambda s, **kw: s.recorded.client.taskrouter.v1.workspaces.list(**kw),
    "ListActivity": lambda s, **kw: s.ws.activities.list(**kw),
    "ListTaskChannel": lambda s, **kw: s.ws.task_channels.list(**kw),
    "ListWorker": lambda s, **kw: s.ws.workers.list(**kw),
    "ListTaskQueue": lambda s, **kw: s.ws.task_queues.list(**kw),
    "ListWorkflow": lambda s, **kw: s.ws.workflows.list(**kw),
    "ListTask": lambda s, **kw: s.ws.tasks.list(**kw),
    "ListWorkerChannel": lambda s, **kw: s.ws.workers(s.workers["Alice"]).worker_channels.list(
        **kw
    ),
    "ListTaskReservation": lambda s, **kw: s.ws.tasks(s.tasks["sales"]).reservations.list(**kw),
    "ListWorkerReservation": lambda s, **kw: s.ws.workers(s.workers["Bob"]).reservations.list(**kw),
    "ListEvent": lambda s, **kw: s.ws.events.list(**kw),
    "ListTaskQueuesStatistics": lambda s, **kw: s.ws.task_queues.statistics.list(**kw),
}


def _record_id(item: dict[str, Any]) -> str:
    return item.get("sid") or item["task_queue_sid"]


def test_lists_cover_every_list_operation() -> None:
    assert set(LISTS) == {op for op in spec.operation_ids() if spec.list_key(op)}


@pytest.mark.parametrize("operation_id", sorted(LISTS))
def test_paging_follows_next_page_url(scenario: Scenario, operation_id: str) -> None:
    """``.list(page_size=1)`` walks next_page_url page by page and yields the same records."""
    key = spec.list_key(operation_id)
    assert key is not None
    listing = LISTS[operation_id]
    mark = len(scenario.recorded.exchanges)
    listing(scenario)
    whole = [e for e in scenario.recorded.since(mark) if e.operation_id == operation_id]
    assert len(whole) == 1, "a default-size list of the scenario fits in one page"
    expected = [_record_id(item) for item in whole[0].body[key]]
    assert len(expected) >= 2, f"the scenario should give {operation_id} at least two records"

    mark = len(scenario.recorded.exchanges)
    paged = listing(scenario, page_size=1)
    pages = [e for e in scenario.recorded.since(mark) if e.operation_id == operation_id]
    assert len(paged) == len(expected)
    assert len(pages) == len(expected), "one request per record with page_size=1"
    seen = []
    for number, page in enumerate(pages):
        check_exchange(page)
        meta = page.body["meta"]
        assert (meta["page"], meta["page_size"]) == (number, 1), meta
        assert (meta["next_page_url"] is None) == (number == len(pages) - 1), meta
        assert (meta["previous_page_url"] is None) == (number == 0), meta
        seen.extend(_record_id(item) for item in page.body[key])
    assert seen == expected, "paging must give the records of the unpaged list, in order"


def test_assignment_status_repeated_and_comma_forms(
    scenario: Scenario, sandbox: SandboxProcess
) -> None:
    """The SDK repeats AssignmentStatus; Twilio's docs use one comma-separated value."""
    waiting = {scenario.tasks["sales"], scenario.tasks["waiting"]}  # reserved, pending
    tasks = scenario.ws.tasks.list(assignment_status=["pending", "reserved"])
    sent = scenario.last("ListTask")
    assert sent.query.get("AssignmentStatus") == ["pending", "reserved"], sent.query
    assert {t.sid for t in tasks} == waiting
    check_exchange(sent)

    response = requests.get(
        f"{sandbox.url}/v1/Workspaces/{scenario.workspace_sid}/Tasks",
        params={"AssignmentStatus": "pending,reserved"},
        auth=(sandbox.account_sid, sandbox.auth_token),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    spec.validate("ListTask", response.json())
    assert {t["sid"] for t in response.json()["tasks"]} == waiting

    single = scenario.ws.tasks.list(assignment_status=["assigned"])
    assert [t.sid for t in single] == [scenario.tasks["support"]]
