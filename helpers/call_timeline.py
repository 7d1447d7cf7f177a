"""A phone call's legs beside the task and the worker: the picture at the end of notebook 05.

The top panel is :func:`helpers.timeline.plot_timeline` (task and worker, from TaskRouter's
Events resource); the bottom panel draws the caller's call and the worker's leg from the Calls
resource (``date_created``, ``start_time``, ``end_time``, ``status``) — the task's ``call_sid``
and ``worker_call_sid`` attributes name them. Only REST resources are read, so the picture is
the same against the sandbox and against Twilio.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Patch
from twilio.rest import Client

from .timeline import LANE, as_text, plot_timeline, timeline_segments

CALL_COLOURS = {"ringing": "#f0b429", "menu / queue": "#5b9bd5", "talking": "#2da44e",
                "no-answer": "#bbbbbb", "busy": "#bbbbbb", "canceled": "#bbbbbb"}  # fmt: skip


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def call_lanes(client: Client, task: Any, now: float) -> dict[str, list[tuple[float, float, str]]]:
    """``{lane: [(start, end, label)]}`` in epoch seconds for the task's call and worker leg."""
    attributes = json.loads(task.attributes or "{}")
    lanes: dict[str, list[tuple[float, float, str]]] = {}
    caller_sid, leg_sid = attributes.get("call_sid"), attributes.get("worker_call_sid")
    leg = client.calls(leg_sid).fetch() if leg_sid else None
    bridged = _epoch(leg.start_time) if leg is not None else None
    if caller_sid:
        call = client.calls(caller_sid).fetch()
        created, start = _epoch(call.date_created) or now, _epoch(call.start_time)
        end = _epoch(call.end_time) or now
        parts = [(created, start or end, "ringing")]
        if start is not None:
            parts.append((start, bridged or end, "menu / queue"))
        if bridged is not None:
            parts.append((bridged, end, "talking"))
        lanes[f"caller {call.from_formatted or call._from}"] = parts
    if leg is not None:
        created, end = _epoch(leg.date_created) or now, _epoch(leg.end_time) or now
        parts = [(created, bridged or end, "ringing")]
        if bridged is not None:
            parts.append((bridged, end, "talking"))
        elif leg.status in ("no-answer", "busy", "canceled"):
            parts.append((end, end, str(leg.status)))
        lanes[f"worker's phone {leg.to_formatted or leg.to}"] = parts
    return lanes


def plot_call_timeline(client: Client, qs: Any, task_sid: str, worker: str = "Alice") -> Figure:
    """The task and the worker (top), the call's legs (bottom), on one time axis."""
    figure = Figure(figsize=(10, 5), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    plot_timeline(client, qs, task_sid, worker, ax=top)
    timeline = timeline_segments(client, qs, task_sid, worker)
    task = client.taskrouter.v1.workspaces(qs.workspace_sid).tasks(task_sid).fetch()
    lanes = list(call_lanes(client, task, timeline.origin + timeline.end).items())
    span = max(
        [timeline.end, *(end - timeline.origin for _, p in lanes for _, end, _ in p)], default=1
    )
    for row, (_, parts) in enumerate(lanes):
        y = (len(lanes) - 1 - row) * LANE
        bottom.broken_barh(
            [(start - timeline.origin, max(end - start, span * 0.004)) for start, end, _ in parts],
            (y + 3, 7), facecolors=[CALL_COLOURS.get(label, "#dddddd") for *_, label in parts],
            edgecolor="white",
        )  # fmt: skip
    bottom.set_yticks([(len(lanes) - 1 - i) * LANE + 6.5 for i in range(len(lanes))],
                      labels=[as_text(name) for name, _ in lanes])  # fmt: skip
    bottom.set_ylim(0, max(len(lanes), 1) * LANE + 4)
    top.set_xlim(0, span or 1.0)
    seen = {label: None for _, parts in lanes for *_, label in parts}
    bottom.legend(handles=[Patch(color=CALL_COLOURS.get(n, "#dddddd"), label=as_text(n))
                           for n in seen], loc="upper center", bbox_to_anchor=(0.5, -0.35),
                  ncol=max(len(seen), 1), fontsize=8, frameon=False)  # fmt: skip
    bottom.set_title("the call (Calls resource)", fontsize=10)
    bottom.set_xlabel(top.get_xlabel())
    top.set_xlabel("")
    bottom.grid(axis="x", alpha=0.3)
    return figure
