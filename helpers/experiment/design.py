"""A routing design under test: TaskQueues (by name) and a Workflow configuration naming them.

The configuration is TaskRouter's own JSON, except that ``"queue"`` holds a queue's *name*;
the driver creates the queues and puts their SIDs in before it creates the Workflow, so the
same design can be pasted into a live workspace (see :meth:`Design.configuration_for`).
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import KitError


@dataclass(frozen=True)
class Design:
    name: str
    queues: Mapping[str, str]  # queue name -> TargetWorkers expression
    workflow: Mapping[str, Any]  # {"task_routing": {...}} with queue names for "queue"
    notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for queue in self.queue_refs():
            if queue not in self.queues:
                raise KitError(f"Design {self.name!r}: the workflow names queue {queue!r}, "
                               f"which is not one of {sorted(self.queues)}",
                               "add it to queues= or fix the name in the workflow")  # fmt: skip

    def queue_refs(self) -> list[str]:
        routing = self.workflow.get("task_routing", {})
        refs = [t["queue"] for f in routing.get("filters", []) for t in f.get("targets", [])]
        default = routing.get("default_filter", {}).get("queue")
        return refs + ([default] if default else [])

    def configuration_for(self, sids: Mapping[str, str]) -> dict[str, Any]:
        """The Workflow configuration with queue names replaced by the given SIDs."""
        config = copy.deepcopy(dict(self.workflow))
        routing = config.get("task_routing", {})
        for filter_ in routing.get("filters", []):
            for target in filter_.get("targets", []):
                target["queue"] = sids[target["queue"]]
        if "default_filter" in routing:
            routing["default_filter"]["queue"] = sids[routing["default_filter"]["queue"]]
        return config

    def step_timeouts(self) -> list[float]:
        """Every time after a task's creation at which a routing step of this design may end
        (cumulative target timeouts per filter): the driver looks for new reservations then."""
        ends: set[float] = set()
        for filter_ in self.workflow.get("task_routing", {}).get("filters", []):
            elapsed = 0.0
            for target in filter_.get("targets", []):
                if "timeout" in target:
                    elapsed += float(target["timeout"])
                    ends.add(elapsed)
        return sorted(ends)

    def text(self) -> str:
        return json.dumps({"queues": dict(self.queues), **self.workflow}, indent=2, sort_keys=True)


def diff(before: Design, after: Design) -> str:
    """A unified diff of two designs' queues and workflow configuration."""
    lines = difflib.unified_diff(before.text().splitlines(), after.text().splitlines(),
                                 before.name, after.name, lineterm="")  # fmt: skip
    return "\n".join(lines)


def language_routing(overflow_after: int | None = None, key: str = "selected_language") -> Design:
    """Spanish and English queues by the workers' ``languages``; with ``overflow_after``, a
    caller still waiting after that many seconds is offered to anyone who speaks English too
    (the quickstart's workflow, plus one step)."""
    es_targets: list[dict[str, Any]] = [{"queue": "Spanish"}]
    if overflow_after is not None:
        es_targets = [{"queue": "Spanish", "timeout": overflow_after}, {"queue": "Everyone"}]
    workflow = {
        "task_routing": {
            "filters": [
                {"filter_friendly_name": "Spanish", "expression": f'{key}=="es"',
                 "targets": es_targets},
                {"filter_friendly_name": "English", "expression": f'{key}=="en"',
                 "targets": [{"queue": "English"}]},
            ],
            "default_filter": {"queue": "English"},
        }
    }  # fmt: skip
    queues = {"Spanish": "languages HAS 'es'", "English": "languages HAS 'en'"}
    if overflow_after is not None:
        queues["Everyone"] = "1==1"
    name = "strict" if overflow_after is None else f"overflow after {overflow_after} s"
    return Design(name, queues, workflow)


def single_queue(name: str = "single FIFO queue") -> Design:
    """Every task to one queue that every worker is in: the M/M/c system of queueing theory."""
    routing = {"filters": [], "default_filter": {"queue": "Everyone"}}
    return Design(name, {"Everyone": "1==1"}, {"task_routing": routing})
