"""Workflow ``Configuration`` documents: validated once, then used by the router.

Shape (https://www.twilio.com/docs/taskrouter/workflow-configuration)::

    {"task_routing": {"filters": [{"filter_friendly_name": "...", "expression": "...",
                                   "targets": [{"queue": "WQ...", "priority": 1, "timeout": 30,
                                                "expression": "task.x == worker.y",
                                                "order_by": "worker.level DESC",
                                                "skip_if": "workers.available == 0",
                                                "known_worker_sid": "task.agent"}]}],
                      "default_filter": {"queue": "WQ..."}}}

Every mistake is a 400 that names the filter/target and what to change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .api_errors import BadRequest
from .expressions import Expression, ExpressionError, parse
from .params import MAX_PRIORITY, MAX_TASK_TIMEOUT, bounded_int

# Twilio's cap on a workflow Configuration, whitespace included (the OpenAPI description and
# twilio.com/docs/taskrouter/limits, "Resource Configuration Limits"). It bounds the parse
# (about a second at the cap), which runs outside the state lock.
MAX_CONFIGURATION = 1_038_576
TARGET_KEYS = {
    "queue",
    "expression",
    "priority",
    "timeout",
    "order_by",
    "skip_if",
    "known_worker_sid",
    "known_worker_friendly_name",
}


@dataclass(frozen=True)
class Target:
    queue: str
    expression: Expression | None = None
    priority: int | None = None
    timeout: int | None = None
    order_by: tuple[tuple[str, bool], ...] = ()  # (dotted worker path, descending)
    skip_if: Expression | None = None
    known_worker_sid: str | None = None
    known_worker_friendly_name: str | None = None


@dataclass(frozen=True)
class Filter:
    name: str
    expression: Expression
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class RoutingConfig:
    filters: tuple[Filter, ...] = ()
    default: Target | None = None
    queues: frozenset[str] = field(default_factory=frozenset)


def parse_configuration(text: str, queue_exists: Callable[[str], bool]) -> RoutingConfig:
    if len(text.encode()) > MAX_CONFIGURATION:
        raise BadRequest(f"Configuration is over {MAX_CONFIGURATION} bytes")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise BadRequest(f"Configuration is not valid JSON: {error}") from None
    routing = doc.get("task_routing") if isinstance(doc, dict) else None
    if not isinstance(routing, dict):
        raise BadRequest(
            'Configuration must be a JSON object with a "task_routing" object, e.g. '
            '{"task_routing": {"filters": [], "default_filter": {"queue": "WQ..."}}}'
        )
    raw_filters = routing.get("filters", [])
    if not isinstance(raw_filters, list):
        raise BadRequest('"task_routing.filters" must be a list')
    filters = tuple(_filter(i, f, queue_exists) for i, f in enumerate(raw_filters))
    default = None
    if routing.get("default_filter") is not None:
        default = _target("default_filter", routing["default_filter"], None, queue_exists)
    queues = {t.queue for f in filters for t in f.targets} | ({default.queue} if default else set())
    return RoutingConfig(filters, default, frozenset(queues))


def check_queues(config: RoutingConfig, queue_exists: Callable[[str], bool]) -> None:
    """Every target names a queue of the workspace: the part of validation that needs the
    store, so the (slow, up to ~1 MB) parse runs before the lock and only this under it."""
    known = {queue: queue_exists(queue) for queue in config.queues}
    places = [
        (f"filters[{i}].targets[{j}]", target.queue)
        for i, routing_filter in enumerate(config.filters)
        for j, target in enumerate(routing_filter.targets)
    ]
    if config.default is not None:
        places.append(("default_filter", config.default.queue))
    for where, queue in places:
        if not known[queue]:
            raise BadRequest(f"{where} names TaskQueue {queue!r}, which is not in this workspace")


def _filter(index: int, raw: object, queue_exists: Callable[[str], bool]) -> Filter:
    where = f"filters[{index}]"
    if not isinstance(raw, dict):
        raise BadRequest(f"{where} must be an object with expression and targets")
    name = raw.get("filter_friendly_name", raw.get("friendly_name", f"filter {index + 1}"))
    text = raw.get("expression")
    if not isinstance(text, str):
        raise BadRequest(f'{where} ("{name}") needs an "expression" string, e.g. "1==1"')
    expression = _expression(f"{where}.expression", text)
    targets = raw.get("targets")
    if not isinstance(targets, list) or not targets:
        raise BadRequest(f'{where} ("{name}") needs a non-empty "targets" list')
    parsed: list[Target] = []
    for j, target in enumerate(targets):
        inherited = parsed[-1].queue if parsed else None
        parsed.append(_target(f"{where}.targets[{j}]", target, inherited, queue_exists))
    return Filter(str(name), expression, tuple(parsed))


def _target(
    where: str, raw: object, inherited: str | None, queue_exists: Callable[[str], bool]
) -> Target:
    if not isinstance(raw, dict):
        raise BadRequest(f"{where} must be an object with at least a queue")
    unknown = set(raw) - TARGET_KEYS
    if unknown:
        raise BadRequest(
            f"{where} has unknown keys {sorted(unknown)}; allowed: {sorted(TARGET_KEYS)}"
        )
    queue = raw.get("queue", inherited)
    if not isinstance(queue, str) or not queue:
        raise BadRequest(f'{where} needs a "queue" (only later targets inherit it)')
    if not queue_exists(queue):
        raise BadRequest(f"{where} names TaskQueue {queue!r}, which is not in this workspace")
    expression = raw.get("expression")
    skip_if = raw.get("skip_if")
    return Target(
        queue=queue,
        expression=(
            _expression(f"{where}.expression", expression, ("task", "worker"))
            if expression is not None
            else None
        ),
        priority=_integer(where, "priority", raw.get("priority"), 0, MAX_PRIORITY),
        timeout=_integer(where, "timeout", raw.get("timeout"), 1, MAX_TASK_TIMEOUT),
        order_by=_order_by(where, raw.get("order_by")),
        skip_if=_expression(f"{where}.skip_if", skip_if) if skip_if is not None else None,
        known_worker_sid=_optional_str(where, "known_worker_sid", raw),
        known_worker_friendly_name=_optional_str(where, "known_worker_friendly_name", raw),
    )


def _expression(where: str, text: object, prefixes: tuple[str, ...] | None = None) -> Expression:
    if not isinstance(text, str):
        raise BadRequest(f"{where} must be a string")
    try:
        return parse(text, prefixes=prefixes)
    except ExpressionError as error:
        raise BadRequest(f"{where} is invalid: {error}") from None


def _integer(where: str, key: str, value: object, low: int, high: int) -> int | None:
    """A target's priority or timeout; the docs' examples quote numbers, so "30" counts.
    Bounded: a timeout of 10**400 seconds would overflow the timer when the task arrives."""
    if value is None:
        return None
    return bounded_int(value, f"{where}.{key}", low=low, high=high)


def _order_by(where: str, value: object) -> tuple[tuple[str, bool], ...]:
    if value is None:
        return ()
    if not isinstance(value, str):
        raise BadRequest(f"{where}.order_by must be a string like 'worker.level DESC'")
    out = []
    for part in value.split(","):
        words = part.split()
        if not words or len(words) > 2 or not words[0].startswith("worker."):
            raise BadRequest(
                f"{where}.order_by {part.strip()!r} must read 'worker.<attribute> [ASC|DESC]'"
            )
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if direction not in ("ASC", "DESC"):
            raise BadRequest(f"{where}.order_by direction must be ASC or DESC, got {words[1]!r}")
        out.append((words[0].removeprefix("worker."), direction == "DESC"))
    return tuple(out)


def _optional_str(where: str, key: str, raw: dict[str, Any]) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{where}.{key} must be a string expression such as task.agent_id")
    return value
