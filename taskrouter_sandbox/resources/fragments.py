"""Rendered records kept as JSON text, and list pages assembled from that text.

A page of 50 tasks is ~60 KB of JSON: rendering each task to a dict and encoding the page was
most of a list call's CPU (issue 20). Records are immutable (a write stores a new object), so the
JSON of a rendered record stays right for as long as the same object is current, and the names
it shows of other records (a task's queue and workflow) are unchanged. :class:`Fragments` keeps
that text per record object; a time-dependent field (a task's ``age``) is left out of it and
spliced in per answer.

The text is what ``http_server``'s encoder (``json.JSONEncoder()``, the defaults) writes for
the same dict, so an assembled answer is byte for byte the one encoding the dict gives.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from .. import wire
from ..models import Record
from ..router import Context, Response

encode = json.JSONEncoder().encode  # the same encoder as the HTTP server's
encode_record = wire.encode_json  # the same text as ``encode``, faster (see there)


MAX_FRAGMENTS = 2048  # records' texts kept at once (a page is at most 1,000 records)
PLACEHOLDER = -7_301_999_999_999_999  # where the spliced field goes (see split_around)


class Fragments:
    """JSON text of rendered records: ``(head, tail)`` around one spliced field.

    An entry is used while its record is the same object and its ``context`` (the other
    records the rendering read, compared by identity first) is equal. A record is split into
    text the second time it is asked for: the first time :meth:`get` only notes it and answers
    None (the caller encodes the rendering whole), so a record read once (most are changed
    before they are read again) costs no more than before. Past :data:`MAX_FRAGMENTS` entries
    the cache starts over (one ``clear``: safe with handler threads reading it, unlike
    evicting in order).
    """

    def __init__(self, size: int = MAX_FRAGMENTS) -> None:
        self._size = size
        self._entries: dict[str, tuple[Record, Hashable, tuple[str, str] | None]] = {}

    def get(
        self, record: Record, context: Hashable, build: Callable[[], tuple[str, str]]
    ) -> tuple[str, str] | None:
        entry = self._entries.get(record.sid)
        if entry is not None and entry[0] is record and entry[1] == context:
            if entry[2] is not None:
                return entry[2]
            text: tuple[str, str] | None = build()  # seen before: worth keeping as text
        else:
            text = None
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[record.sid] = (record, context, text)
        return text


def split_around(rendered: dict[str, Any], field: str) -> tuple[str, str]:
    """``rendered`` (a dict of ours: its ``field`` is overwritten) encoded once, as (text up
    to ``field``'s value, text after it). The value is a placeholder no rendering yields
    (a negative number): its text, key included, cannot occur inside a JSON string, where
    every quote is escaped, so it is found exactly where ``field`` is."""
    rendered[field] = PLACEHOLDER
    text = encode_record(rendered)
    marker = f"{encode(field)}: {PLACEHOLDER}"
    head, found, tail = text.partition(marker)
    if not found:  # a field nested deeper, or none: never for a flat record rendering
        raise ValueError(f"{field!r} is not a top-level field of the rendering")
    return head + marker.removesuffix(str(PLACEHOLDER)), tail


def json_page(
    ctx: Context, key: str, path: str, items: Iterable[str], total: int, offset: int, size: int
) -> Response:
    """A list page from its records' JSON texts: ``wire.page``'s shape, encoded."""
    meta = wire.page(key, path, [], total, size, offset, ctx.request.query)["meta"]
    body = f'{{{encode(key)}: [{", ".join(items)}], "meta": {encode(meta)}}}'
    return Response(200, body.encode())
