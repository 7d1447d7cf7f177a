"""``EventLog``: TaskRouter's event stream next to the callback server's request log.

Side by side, the learner sees cause and effect: ``reservation.created`` on the left, the
assignment callback it triggered (signature verdict, answer, latency) on the right. Events come
from the callback server's event records when the workspace posts its events there, otherwise
from the Events REST resource, read incrementally (``StartDate`` = newest seen, deduplicated by
sid) so a poll costs one small request even in a long session. The server is duck-typed: any
object with a ``.requests`` sequence of records (``kind``, ``params``, ``signature``,
``status``, ``answer``, ``latency_ms``, ``time``) works, e.g. ``helpers.CallbackServer``.

Anyone can POST to the callback server, so only *verified* records (signature ``valid`` or
``skipped``) are taken as events; refused ones (``.refused``, or unverified records) are listed
on the right as refused. Every field from the network is read defensively: a bad one shows as
``?`` or the arrival time and never makes a refresh raise.
"""

from __future__ import annotations

import collections
import json
import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]  # no type information
from twilio.rest import Client

from .._html import escape
from ..sids import short_sid
from ._live import LiveWidget

SEEN_LIMIT = 2000
VERIFIED = ("valid", "skipped")
BOX = ("display:flex;flex-direction:column-reverse;overflow:auto;max-height:{h}px;"
       "font-family:monospace;font-size:85%;white-space:nowrap;min-width:0")  # fmt: skip
# each column scrolls inside its half (long lines used to run over the other column)
COLUMN = {"width": "50%", "min_width": "0", "overflow": "hidden", "padding": "0 6px"}
CLOCK_NOTE = 2.0  # seconds of difference between the two clocks worth telling the learner
# column-reverse keeps the scroll box pinned to its bottom: the newest line stays in view


@dataclass(frozen=True)
class EventLine:
    at: float  # epoch seconds, on TaskRouter's clock
    event_type: str
    description: str
    sid: str | None = None


@dataclass(frozen=True)
class RequestLine:
    at: float
    kind: str
    status: int | None
    signature: str
    subject: str
    answer: str
    latency_ms: float | None
    error: str | None = None


def _clock(at: float) -> str:
    try:
        return time.strftime("%H:%M:%S", time.gmtime(at))
    except (OverflowError, OSError, ValueError):
        return "??:??:??"


def _epoch(value: Any, scale: float = 1.0) -> float | None:
    """A finite epoch-seconds time from ``value`` (divided by ``scale``), else None."""
    try:
        at = float(value) / scale
    except (TypeError, ValueError, OverflowError):
        return None
    return at if math.isfinite(at) and 0 <= at < 253402300800 else None  # before year 10000


def _verified(record: Any) -> bool:
    return getattr(record, "signature", None) in VERIFIED


def event_from_record(record: Any) -> EventLine:
    params = dict(getattr(record, "params", {}) or {})
    at = (
        _epoch(params.get("TimestampMs"), 1000)
        or _epoch(params.get("Timestamp"))
        or _epoch(getattr(record, "time", None))
        or 0.0
    )
    return EventLine(
        at,
        str(params.get("EventType", "?")),
        str(params.get("EventDescription", "")),
        params.get("Sid"),
    )


def request_from_record(record: Any) -> RequestLine:
    params = dict(getattr(record, "params", {}) or {})
    task = params.get("TaskSid")
    subject = params.get("EventType") or (short_sid(task) if task else getattr(record, "path", ""))
    answer = getattr(record, "answer", None)
    status = getattr(record, "status", None)
    latency = getattr(record, "latency_ms", None)
    error = getattr(record, "error", None)
    return RequestLine(
        at=_epoch(getattr(record, "time", None)) or 0.0,
        kind=str(getattr(record, "kind", "?")),
        status=status if isinstance(status, int) else None,
        signature=str(getattr(record, "signature", "?")),
        subject=str(subject),
        answer="" if answer is None else json.dumps(answer, default=str)[:80],
        latency_ms=float(latency) if isinstance(latency, (int, float)) else None,
        error=None if error is None else str(error),
    )


class EventLog(LiveWidget):
    """``EventLog(client, qs, server=None)``: events (left) and callback requests (right)."""

    def __init__(
        self,
        client: Client,
        qs: Any,
        server: Any = None,
        *,
        interval: float = 0.5,
        max_items: int = 100,
        minutes: int = 15,
        height: int = 300,
    ) -> None:
        super().__init__()
        self._workspace = client.taskrouter.v1.workspaces(qs.workspace_sid)
        self.server = server
        self.max_items = max_items
        self._minutes = minutes
        self._height = height
        self._rest_events: collections.deque[EventLine] = collections.deque(maxlen=max_items)
        self._seen: dict[str, None] = {}
        self._since: datetime | None = None
        self.source = "events API"
        self.event_rows: list[EventLine] = []
        self.request_rows: list[RequestLine] = []
        self.events_html = widgets.HTML(layout=widgets.Layout(**COLUMN))
        self.requests_html = widgets.HTML(layout=widgets.Layout(**COLUMN))
        self.clock_offset: float | None = None  # TaskRouter's clock minus this machine's
        self.message = widgets.HTML()
        self.children = (widgets.HBox([self.events_html, self.requests_html]), self.message)
        try:
            self.refresh()
        except Exception as error:
            self._poll_failed(error)
        self._go_live(qs.workspace_sid, None, interval)

    def _records(self) -> tuple[list[Any], list[Any]]:
        """(verified callback records, refused requests), each oldest first."""
        if self.server is None:
            return [], []
        requests = list(getattr(self.server, "requests", None) or [])
        refused = list(getattr(self.server, "refused", None) or [])
        verified = [r for r in requests if _verified(r)]
        refused += [r for r in requests if not _verified(r)]  # a duck-typed server mixing them
        return verified, refused

    def refresh(self) -> None:
        """Collect new events and callback requests, newest last, and repaint."""
        verified, refused = self._records()
        from_callbacks = [r for r in verified if getattr(r, "kind", None) == "event"]
        if from_callbacks:
            self.clock_offset = _offset(from_callbacks[-1])
            self.source = "event callbacks"
            events = [event_from_record(r) for r in from_callbacks][-self.max_items :]
        else:
            self.source = "events API"
            self._read_rest_events()
            events = list(self._rest_events)
        lines = [request_from_record(r) for r in [*verified, *refused]]
        requests = sorted(lines, key=lambda line: line.at)[-self.max_items :]
        with self._refresh_lock:
            self.event_rows, self.request_rows = events, requests
            self._paint()
        self._clear_message("poll")

    def _read_rest_events(self) -> None:
        if self._since is None:
            listed = self._workspace.events.list(minutes=self._minutes, limit=500)
        else:  # StartDate is inclusive and to the second: re-reads that second, sids dedupe
            listed = self._workspace.events.list(start_date=self._since, limit=500)
        fresh = [e for e in listed if e.sid not in self._seen]
        fresh.sort(key=_event_time)
        for event in fresh:
            self._seen[event.sid] = None
            self._rest_events.append(
                EventLine(
                    _event_time(event), str(event.event_type), event.description or "", event.sid
                )
            )
            if event.event_date is not None and (
                self._since is None or event.event_date > self._since
            ):
                self._since = event.event_date
        while len(self._seen) > SEEN_LIMIT:
            self._seen.pop(next(iter(self._seen)))

    def _paint(self) -> None:
        events = (
            "".join(
                f"<div>{_clock(e.at)} <b>{escape(e.event_type)}</b> "
                f"<span style='color:#555'>{escape(e.description)}</span></div>"
                for e in self.event_rows
            )
            or "<i>no events yet</i>"
        )
        if self.server is None:
            requests = "<i>no callback server given: EventLog(client, qs, server)</i>"
        else:
            requests = "".join(_request_html(r) for r in self.request_rows)
            requests = requests or "<i>no callbacks received yet</i>"
        box = BOX.format(h=self._height)
        left = (f"<b>Events</b> <small>(from the {self.source}, TaskRouter's clock, UTC)"
                f"{self._clock_note()}</small>"
                f"<div style='{box}'><div>{events}</div></div>")  # fmt: skip
        right = (f"<b>Callback requests</b> <small>(received, this machine's clock, UTC)</small>"
                 f"<div style='{box}'><div>{requests}</div></div>")  # fmt: skip
        if self.events_html.value != left:
            self.events_html.value = left
        if self.requests_html.value != right:
            self.requests_html.value = right

    def _clock_note(self) -> str:
        offset = self.clock_offset
        if offset is None or abs(offset) < CLOCK_NOTE:
            return ""
        way = "ahead of" if offset > 0 else "behind"
        return (f"<br><b>TaskRouter's clock is {abs(offset):.0f} s {way} this machine's</b> "
                "(the sandbox's clock was advanced, e.g. by advance_clock in 03)")  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"<EventLog {len(self.event_rows)} events from the {self.source}, "
            f"{len(self.request_rows)} requests{' polling' if self.polling else ''}>"
        )


def _offset(record: Any) -> float | None:
    """TaskRouter's clock minus ours, from one event callback (its Timestamp vs. arrival)."""
    params = dict(getattr(record, "params", {}) or {})
    sent, arrived = _epoch(params.get("TimestampMs"), 1000.0), getattr(record, "time", None)
    if sent is None or arrived is None:  # anything from the network may be garbage
        return None
    return sent - float(arrived)


def _event_time(event: Any) -> float:
    if getattr(event, "event_date_ms", None):
        return int(event.event_date_ms) / 1000
    date = event.event_date
    return date.timestamp() if date else datetime.now(timezone.utc).timestamp()


def _request_html(r: RequestLine) -> str:
    verified = r.signature in VERIFIED
    ok = verified and r.status is not None and 200 <= r.status < 300
    colour = "#1a7f37" if ok else "#b00020"
    latency = f" {r.latency_ms:.0f} ms" if r.latency_ms is not None else ""
    error = f" <i>{escape(r.error)}</i>" if r.error and verified else ""
    verdict = "" if verified else " <b>refused</b> (not from TaskRouter: unsigned or forged)"
    return (
        f"<div>{_clock(r.at)} <b>{escape(r.kind)}</b> "
        f"<span style='color:{colour}'>{escape(r.status)} sig:{escape(r.signature)}{verdict}"
        f"</span> {escape(r.subject)} → {escape(r.answer)}{latency}{error}</div>"
    )
