"""Reading and validating request parameters the way Twilio does (PascalCase, form encoded).

Every accessor raises :class:`~.errors.BadRequest` (400/20001) with a message that names the
parameter and says what is expected, so a learner's typo is fixable from the message alone.
"""

from __future__ import annotations

import calendar
import json
import time
from collections.abc import Collection

from . import wire
from .errors import BadRequest

TRUE = {"true", "1", "yes"}
FALSE = {"false", "0", "no"}
MAX_NAME = 64
MAX_ATTRIBUTES = 4096


class Params:
    def __init__(self, values: dict[str, list[str]], where: str = "post body") -> None:
        self.values = values
        self.where = where

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def raw(self, name: str) -> str | None:
        values = self.values.get(name)
        return values[-1] if values else None

    def str(self, name: str, *, required: bool = False, max_len: int | None = None) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise BadRequest(f"Missing required parameter {name} in the {self.where}")
            return None
        if max_len is not None and len(value) > max_len:
            raise BadRequest(f"{name} must be at most {max_len} characters long")
        return value

    def name(self, name: str = "FriendlyName", *, required: bool = False) -> str | None:
        value = self.str(name, required=required, max_len=MAX_NAME)
        if value is not None and not value.strip():
            raise BadRequest(f"{name} must not be empty")
        return value

    def bool(self, name: str) -> bool | None:
        value = self.raw(name)
        if value is None:
            return None
        lowered = value.strip().lower()
        if lowered in TRUE:
            return True
        if lowered in FALSE:
            return False
        raise BadRequest(f"{name} must be true or false, got {value!r}")

    def int(self, name: str, *, low: int | None = None, high: int | None = None) -> int | None:
        value = self.raw(name)
        if value is None:
            return None
        try:
            number = int(value.strip())
        except ValueError:
            raise BadRequest(f"{name} must be an integer, got {value!r}") from None
        if (low is not None and number < low) or (high is not None and number > high):
            raise BadRequest(f"{name} must be between {low} and {high}, got {number}")
        return number

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

    def list(self, name: str) -> list[str]:
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
        value = self.str(name, required=required)
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
        size = self.int("PageSize", low=1, high=wire.MAX_PAGE_SIZE) or wire.DEFAULT_PAGE_SIZE
        token = self.raw("PageToken")
        if token:
            if not token.startswith("PT") or not token[2:].isdigit():
                raise BadRequest(f"PageToken {token!r} is not a token this server issued")
            return size, int(token[2:])
        page_number = self.int("Page", low=0) or 0
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
