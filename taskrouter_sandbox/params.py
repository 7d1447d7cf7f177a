"""Reading and validating request parameters the way Twilio does (PascalCase, form encoded).

Every accessor raises :class:`~.errors.BadRequest` (400/20001) with a message that names the
parameter and says what is expected, so a learner's typo is fixable from the message alone.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from collections.abc import Collection

from . import wire
from .api_errors import BadRequest

TRUE = {"true", "1", "yes"}
FALSE = {"false", "0", "no"}
MAX_NAME = 64  # "It can be up to 64 characters long" (FriendlyName, Twilio's OpenAPI spec)
# Twilio's cap on JSON attributes (workers, tasks), whitespace included:
# twilio.com/docs/taskrouter/limits, "Resource Configuration Limits".
MAX_ATTRIBUTES = 4096
MAX_PRIORITY = 2_147_483_647  # a task's priority: a 32-bit signed integer [OAI]
MAX_TASK_TIMEOUT = 1_209_600  # a task's TTL: two weeks at most [D-LIMITS]
MAX_OFFSET = 10**9  # a PageToken's offset: far beyond any list the sandbox holds
# ASCII digits only: str.isdigit() and int() also take "²", "١٢" or "1_000", which Twilio
# does not. Twenty digits bound the work (int() of 5,000 digits is slow, then raises).
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")


def bounded_int(
    value: object, name: str, *, low: int | None = None, high: int | None = None
) -> int:
    """The one integer reader for every numeric input (parameters, PageToken, workflow targets).

    Takes a JSON integer or a string of ASCII digits (the docs quote numbers in workflow
    configurations); anything else, or a number outside ``low..high``, is a
    :class:`BadRequest` that names the input and the range: a 400, never a 500.
    """
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip(" \t")):
        number = int(value.strip(" \t"))
    if number is None:
        raise BadRequest(f"{name} must be a whole number{_range(low, high)}, got {_show(value)}")
    if (low is not None and number < low) or (high is not None and number > high):
        raise BadRequest(f"{name} must be a whole number{_range(low, high)}, got {_show(number)}")
    return number


def _range(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" of at least {low}"
    return f" of at most {high}" if high is not None else ""


def _show(value: object) -> str:
    """A refused value, shortened: echoing 5,000 digits back helps no one."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value) if value.bit_length() < 128 else "a number that long"
    else:
        text = f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


class Params:
    def __init__(self, values: dict[str, list[str]], where: str = "post body") -> None:
        self.values = values
        self.where = where

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def raw(self, name: str) -> str | None:
        values = self.values.get(name)
        return values[-1] if values else None

    def text(self, name: str, *, required: bool = False, max_len: int | None = None) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise BadRequest(f"Missing required parameter {name} in the {self.where}")
            return None
        if max_len is not None and len(value) > max_len:
            raise BadRequest(f"{name} must be at most {max_len} characters long")
        return value

    def name(self, name: str = "FriendlyName", *, required: bool = False) -> str | None:
        value = self.text(name, required=required, max_len=MAX_NAME)
        if value is not None and not value.strip():
            raise BadRequest(f"{name} must not be empty")
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.raw(name)
        if value is None:
            return None
        lowered = value.strip().lower()
        if lowered in TRUE:
            return True
        if lowered in FALSE:
            return False
        raise BadRequest(f"{name} must be true or false, got {value!r}")

    def integer(self, name: str, *, low: int | None = None, high: int | None = None) -> int | None:
        value = self.raw(name)
        if value is None:
            return None
        return bounded_int(value, name, low=low, high=high)

    def enum(self, name: str, choices: Collection[str], *, fold: bool = False) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        match = next(
            (c for c in choices if c == value or (fold and c.lower() == value.lower())), None
        )
        if match is None:
            raise BadRequest(f"{name} must be one of {', '.join(choices)}; got {value!r}")
        return match

    def text_list(self, name: str) -> list[str]:
        """Repeated keys (what the SDK sends) and the comma form (the docs' examples)."""
        out: list[str] = []
        for value in self.values.get(name, []):
            out.extend(part.strip() for part in value.split(",") if part.strip())
        return out

    def json_object(self, name: str, *, max_len: int = MAX_ATTRIBUTES) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        if len(value) > max_len:
            raise BadRequest(
                f"{name} must be at most {max_len} characters of JSON, got {len(value)}"
            )
        return check_json_object(name, value)

    def sid(self, name: str, prefix: str, *, required: bool = False) -> str | None:
        value = self.text(name, required=required)
        if value is not None and not wire.is_sid(value, prefix):
            raise BadRequest(
                f"{name} must be a {prefix} sid ({prefix} + 32 hex digits), got {value!r}"
            )
        return value

    def date(self, name: str, *, day_only: bool = False) -> float | None:
        """An ISO 8601 UTC time (``2024-01-02T03:04:05Z``; a bare day too if ``day_only``)."""
        value = self.raw(name)
        if value is None:
            return None
        for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d") if day_only else ("%Y-%m-%dT%H:%M:%SZ",):
            try:
                return float(calendar.timegm(time.strptime(value, fmt)))
            except ValueError:
                continue
        raise BadRequest(f"{name} must be a UTC date-time like 2024-01-02T03:04:05Z, got {value!r}")

    def paging(self) -> tuple[int, int]:
        """(page_size, offset) from PageSize and PageToken (or the deprecated Page)."""
        size = self.integer("PageSize", low=1, high=wire.MAX_PAGE_SIZE) or wire.DEFAULT_PAGE_SIZE
        token = self.raw("PageToken")
        if token:
            if not token.startswith("PT"):
                raise BadRequest(f"PageToken {_show(token)} is not a token this server issued")
            return size, bounded_int(token[2:], "PageToken's offset", low=0, high=MAX_OFFSET)
        page_number = self.integer("Page", low=0, high=MAX_OFFSET // size) or 0
        return size, page_number * size


def check_json_object(name: str, value: str) -> str:
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        raise BadRequest(
            f'{name} must be a valid JSON object, e.g. {{"type": "support"}}'
        ) from None
    if not isinstance(parsed, dict):
        raise BadRequest(f"{name} must be a JSON object ({{...}}), got {type(parsed).__name__}")
    return value
