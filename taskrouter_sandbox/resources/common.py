"""Lookups and helpers every resource module shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .. import wire
from ..api_errors import NotFound, PreconditionFailed
from ..models import Record, Workspace
from ..router import Context, Response, ok
from ..store import Transaction

R = TypeVar("R", bound=Record)


def ws_path(workspace_sid: str) -> str:
    return f"/Workspaces/{workspace_sid}"


def workspace_of(ctx: Context, sid: str, tx: Transaction | None = None) -> Workspace:
    """The caller's workspace ``sid`` or 404 (another account's workspace is not found)."""
    record = (tx or ctx.store).get(sid, Workspace)
    if record is None or record.account_sid != ctx.request.account_sid:
        raise NotFound(f"/v1{ws_path(sid)}")
    assert isinstance(record, Workspace)
    return record


def child_of(
    ctx: Context,
    cls: type[R],
    workspace_sid: str,
    sid: str,
    tx: Transaction | None = None,
    **parents: str,
) -> R:
    """A record of ``cls`` in the workspace (and under ``parents``) or 404."""
    workspace_of(ctx, workspace_sid, tx)
    record = (tx or ctx.store).get(sid, cls)
    if (
        record is None
        or getattr(record, "workspace_sid", None) != workspace_sid
        or any(getattr(record, k) != v for k, v in parents.items())
    ):
        raise NotFound(f"/v1{ctx.request.path.removeprefix('/v1')}")
    assert isinstance(record, cls)
    return record


def in_workspace(ctx: Context, cls: type[R], workspace_sid: str) -> list[R]:
    return list(ctx.store.group(cls, "workspace_sid", workspace_sid).values())


def check_if_match(ctx: Context, record: Record) -> None:
    expected = ctx.request.headers.get("if-match")
    if not expected:
        return
    current = str(getattr(record, "version", ""))
    given = {tag.strip().removeprefix("W/").strip('"') for tag in expected.split(",")}
    if "*" not in given and current not in given:
        raise PreconditionFailed(
            f'If-Match {expected} does not match the current ETag "{current}"; '
            "fetch the resource again and retry with its ETag"
        )


def list_response(
    ctx: Context,
    key: str,
    path: str,
    records: Iterable[Any],
    render: Callable[[Any], dict[str, Any]],
) -> Response:
    size, offset = ctx.query.paging()
    items = list(records)
    chunk = [render(r) for r in items[offset : offset + size]]
    body = wire.page(key, path, chunk, len(items), size, offset, ctx.request.query)
    return ok(body)


def by_name(records: Iterable[R], name: str | None, attr: str = "friendly_name") -> list[R]:
    if name is None:
        return list(records)
    return [r for r in records if getattr(r, attr) == name]
