"""``ensure_quickstart(client)``: the TaskRouter quickstart's workspace, built idempotently.

The same workspace Twilio's quickstart builds by clicking in the Console (Part 1, "Set up
the Workspace": https://www.twilio.com/docs/taskrouter/quickstart/python), made by code so a
learner without an account can start at once and re-running the cell changes nothing that
is already right:

* a **single-tasking** workspace "TaskRouter Quickstart" with activities Offline, Idle, Busy,
  Reserved and WrapUp (Offline is the default and timeout activity);
* workers Alice ``{"languages": ["en", "es"]}`` and Bob ``{"languages": ["en"]}``;
* queues "Customer Care Requests - Spanish" (``languages HAS "es"``) and "- English"
  (``languages HAS "en"``), reserving into Reserved and assigning into Busy;
* the workflow "Incoming Customer Care Requests" routing ``selected_language`` "es"/"en" to them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from twilio.rest import Client

from ._html import escape

WORKSPACE_NAME = "TaskRouter Quickstart"
WORKFLOW_NAME = "Incoming Customer Care Requests"
ACTIVITIES = (("Offline", False), ("Idle", True), ("Busy", False), ("Reserved", False),
              ("WrapUp", False))  # fmt: skip
WORKERS = {
    "Alice": {"languages": ["en", "es"], "contact_uri": "+15555555555"},
    "Bob": {"languages": ["en"]},
}
QUEUES = {"Spanish": "es", "English": "en"}
RESERVATION_TIMEOUT = 1200  # the quickstart accepts reservations by hand: give it time


@dataclass(frozen=True)
class Quickstart:
    """Sids of everything ``ensure_quickstart`` made, by friendly name."""

    workspace_sid: str
    workflow_sid: str
    activities: dict[str, str] = field(default_factory=dict)
    workers: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)

    def queue_name(self, language: str) -> str:
        return f"Customer Care Requests - {language}"


def ensure_quickstart(
    client: Client,
    *,
    name: str = WORKSPACE_NAME,
    assignment_callback_url: str | None = None,
    reservation_timeout: int = RESERVATION_TIMEOUT,
) -> Quickstart:
    """Find or create the quickstart workspace and bring each part to the quickstart's values."""
    v1 = client.taskrouter.v1
    found = v1.workspaces.list(friendly_name=name, limit=1)
    if found:
        ws = found[0]
    else:
        ws = v1.workspaces.create(friendly_name=name, multi_task_enabled=False)
    workspace = v1.workspaces(ws.sid)
    activities = _activities(workspace)
    if ws.default_activity_sid != activities["Offline"] or ws.multi_task_enabled:
        workspace.update(default_activity_sid=activities["Offline"],
                         timeout_activity_sid=activities["Offline"],
                         multi_task_enabled=False)  # fmt: skip
    workers = _workers(workspace, activities)
    queues = _queues(workspace, activities)
    workflow_sid = _workflow(workspace, queues, assignment_callback_url, reservation_timeout)
    return Quickstart(ws.sid, workflow_sid, activities, workers, queues)


def _activities(workspace: Any) -> dict[str, str]:
    existing = {a.friendly_name: a for a in workspace.activities.list()}
    out = {}
    for name, available in ACTIVITIES:
        activity = existing.get(name)
        if activity is None:
            activity = workspace.activities.create(friendly_name=name, available=available)
        out[name] = activity.sid
    return out


def _workers(workspace: Any, activities: dict[str, str]) -> dict[str, str]:
    existing = {w.friendly_name: w for w in workspace.workers.list()}
    out = {}
    for name, attributes in WORKERS.items():
        worker = existing.get(name)
        if worker is None:
            worker = workspace.workers.create(friendly_name=name,
                                              attributes=json.dumps(attributes),
                                              activity_sid=activities["Offline"])  # fmt: skip
        elif json.loads(worker.attributes or "{}") != attributes:
            workspace.workers(worker.sid).update(attributes=json.dumps(attributes))
        out[name] = worker.sid
    return out


def _queues(workspace: Any, activities: dict[str, str]) -> dict[str, str]:
    existing = {q.friendly_name: q for q in workspace.task_queues.list()}
    out = {}
    for language, code in QUEUES.items():
        name = f"Customer Care Requests - {language}"
        wanted = {
            "target_workers": f'languages HAS "{code}"',
            "reservation_activity_sid": activities["Reserved"],
            "assignment_activity_sid": activities["Busy"],
            "max_reserved_workers": 1,  # notebook 03 raises it; a failed cell must not leave it
        }
        queue = existing.get(name)
        if queue is None:
            queue = workspace.task_queues.create(friendly_name=name, **wanted)
        elif any(getattr(queue, key) != value for key, value in wanted.items()):
            workspace.task_queues(queue.sid).update(**wanted)
        out[language] = queue.sid
    return out


def workflow_configuration(queues: dict[str, str]) -> str:
    filters = [
        {"filter_friendly_name": f"{language} speakers",
         "expression": f'selected_language == "{code}"',
         "targets": [{"queue": queues[language]}]}
        for language, code in QUEUES.items()
    ]  # fmt: skip
    return json.dumps({"task_routing": {"filters": filters}})


def _workflow(
    workspace: Any, queues: dict[str, str], callback_url: str | None, timeout: int
) -> str:
    configuration = workflow_configuration(queues)
    found = workspace.workflows.list(friendly_name=WORKFLOW_NAME, limit=1)
    if not found:
        return str(workspace.workflows.create(
            friendly_name=WORKFLOW_NAME, configuration=configuration,
            assignment_callback_url=callback_url, task_reservation_timeout=timeout,
        ).sid)  # fmt: skip
    flow = found[0]
    changes: dict[str, Any] = {}
    if json.loads(flow.configuration) != json.loads(configuration):
        changes["configuration"] = configuration
    if callback_url is not None and flow.assignment_callback_url != callback_url:
        changes["assignment_callback_url"] = callback_url
    if flow.task_reservation_timeout != timeout:
        changes["task_reservation_timeout"] = timeout
    if changes:
        workspace.workflows(flow.sid).update(**changes)
    return str(flow.sid)


def tidy_up(client: Client, qs: Quickstart) -> dict[str, int]:
    """Finish every open task (cancel waiting ones, complete assigned ones) and put Alice and
    Bob back to Offline, so the next step starts from a known state. Safe to re-run."""
    ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
    done = {"canceled": 0, "completed": 0}
    for worker_sid in qs.workers.values():  # first, so no one takes a task while we tidy
        ws.workers(worker_sid).update(activity_sid=qs.activities["Offline"],
                                      reject_pending_reservations=True)  # fmt: skip
    for task in ws.tasks.list(assignment_status=["pending", "reserved"]):
        ws.tasks(task.sid).update(assignment_status="canceled", reason="tidied up")
        done["canceled"] += 1
    for task in ws.tasks.list(assignment_status=["assigned", "wrapping"]):
        ws.tasks(task.sid).update(assignment_status="completed", reason="tidied up")
        done["completed"] += 1
    for worker_sid in qs.workers.values():
        ws.workers(worker_sid).update(activity_sid=qs.activities["Offline"])
    return done


class WorkspaceView:
    """A readable picture of the workspace: activities, workers, queues, workflow."""

    def __init__(self, client: Client, qs: Quickstart) -> None:
        ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
        self.workspace = ws.fetch()
        self.activities = ws.activities.list()
        self.workers = ws.workers.list()
        self.queues = ws.task_queues.list()
        self.workflow = ws.workflows(qs.workflow_sid).fetch()

    def _table(self, head: list[str], rows: list[list[Any]]) -> str:
        cells = "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        heading = "".join(f"<th>{escape(h)}</th>" for h in head)
        return f"<table><tr>{heading}</tr>{cells}</table>"

    def _repr_html_(self) -> str:
        w, flow = self.workspace, self.workflow
        config = json.dumps(json.loads(flow.configuration), indent=2)
        return (
            f"<h4>Workspace {escape(w.friendly_name)} <code>{escape(w.sid)}</code></h4>"
            f"<p>multi-tasking: {escape(w.multi_task_enabled)}; default activity: "
            f"{escape(w.default_activity_name)}; timeout activity: "
            f"{escape(w.timeout_activity_name)}</p>"
            "<h4>Activities</h4>"
            + self._table(["name", "available", "sid"],
                          [[a.friendly_name, a.available, a.sid] for a in self.activities])
            + "<h4>Workers</h4>"
            + self._table(["name", "activity", "attributes"],
                          [[x.friendly_name, x.activity_name, x.attributes] for x in self.workers])
            + "<h4>TaskQueues</h4>"
            + self._table(["name", "target workers", "reservation → assignment activity"],
                          [[q.friendly_name, q.target_workers,
                            f"{q.reservation_activity_name} → {q.assignment_activity_name}"]
                           for q in self.queues])
            + f"<h4>Workflow {escape(flow.friendly_name)}</h4>"
            f"<p>assignment callback: <code>{escape(flow.assignment_callback_url)}</code>, "
            f"reservation timeout {escape(flow.task_reservation_timeout)} s</p>"
            f"<pre>{escape(config)}</pre>"
        )  # fmt: skip

    def __repr__(self) -> str:
        return (f"<WorkspaceView {self.workspace.friendly_name}: {len(self.activities)} "
                f"activities, {len(self.workers)} workers, {len(self.queues)} queues>")  # fmt: skip
