"""The TaskRouter v1 OpenAPI spec as a test oracle: operations, response schemas, validation.

The spec marks every property optional, so a schema check alone would accept ``{}``. The SDK
reads each declared key and Twilio always sends them (``null`` when empty), so
:func:`validate` also demands every declared property, Twilio's wire formats for dates, sids
and URLs, and OpenAPI 3.0's ``nullable`` (which plain JSON Schema would ignore).
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

SPEC_PATH = Path(__file__).resolve().parents[2] / "spec" / "twilio_taskrouter_v1.json"
# The 2010 API's Calls and IncomingPhoneNumbers (the sandbox's voice side): its operation ids
# and schema names do not collide with TaskRouter's, so one lookup serves both documents.
VOICE_SPEC_PATH = SPEC_PATH.with_name("twilio_api_v2010_calls_numbers.json")
RFC_2822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} \+0000$"
)
URI_PREFIX = "/2010-04-01/Accounts/"
BASE_URL = "https://taskrouter.twilio.com/v1/"
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
METHODS = ("get", "post", "delete")
URL_KEYS = {"url", "first_page_url", "next_page_url", "previous_page_url"}
REF_PREFIX = "#/components/schemas/"


@cache
def document() -> dict[str, Any]:
    """The parsed spec, read once per process."""
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@cache
def voice_document() -> dict[str, Any]:
    return json.loads(VOICE_SPEC_PATH.read_text(encoding="utf-8"))


def _documents() -> tuple[dict[str, Any], ...]:
    return (document(), voice_document())


@cache
def voice_operations() -> list[tuple[str, str, str]]:
    """``(operation_id, METHOD, path)`` of the 2010 subset (Calls, IncomingPhoneNumbers)."""
    return _operations_of(voice_document())


@cache
def operations() -> list[tuple[str, str, str]]:
    """``(operation_id, METHOD, path)`` for every TaskRouter operation, in spec order."""
    return _operations_of(document())


def _operations_of(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    out = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                out.append((item[method]["operationId"], method.upper(), path))
    return out


def operation_ids() -> list[str]:
    return [op_id for op_id, _, _ in operations()]


@cache
def _operation(operation_id: str) -> dict[str, Any]:
    for doc in _documents():
        for item in doc["paths"].values():
            for method in METHODS:
                if item.get(method, {}).get("operationId") == operation_id:
                    return item[method]
    raise KeyError(f"{operation_id} is not an operation of the spec")


def success_status(operation_id: str) -> int:
    """The one 2xx status the spec documents for the operation (201 create, 204 delete...)."""
    codes = [int(c) for c in _operation(operation_id)["responses"] if c.startswith("2")]
    assert len(codes) == 1, f"{operation_id} documents several success codes: {codes}"
    return codes[0]


def list_key(operation_id: str) -> str | None:
    """The records key of a list response (``workers``...), None for single resources."""
    schema = response_schema(operation_id)
    if schema is None:
        return None
    props = schema.get("properties", {})
    if "meta" not in props:
        return None
    keys = [k for k, v in props.items() if k != "meta" and v.get("type") == "array"]
    return keys[0] if len(keys) == 1 else None


@cache
def _response_schema(operation_id: str) -> str | None:
    responses = _operation(operation_id)["responses"]
    response = responses[str(success_status(operation_id))]
    content = response.get("content", {}).get("application/json")
    if content is None:
        return None
    return json.dumps(_prepare(content["schema"]))


def response_schema(operation_id: str) -> dict[str, Any] | None:
    """The success response's JSON Schema, refs inlined and ``nullable`` made explicit.

    None for operations without a body (deletes). A fresh copy each call: callers may mutate.
    """
    text = _response_schema(operation_id)
    return None if text is None else json.loads(text)


def _prepare(node: Any, seen: tuple[str, ...] = ()) -> Any:
    """Inline ``$ref``s and turn OpenAPI ``nullable: true`` into a JSON Schema null type."""
    if isinstance(node, list):
        return [_prepare(item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith(REF_PREFIX):
            raise ValueError(f"unsupported $ref {ref!r}")
        if ref in seen:
            raise ValueError(f"recursive $ref {ref!r}")
        name = ref[len(REF_PREFIX) :]
        schemas = next(d["components"]["schemas"] for d in _documents()
                       if name in d["components"]["schemas"])  # fmt: skip
        target = copy.deepcopy(schemas[name])
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return _prepare({**target, **siblings}, (*seen, ref))
    out = {k: _prepare(v, seen) for k, v in node.items() if k != "x-twilio"}
    if out.pop("nullable", False):
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        # no "type": the value is already unconstrained, null included
    return out


def validate(operation_id: str, body: Any) -> None:
    """Raise AssertionError listing everything in ``body`` that breaks the operation's contract."""
    schema = response_schema(operation_id)
    if schema is None:
        if body not in (None, "", b""):
            raise AssertionError(f"{operation_id}: expected an empty body, got {body!r}")
        return
    problems = [
        f"schema: {_where(error.absolute_path)}: {error.message}"
        for error in sorted(Draft7Validator(schema).iter_errors(body), key=str)
        if error.validator != "pattern"  # reported by _walk with the property's name
    ]
    _walk(schema, body, "$", problems)
    if problems:
        listing = "\n  - ".join(problems)
        raise AssertionError(f"{operation_id} response breaks the spec:\n  - {listing}")


def _where(path: Any) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _walk(schema: dict[str, Any], value: Any, where: str, problems: list[str]) -> None:
    """Checks JSON Schema cannot express for Twilio: all keys present, wire formats."""
    if value is None:
        return
    if isinstance(value, str):
        pattern = schema.get("pattern")
        if pattern and not re.search(pattern, value):
            problems.append(f"sid: {where} = {value!r} does not match {pattern}")
        if schema.get("format") == "date-time" and not DATE_TIME.match(value):
            problems.append(f"date: {where} = {value!r} is not YYYY-MM-DDTHH:MM:SSZ")
        if schema.get("format") == "date-time-rfc-2822" and not RFC_2822.match(value):
            problems.append(f"date: {where} = {value!r} is not RFC 2822 (Mon, 02 Jan 2006 …)")
        if where.endswith("uri") and not value.startswith(URI_PREFIX):
            problems.append(f"uri: {where} = {value!r} does not start with {URI_PREFIX}")
        return
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                _walk(items, item, f"{where}[{index}]", problems)
        return
    if not isinstance(value, dict):
        return
    properties: dict[str, Any] = schema.get("properties", {})
    missing = [name for name in properties if name not in value]
    if missing:
        problems.append(f"missing: {where} lacks {', '.join(missing)}")
    for name, sub in properties.items():
        if name not in value:
            continue
        child, path = value[name], f"{where}.{name}"
        if name in URL_KEYS and isinstance(child, str) and not child.startswith(BASE_URL):
            problems.append(f"url: {path} = {child!r} does not start with {BASE_URL}")
        if name == "links" and isinstance(child, dict):
            for link, target in child.items():
                if not (isinstance(target, str) and target.startswith(BASE_URL)):
                    problems.append(f"url: {path}.{link} = {target!r} is not under {BASE_URL}")
        _walk(sub, child, path, problems)
