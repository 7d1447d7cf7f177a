"""Workflows: create, update (``ReEvaluateTasks`` routes its waiting tasks again), delete.

A configuration arrives parsed (:mod:`..workflow_config`, outside the store lock: a big one
takes a while); here its queues are checked against the workspace and the engine keeps the
parsed form so routing never parses under the lock.
"""

from __future__ import annotations

from typing import Any

from ..api_errors import BadRequest
from ..models import Task, TaskQueue, Workflow, Workspace, touch
from ..store import Transaction
from ..workflow_config import RoutingConfig, check_queues
from . import event_rows, records
from .engine import Engine


def _check_in(tx: Transaction, workspace_sid: str, parsed: RoutingConfig | None) -> None:
    if parsed is None:
        return

    def queue_exists(sid: str) -> bool:
        queue = tx.get(sid, TaskQueue)
        return queue is not None and queue.workspace_sid == workspace_sid

    check_queues(parsed, queue_exists)


def create_workflow(
    engine: Engine, tx: Transaction, ws: Workspace, now: float, settings: dict[str, Any],
    parsed: RoutingConfig | None,
) -> Workflow:  # fmt: skip
    _check_in(tx, ws.sid, parsed)
    flow = records.create(tx, Workflow, ws, now, **settings)
    engine.remember(flow, parsed)
    event_rows.emit(
        tx, now, "workflow.created", flow, f"Workflow {flow.friendly_name} created",
        event_rows.describe(flow),
    )  # fmt: skip
    return flow


def update_workflow(
    engine: Engine, tx: Transaction, flow: Workflow, now: float, settings: dict[str, Any],
    parsed: RoutingConfig | None, re_evaluate: bool,
) -> Workflow:  # fmt: skip
    _check_in(tx, flow.workspace_sid, parsed)
    flow = tx.put(touch(flow, now, **settings))
    engine.remember(flow, parsed)
    event_rows.emit(
        tx, now, "workflow.updated", flow, f"Workflow {flow.friendly_name} updated",
        {**event_rows.describe(flow), "re_evaluate_tasks": re_evaluate},
    )  # fmt: skip
    if re_evaluate:
        engine.workflow_changed(tx, flow, now)
    return flow


def delete_workflow(tx: Transaction, flow: Workflow, now: float) -> None:
    """Refused (400) while it still routes pending or reserved tasks."""
    open_tasks = [
        t
        for t in tx.group(Task, "workspace_sid", flow.workspace_sid).values()
        if t.workflow_sid == flow.sid and t.assignment_status in ("pending", "reserved")
    ]
    if open_tasks:
        raise BadRequest(
            f"Workflow {flow.friendly_name} still routes {len(open_tasks)} "
            "pending task(s); cancel them or wait until they are assigned"
        )
    tx.delete(flow)
    event_rows.emit(
        tx, now, "workflow.deleted", flow, f"Workflow {flow.friendly_name} deleted",
        event_rows.describe(flow),
    )  # fmt: skip
