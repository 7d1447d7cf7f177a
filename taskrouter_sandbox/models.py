"""The sandbox's records: what is stored, not how it is rendered.

Times are epoch seconds on the sandbox clock. ``attributes`` and ``configuration`` are kept
as the JSON text the client sent (Twilio echoes it back unchanged). ``version`` feeds the
``ETag`` header and ``If-Match`` checks. Rendering to Twilio's JSON lives in the resource
modules.
"""

from __future__ import annotations

import dataclasses
import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar


@dataclass(slots=True)
class Record:
    kind: ClassVar[str] = ""
    prefix: ClassVar[str] = ""
    sid: str
    account_sid: str
    date_created: float
    date_updated: float

    def to_row(self) -> dict[str, Any]:
        shape = _shape(type(self))
        return dict(zip(shape.names, shape.values(self), strict=False))  # same length

    @property
    def workspace(self) -> str:
        return getattr(self, "workspace_sid", self.sid)


@dataclass(slots=True)
class Workspace(Record):
    kind: ClassVar[str] = "workspace"
    prefix: ClassVar[str] = "WS"  # of its sid
    friendly_name: str = ""
    event_callback_url: str | None = None
    events_filter: str | None = None
    multi_task_enabled: bool = True
    prioritize_queue_order: str = "FIFO"
    default_activity_sid: str | None = None
    timeout_activity_sid: str | None = None


@dataclass(slots=True)
class Activity(Record):
    kind: ClassVar[str] = "activity"
    prefix: ClassVar[str] = "WA"  # of its sid
    workspace_sid: str = ""
    friendly_name: str = ""
    available: bool = False


@dataclass(slots=True)
class TaskChannel(Record):
    kind: ClassVar[str] = "task_channel"
    prefix: ClassVar[str] = "TC"  # of its sid
    workspace_sid: str = ""
    friendly_name: str = ""
    unique_name: str = ""
    channel_optimized_routing: bool | None = None


@dataclass(slots=True)
class Worker(Record):
    kind: ClassVar[str] = "worker"
    prefix: ClassVar[str] = "WK"  # of its sid
    workspace_sid: str = ""
    friendly_name: str = ""
    attributes: str = "{}"
    activity_sid: str = ""
    date_status_changed: float = 0.0
    version: int = 0


@dataclass(slots=True)
class WorkerChannel(Record):
    kind: ClassVar[str] = "worker_channel"
    prefix: ClassVar[str] = "WC"  # of its sid
    workspace_sid: str = ""
    worker_sid: str = ""
    task_channel_sid: str = ""
    configured_capacity: int = 1
    available: bool = True


@dataclass(slots=True)
class TaskQueue(Record):
    kind: ClassVar[str] = "task_queue"
    prefix: ClassVar[str] = "WQ"  # of its sid
    workspace_sid: str = ""
    friendly_name: str = ""
    target_workers: str | None = "1==1"
    max_reserved_workers: int = 1
    task_order: str = "FIFO"
    reservation_activity_sid: str | None = None
    assignment_activity_sid: str | None = None


@dataclass(slots=True)
class Workflow(Record):
    kind: ClassVar[str] = "workflow"
    prefix: ClassVar[str] = "WW"  # of its sid
    workspace_sid: str = ""
    friendly_name: str = ""
    configuration: str = ""
    assignment_callback_url: str | None = None
    fallback_assignment_callback_url: str | None = None
    task_reservation_timeout: int = 120


@dataclass(slots=True)
class Task(Record):
    kind: ClassVar[str] = "task"
    prefix: ClassVar[str] = "WT"  # of its sid
    workspace_sid: str = ""
    attributes: str = "{}"
    assignment_status: str = "pending"
    priority: int = 0
    reason: str | None = None
    timeout: int = 86400
    workflow_sid: str | None = None
    task_queue_sid: str | None = None
    task_channel_sid: str | None = None
    task_queue_entered_date: float | None = None
    virtual_start_time: float = 0.0
    routing_target: str | None = None
    ignore_capacity: bool | None = None
    addons: str = "{}"
    version: int = 0
    # Where the task is in its workflow: filter index (-1: default filter) and target index.
    filter_index: int | None = None
    target_index: int = 0
    step_deadline: float | None = None  # when the current target's timeout moves it on
    offers: int = 0  # pending -> reserved transitions, capped by the max assignment count


@dataclass(slots=True)
class Reservation(Record):
    kind: ClassVar[str] = "reservation"
    prefix: ClassVar[str] = "WR"  # of its sid
    workspace_sid: str = ""
    task_sid: str = ""
    worker_sid: str = ""
    reservation_status: str = "pending"
    version: int = 0
    task_queue_sid: str | None = None
    workflow_sid: str | None = None
    timeout_at: float | None = None  # the reservation timer (workflow task_reservation_timeout)
    previous_activity_sid: str | None = None  # where reject sends the worker back to


@dataclass(slots=True)
class Call(Record):
    """A simulated voice call: a worker's leg made by a dequeue/call/conference/redirect
    instruction, or a caller's inbound call to a phone number (``taskrouter_sandbox.voice``)."""

    kind: ClassVar[str] = "call"
    prefix: ClassVar[str] = "CA"  # of its sid
    workspace_sid: str = ""
    task_sid: str = ""
    reservation_sid: str = ""
    worker_sid: str = ""
    instruction: str = ""
    to: str | None = None
    from_: str | None = None
    url: str | None = None
    status: str = "in-progress"
    post_work_activity_sid: str | None = None
    # The voice side (taskrouter_sandbox/voice): Twilio's Call resource fields and the state
    # of the TwiML being executed. Times are epoch seconds on the sandbox clock.
    direction: str = "outbound-api"
    phone_number_sid: str | None = None
    start_time: float | None = None  # answered
    end_time: float | None = None
    answer_at: float | None = None  # when the callee picks up; None: it never does
    ring_until: float | None = None  # no answer by then: no-answer
    bridged_call_sid: str | None = None
    queued_task_sid: str | None = None  # the caller's task from <Enqueue> (kept after purge)
    log: str = "[]"  # JSON list of {"at", "kind", "text"}: what happened and what was heard
    state: str = "{}"  # JSON: where the TwiML waits (gather / enqueue) and what follows


@dataclass(slots=True)
class PhoneNumber(Record):
    """An account's phone number (IncomingPhoneNumbers): where inbound calls find their TwiML."""

    kind: ClassVar[str] = "phone_number"
    phone_number: str = ""
    friendly_name: str = ""
    voice_url: str | None = None
    voice_method: str = "POST"
    voice_fallback_url: str | None = None
    voice_fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"


KINDS: dict[str, type[Record]] = {
    cls.kind: cls
    for cls in (
        Workspace,
        Activity,
        TaskChannel,
        Worker,
        WorkerChannel,
        TaskQueue,
        Workflow,
        Task,
        Reservation,
        Call,
        PhoneNumber,
    )
}


R = TypeVar("R", bound=Record)


def json_object(text: str | None) -> dict[str, Any]:
    """Stored ``attributes`` as a dict; anything that is not a JSON object reads as ``{}``."""
    try:
        value = json.loads(text or "{}")
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


_PARSED: dict[str | None, dict[str, Any]] = {}
PARSED_KEPT = 4096  # attribute texts kept parsed (routing reads the same ones repeatedly)


def read_attributes(text: str | None) -> dict[str, Any]:
    """:func:`json_object`, shared and READ-ONLY: routing evaluates the same worker's and
    task's attributes many times per change (every queue of a worker, the placement and then
    the route of a task), so each text is parsed once. Never mutate the dict handed out (copy
    it with :func:`json_object` to change it)."""
    value = _PARSED.get(text)
    if value is None:
        if len(_PARSED) >= PARSED_KEPT:
            _PARSED.clear()
        value = _PARSED[text] = json_object(text)
    return value


class _Shape:
    """A record class's field names, their positions, and one C call reading all values:
    ``touch`` and ``to_row`` run for every record of every write (``dataclasses.replace``
    walked the fields in Python)."""

    def __init__(self, cls: type[Record]) -> None:
        self.names = tuple(f.name for f in dataclasses.fields(cls))
        self.position = {name: i for i, name in enumerate(self.names)}
        self.values: Callable[[Record], tuple[Any, ...]] = operator.attrgetter(*self.names)


_SHAPES: dict[type[Record], _Shape] = {}


def _shape(cls: type[Record]) -> _Shape:
    shape = _SHAPES.get(cls)
    if shape is None:
        shape = _SHAPES[cls] = _Shape(cls)
    return shape


def touch(record: R, now: float, **changes: Any) -> R:
    """A changed copy (records are never edited in place: readers may hold the old one);
    what ``dataclasses.replace(record, date_updated=now, **changes)`` makes, with ``version``
    one up for a record that has one."""
    cls = type(record)
    shape = _shape(cls)
    values = list(shape.values(record))
    position = shape.position
    if "version" in position and "version" not in changes:
        values[position["version"]] += 1
    values[position["date_updated"]] = now
    for name, value in changes.items():
        index = position.get(name)
        if index is None:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
        values[index] = value
    return cls(*values)


def from_row(kind: str, row: dict[str, Any]) -> Record:
    return KINDS[kind](**row)
