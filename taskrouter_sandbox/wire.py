"""Twilio's wire conventions: sids, dates, absolute URLs and list pages.

The SDK is strict about these (``twilio/base/version.py`` parses with ``json.loads`` and
``deserialize.iso8601_datetime``; ``docs/decisions.md`` decision 9): dates must be exactly
``YYYY-MM-DDTHH:MM:SSZ`` or they stay strings, records are found through ``meta.key``, and
``meta.next_page_url`` is followed verbatim.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import secrets
import time
from collections.abc import Sequence
from functools import lru_cache
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, NamedTuple
from urllib.parse import urlencode

BASE_URL = "https://taskrouter.twilio.com/v1"
SID_PATTERN = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


_encode = json.JSONEncoder().encode  # json.dumps' defaults
# The C encoder behind ``_encode``, built once: ``JSONEncoder.encode`` builds one per call, a
# cost paid per answer (and per record of a page). Same output: ``json.JSONEncoder()``'s
# separators, escaping and float text; no check for cycles (answers are trees of JSON values).
_c_encoder = c_make_encoder(
    None, json.JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ", False, False, True
) if c_make_encoder is not None else None  # fmt: skip


def encode_json(value: Any) -> str:
    """``json.JSONEncoder().encode(value)``, the text of every JSON answer, without building
    an encoder per call."""
    if _c_encoder is None:
        return _encode(value)
    return "".join(_c_encoder(value, 0))


# Record sids are identifiers, not secrets (credentials come from ``secrets`` where they are
# made): they are drawn from a generator of the sandbox's own, seeded from the OS. Unlike
# ``os.urandom``, it never lets go of the GIL mid-request, which under load cost a thread switch
# per sid (18 % of the sandbox's samples in a routing run). Its own instance, so a test seeding
# the global ``random`` (Hypothesis does) can never make two records share a sid; reseeded in a
# forked child for the same reason.
_sids = random.Random(secrets.randbits(256))
os.register_at_fork(after_in_child=lambda: _sids.seed(secrets.randbits(256)))


def new_sid(prefix: str) -> str:
    """A sid like Twilio's: two letters and 32 lowercase hex digits."""
    return f"{prefix}{_sids.getrandbits(128):032x}"


def is_sid(value: str, prefix: str | None = None) -> bool:
    return bool(SID_PATTERN.match(value)) and (prefix is None or value.startswith(prefix))


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return _iso_second(math.floor(epoch))  # gmtime() floors too


@lru_cache(maxsize=4096)
def _iso_second(second: int) -> str:
    """Cached: a list page renders four dates per record, mostly the same few seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))


def url(path: str) -> str:
    return BASE_URL + path


def links(base_path: str, **named: str) -> dict[str, str]:
    """``links`` entries: ``name=suffix`` relative to base_path, or an absolute ``/Path``."""
    out = {}
    for name, target in named.items():
        out[name] = url(target if target.startswith("/Workspaces") else f"{base_path}/{target}")
    return out


class PageLinks(NamedTuple):
    """Where a list page sits and the links it carries: TaskRouter's ``meta`` URLs and the
    2010 API's ``*_uri`` fields are the same four links on different bases."""

    number: int
    this: str
    first: str
    previous: str | None
    next: str | None


def page_links(
    base: str, query: dict[str, list[str]], page_size: int, offset: int, total: int
) -> PageLinks:
    """The links of the page at ``offset`` of ``total`` records; ``base`` is the list's URL (or
    path) without a query. The request's other parameters are kept in every link."""
    kept = tuple((k, v) for k, vs in sorted(query.items()) if k not in _PAGING for v in vs)
    return _page_links(base, kept, page_size, offset, total)


@lru_cache(maxsize=1024)
def _page_links(
    base: str, kept: tuple[tuple[str, str], ...], page_size: int, offset: int, total: int
) -> PageLinks:
    """Cached: a client polling a list asks for the same page again and again, and four
    ``urlencode`` calls were a sixth of a 50-task page's CPU (issue 20)."""
    number = offset // page_size if page_size else 0

    def link(token_offset: int | None, page_number: int) -> str:
        params = [*kept, ("PageSize", str(page_size)), ("Page", str(page_number))]
        if token_offset is not None:
            params.append(("PageToken", f"PT{token_offset}"))
        return f"{base}?{urlencode(params)}"

    return PageLinks(
        number=number,
        this=link(offset if offset else None, number),
        first=link(None, 0),
        previous=link(max(offset - page_size, 0), number - 1) if offset > 0 else None,
        next=link(offset + page_size, number + 1) if offset + page_size < total else None,
    )


def page(
    key: str,
    path: str,
    chunk: Sequence[dict[str, Any]],
    total: int,
    page_size: int,
    offset: int,
    query: dict[str, list[str]],
) -> dict[str, Any]:
    """One list page: ``chunk`` holds the rendered records of a result of ``total``."""
    links = page_links(url(path), query, page_size, offset, total)
    return {
        key: list(chunk),
        "meta": {
            "key": key,
            "page": links.number,
            "page_size": page_size,
            "first_page_url": links.first,
            "previous_page_url": links.previous,
            "next_page_url": links.next,
            "url": links.this,
        },
    }


_PAGING = {"PageSize", "Page", "PageToken"}
