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

from ..wire import page_links

API_VERSION = "2010-04-01"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
    links = page_links(f"{path}.json", query, page_size, offset, total)
    return {
        key: list(chunk),
        "page": links.number,
        "page_size": page_size,
        "start": offset,
        "end": offset + max(len(chunk) - 1, 0),
        "uri": links.this,
        "first_page_uri": links.first,
        "next_page_uri": links.next,
        "previous_page_uri": links.previous,
    }
