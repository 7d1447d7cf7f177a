"""One module per TaskRouter resource (routes, rendering and validation side by side)."""

from __future__ import annotations

from . import (
    activities,
    events,
    reservations,
    statistics,
    task_channels,
    task_queues,
    tasks,
    workers,
    workflows,
    workspaces,
)

ROUTES = [
    m.routes
    for m in (
        statistics,  # literal segments such as /TaskQueues/Statistics are matched first anyway
        workspaces,
        activities,
        events,
        task_channels,
        task_queues,
        workers,
        workflows,
        tasks,
        reservations,
    )
]
