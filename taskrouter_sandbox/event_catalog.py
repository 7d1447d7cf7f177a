"""Which parameters each TaskRouter event carries, and where that is shown for real Twilio.

One declaration serves three readers: ``docs/taskrouter-events.md`` is generated from it
(``python -m taskrouter_sandbox.event_catalog > docs/taskrouter-events.md``), and the tests check
that the doc is current and that every event callback the sandbox sends carries exactly the
parameters declared here (``tests/sandbox/test_event_params.py``). The Events resource's
``event_data`` holds the same fields in snake_case.

Sources:

* ``[ref]`` Twilio's Events reference, field data per event type:
  https://www.twilio.com/docs/taskrouter/api/event/reference
* ``[fpt]`` example events recorded from a real Flex workspace in
  twilio-professional-services/flex-project-template,
  ``serverless-functions/src/functions/features/tr-events/handlers/*.private.js``
  (``worker.created``, ``worker.attributes.update``, ``task-queue.created``,
  ``task-queue.expression.updated``: ``Sid``, ``TimestampMs``, ``Worker*``, ``TaskQueue*``).
* ``[rec]`` payloads recorded from real TaskRouter, as compared in issue 13 and typed in public
  app code: task events carry ``TaskQueueSid``, ``TaskQueueName``, ``TaskQueueTargetExpression``,
  ``TaskQueueEnteredDate``, ``TaskVersion``, ``TaskDateCreated``, ``TaskChannel*``,
  ``WorkflowName``; events of a task a worker holds carry the ``Worker*`` fields.
* ``[sandbox]`` the sandbox's own addition, not shown for Twilio.

Not emitted: ``OperatingUnitSid`` (a Flex account detail), the ``task.transfer-*`` events
(Flex transfers), ``reservation.failed``, ``workflow.*`` for Flex, ``workspace.deleted`` (the
workspace and its callback URL are gone with it).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

BASE = ("AccountSid", "EventDescription", "EventType", "ResourceSid", "ResourceType", "Sid",
        "Timestamp", "TimestampMs", "WorkspaceName", "WorkspaceSid")  # fmt: skip
GROUPS: dict[str, tuple[str, ...]] = {
    "Task": (
        "TaskSid",
        "TaskAttributes",
        "TaskAge",
        "TaskPriority",
        "TaskAssignmentStatus",
        "TaskVersion",
        "TaskDateCreated",
        "TaskChannelSid",
        "TaskChannelUniqueName",
        "WorkflowSid",
        "WorkflowName",
    ),
    "TaskQueue of the task": (
        "TaskQueueSid",
        "TaskQueueName",
        "TaskQueueTargetExpression",
        "TaskQueueEnteredDate",
    ),
    "Worker": (
        "WorkerSid",
        "WorkerName",
        "WorkerAttributes",
        "WorkerActivitySid",
        "WorkerActivityName",
        "WorkerVersion",
    ),
    "Activity change": (
        "WorkerPreviousActivitySid",
        "WorkerPreviousActivityName",
        "WorkerTimeInPreviousActivity",
        "WorkerTimeInPreviousActivityMs",
    ),
    "WorkerChannel": (
        "TaskChannelSid",
        "TaskChannelUniqueName",
        "WorkerChannelAvailable",
        "WorkerChannelAvailableCapacity",
        "WorkerChannelPreviousCapacity",
        "WorkerChannelTaskCount",
    ),
    "Activity": ("ActivitySid", "ActivityName", "ActivityAvailable"),
    "TaskQueue": ("TaskQueueSid", "TaskQueueName", "TaskQueueTargetExpression"),
    "Workflow": ("WorkflowSid", "WorkflowName"),
    "TaskChannel": ("TaskChannelSid", "TaskChannelName", "TaskChannelUniqueName"),
}
# Conditional groups of task events: present while the task is in a queue / held by a worker.
QUEUED, HELD = "TaskQueue of the task", "Worker"


@dataclass(frozen=True)
class EventSpec:
    groups: tuple[str, ...] = ()  # always carried
    extra: tuple[str, ...] = ()  # single parameters always carried
    when_queued: bool = False  # TaskQueue fields while the task is in a queue
    when_held: bool = False  # Worker fields while a worker holds the task
    optional: tuple[str, ...] = ()  # carried when they have a value
    source: str = "[ref]"

    def always(self) -> frozenset[str]:
        names = [*BASE, *self.extra]
        for group in self.groups:
            names.extend(GROUPS[group])
        return frozenset(names)

    def allowed(self) -> frozenset[str]:
        names = set(self.always()) | set(self.optional)
        if self.when_queued:
            names.update(GROUPS[QUEUED])
        if self.when_held:
            names.update(GROUPS[HELD])
        return frozenset(names)


def _task(*extra: str, optional: tuple[str, ...] = (), source: str = "[ref] [rec]") -> EventSpec:
    return EventSpec(("Task",), extra, True, True, optional, source)


def _reservation(source: str = "[ref] [rec]") -> EventSpec:
    # The reservation's task (with its queue) and the reserved worker.
    return EventSpec(("Task", "Worker"), ("ReservationSid",), True, False, (), source)


_ACTIVITY = EventSpec(("Activity",))
_QUEUE = EventSpec(("TaskQueue",), source="[ref] [fpt]")
_FLOW = EventSpec(("Workflow",))
_CHANNEL = EventSpec(("TaskChannel",), optional=("TaskChannelOptimizedRouting",))
_WORKER = EventSpec(("Worker",), source="[ref] [fpt]")

CATALOG: dict[str, EventSpec] = {
    "activity.created": _ACTIVITY,
    "activity.updated": _ACTIVITY,
    "activity.deleted": _ACTIVITY,
    "reservation.created": _reservation(),
    "reservation.accepted": _reservation(),
    "reservation.rejected": _reservation(),
    "reservation.timeout": _reservation(),
    "reservation.canceled": _reservation(),
    "reservation.rescinded": _reservation(),
    "reservation.completed": _reservation(),
    "reservation.wrapup": _reservation(),
    "task.created": _task(),
    "task.updated": _task(),
    "task.canceled": _task("TaskCanceledReason"),
    "task.wrapup": _task(),
    "task.completed": _task(optional=("TaskCompletedReason",)),
    "task.deleted": _task(),
    "task-channel.created": _CHANNEL,
    "task-channel.updated": _CHANNEL,
    "task-channel.deleted": _CHANNEL,
    "task-queue.created": _QUEUE,
    "task-queue.deleted": _QUEUE,
    "task-queue.expression.updated": _QUEUE,
    "task-queue.entered": _task(),
    "task-queue.timeout": _task(),
    "task-queue.moved": _task(),
    "worker.created": _WORKER,
    "worker.deleted": _WORKER,
    "worker.attributes.update": _WORKER,
    "worker.activity.update": EventSpec(("Worker", "Activity change"), source="[ref] [rec]"),
    "worker.capacity.update": EventSpec(("Worker", "WorkerChannel")),
    "worker.channel.availability.update": EventSpec(("Worker", "WorkerChannel")),
    "workflow.created": _FLOW,
    "workflow.updated": EventSpec(("Workflow",), ("ReEvaluateTasks",), source="[ref] [sandbox]"),
    "workflow.deleted": _FLOW,
    "workflow.entered": _task(),
    "workflow.target-matched": _task(
        "WorkflowFilterName", "WorkflowFilterTarget", source="[ref] [sandbox]"
    ),
    "workflow.timeout": _task(),
    "workflow.skipped": _task(),
    "workspace.created": EventSpec(),
    "workspace.updated": EventSpec(),
}


def markdown() -> str:
    """``docs/taskrouter-events.md``: generated, never edited by hand."""
    lines = [
        "# TaskRouter events: the parameters each one carries",
        "",
        "Generated from `taskrouter_sandbox/event_catalog.py` by",
        "`python -m taskrouter_sandbox.event_catalog > docs/taskrouter-events.md`;",
        "`tests/sandbox/test_event_params.py` fails when this file is stale or when an event",
        "callback of the sandbox carries other parameters than the table says.",
        "",
        "Every event callback is a signed form POST with the base parameters "
        + ", ".join(f"`{name}`" for name in BASE)
        + ". The Events resource (`GET /v1/Workspaces/{WS}/Events`) holds the same fields in"
        " its `event_data`, in snake_case (`TaskQueueSid` -> `task_queue_sid`).",
        "",
        "## Parameter groups",
        "",
        "| group | parameters |",
        "| --- | --- |",
    ]
    for group, names in GROUPS.items():
        lines.append(f"| {group} | {', '.join(names)} |")
    lines += [
        "",
        "## Event types",
        "",
        "| event type | carries (besides the base) | source |",
        "| --- | --- | --- |",
    ]
    for event_type, spec in CATALOG.items():
        parts = [*spec.groups, *spec.extra]
        if spec.when_queued:
            parts.append(f"{QUEUED} (while it is in a queue)")
        if spec.when_held:
            parts.append(f"{HELD} (while a worker holds the task)")
        parts += [f"{name} (when set)" for name in spec.optional]
        lines.append(f"| `{event_type}` | {'; '.join(parts) or '-'} | {spec.source} |")
    lines += [
        "",
        "## Sources",
        "",
        "- [ref] Twilio's Events reference, field data per event type:",
        "  https://www.twilio.com/docs/taskrouter/api/event/reference",
        "- [fpt] example events recorded from a real Flex workspace, in",
        "  twilio-professional-services/flex-project-template,",
        "  `serverless-functions/src/functions/features/tr-events/handlers/*.private.js`",
        "- [rec] payloads recorded from real TaskRouter (compared in issue 13): task events carry",
        "  the task's queue (`TaskQueueSid`, `TaskQueueName`, `TaskQueueTargetExpression`,",
        "  `TaskQueueEnteredDate`), `TaskVersion`, `TaskDateCreated`, `TaskChannel*` and",
        "  `WorkflowName`; events of a task a worker holds carry the `Worker*` fields",
        "- [sandbox] the sandbox's own addition, not shown for Twilio",
        "",
        "Not emitted by the sandbox: `OperatingUnitSid`, the Flex-only `task.transfer-*` events,",
        "`reservation.failed`, `workspace.deleted`.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown())
