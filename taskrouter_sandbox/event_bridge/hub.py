"""Who is connected, and what each worker's WebSocket is told, in commit order.

The one hook into the core: :meth:`Hub.committed` is a store listener
(``Store.subscribe``), called under the store lock right after each commit with the
transaction's records and event rows. It turns every TaskRouter event that concerns a
connected worker into an event-bridge message and queues it on that worker's connections;
each connection's own thread sends its queue in order. Because commits are serialised by the
store lock, a worker receives events in the order they happened.

Which worker an event concerns (``TaskRouterEventHandler.getTREventsToHandlerMapping`` in
twilio-taskrouter 2.1.1 lists what the SDK handles): ``worker.*`` go to that worker;
``reservation.*`` to the reservation's worker; ``task.*`` to every worker holding a
reservation on the task.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..models import Record, Reservation, Task, Worker, WorkerChannel
from . import payloads
from .tokens import WorkerGrant

if TYPE_CHECKING:
    from ..app import Sandbox

HEARTBEAT_SECONDS = 15.0  # "A heart beat is sent every 15 secs by EBS" (EventBridgeSignaling)
WORKER_EVENTS = ("worker.activity.update", "worker.attributes.update")
CHANNEL_EVENTS = ("worker.capacity.update", "worker.channel.availability.update")
LET_GO = ("rejected", "timeout", "rescinded")  # their workers no longer hold the task
TASK_EVENTS = ("task.updated", "task.canceled", "task.completed", "task.wrapup")


class Connection:
    """One open WebSocket of a worker: a queue of messages and a way to end it."""

    def __init__(self, grant: WorkerGrant) -> None:
        self.grant = grant
        self.messages: queue.Queue[str | None] = queue.Queue()  # None: close now
        self.closed = threading.Event()

    def put(self, event_type: str, payload: dict[str, Any]) -> None:
        self.messages.put(json.dumps({"event_type": event_type, "payload": payload}))

    def close(self) -> None:
        self.closed.set()
        self.messages.put(None)

    def pump(
        self,
        send: Callable[[str], None],
        alive: Callable[[], bool] = lambda: True,
        heartbeat: float = HEARTBEAT_SECONDS,
        poll: float = 0.25,
    ) -> None:
        """Send queued messages until closed here or by the client (``alive`` turns false);
        a blank message after ``heartbeat`` seconds of silence is the heartbeat."""
        last_sent = time.monotonic()
        while not self.closed.is_set() and alive():
            try:
                message = self.messages.get(timeout=poll)
            except queue.Empty:
                if time.monotonic() - last_sent < heartbeat:
                    continue
                message = " "  # the SDK treats any message as a beat; blank ones only as that
            if message is None:
                return
            send(message)
            last_sent = time.monotonic()


class Hub:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._lock = threading.Lock()
        self._connections: dict[str, list[Connection]] = {}

    # -- connections --------------------------------------------------------------------

    def connect(self, grant: WorkerGrant, close_existing: bool = False) -> Connection:
        """Register a connection and queue its ``init`` before any event after it."""
        connection = Connection(grant)
        with self.sandbox.store.lock:  # no commit between init and the first event
            if close_existing:
                self.drop(grant.worker_sid)
            lifetime_ms = max(int((grant.expires - time.time()) * 1000), 0)
            connection.put("init", {
                "channel_id": grant.worker_sid,
                "account_sid": grant.account_sid,
                "workspace_sid": grant.workspace_sid,
                "token_lifetime": lifetime_ms,
            })  # fmt: skip
            with self._lock:
                self._connections.setdefault(grant.worker_sid, []).append(connection)
        return connection

    def disconnect(self, connection: Connection) -> None:
        with self._lock:
            held = self._connections.get(connection.grant.worker_sid, [])
            if connection in held:
                held.remove(connection)
            if not held:
                self._connections.pop(connection.grant.worker_sid, None)
        connection.close()

    def drop(self, worker_sid: str | None = None) -> int:
        """End the connections of one worker (or all): what a network drop does."""
        with self._lock:
            keys = [worker_sid] if worker_sid else list(self._connections)
            dropped = [c for key in keys for c in self._connections.pop(key, [])]
        for connection in dropped:
            connection.close()
        return len(dropped)

    def connected(self) -> dict[str, int]:
        with self._lock:
            return {sid: len(conns) for sid, conns in self._connections.items()}

    # -- the store listener -------------------------------------------------------------

    def committed(self, puts: list[Record], deletes: list[Record], events: list[Any]) -> None:
        """Store listener (under the store lock, after commit): queue each worker's events."""
        with self._lock:
            if not self._connections:
                return
            listeners = {sid: list(conns) for sid, conns in self._connections.items()}
        store, now = self.sandbox.store, self.sandbox.clock.now()
        for event in events:
            row = event["row"]
            for worker_sid, payload in self._addressed(row, store, now):
                for connection in listeners.get(worker_sid, []):
                    connection.put(row["event_type"], payload)

    def _addressed(self, row: dict[str, Any], store: Any, now: float) -> list[tuple[str, Any]]:
        kind, sid = row["event_type"], row["resource_sid"]
        if kind in WORKER_EVENTS:
            record = store.get(sid, Worker)
            return [(sid, payloads.worker(record, store))] if isinstance(record, Worker) else []
        if kind in CHANNEL_EVENTS:  # the event names the worker and the task channel
            task_channel = row["event_data"].get("task_channel_sid")
            for record in store.group(WorkerChannel, "worker_sid", sid).values():
                if isinstance(record, WorkerChannel) and record.task_channel_sid == task_channel:
                    return [(sid, payloads.channel(record, store))]
            return []
        if kind.startswith("reservation."):
            record = store.get(sid, Reservation)
            if isinstance(record, Reservation):
                return [(record.worker_sid, payloads.reservation(record, store, now))]
            return []
        if kind in TASK_EVENTS:
            record = store.get(sid, Task)
            if not isinstance(record, Task):
                return []
            payload = payloads.task(record, store, now)
            held = store.group(Reservation, "task_sid", sid).values()
            holders = {r.worker_sid for r in held if r.reservation_status not in LET_GO}
            return [(worker_sid, payload) for worker_sid in sorted(holders)]
        return []
