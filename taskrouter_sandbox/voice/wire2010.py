"""Twilio's 2010 API wire conventions: RFC 2822 dates, relative ``uri``s, its paging block.

The 2010 API differs from TaskRouter's v1 (``wire.py``): dates are ``Wed, 02 Dec 2026
10:00:00 +0000`` (the SDK reads them with ``deserialize.rfc2822_datetime``), records carry a
relative ``uri`` ending in ``.json``, and list pages hold ``page``, ``page_size``, ``start``,
``end``, ``uri``, ``first_page_uri``, ``next_page_uri`` and ``previous_page_uri`` at the top
level instead of a ``meta`` block (``spec/twilio_api_v2010_calls_numbers.json``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

API_VERSION = "2010-04-01"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_PAGING = {"PageSize", "Page", "PageToken"}


def rfc2822(epoch: float | None) -> str | None:
    """``Wed, 02 Dec 2026 10:00:00 +0000`` (English names whatever the locale)."""
    if epoch is None:
        return None
    t = time.gmtime(math.floor(epoch))
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def account_path(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}"


def formatted(number: str | None) -> str | None:
    """``+14155550100`` -> ``(415) 555-0100``; other addresses unchanged."""
    if number and number.startswith("+1") and len(number) == 12 and number[1:].isdigit():
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def page(
    key: str,
    path: str,
    chunk: Sequence[dict[str, Any]],
    total: int,
    page_size: int,
    offset: int,
    query: dict[str, list[str]],
) -> dict[str, Any]:
    """One 2010-style list page; ``path`` is the list's path without ``.json``."""
    number = offset // page_size if page_size else 0
    kept = [(k, v) for k, vs in sorted(query.items()) if k not in _PAGING for v in vs]

    def uri(token_offset: int | None, page_number: int) -> str:
        params = [*kept, ("PageSize", str(page_size)), ("Page", str(page_number))]
        if token_offset is not None:
            params.append(("PageToken", f"PT{token_offset}"))
        return f"{path}.json?{urlencode(params)}"

    return {
        key: list(chunk),
        "page": number,
        "page_size": page_size,
        "start": offset,
        "end": offset + max(len(chunk) - 1, 0),
        "uri": uri(offset if offset else None, number),
        "first_page_uri": uri(None, 0),
        "next_page_uri": (
            uri(offset + page_size, number + 1) if offset + page_size < total else None
        ),
        "previous_page_uri": (uri(max(offset - page_size, 0), number - 1) if offset > 0 else None),
    }
