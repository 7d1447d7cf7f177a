"""Making a record (one helper instead of the same six lines per resource), and the
lookups the core shares."""

from __future__ import annotations

from typing import Any, TypeVar

from .. import wire
from ..api_errors import BadRequest
from ..models import Activity, Record, Workspace
from ..store import Transaction

R = TypeVar("R", bound=Record)


def create(
    tx: Transaction, cls: type[R], owner: Record, now: float, *, sid: str | None = None,
    **fields: Any,
) -> R:  # fmt: skip
    """A new ``cls`` record in ``owner``'s workspace (its account too), put in ``tx``.

    ``owner`` is the workspace, or any record of it (a worker for its channels, a task for
    its reservations). The sid gets the class's prefix (``WT`` for a task …) unless given;
    created and updated are ``now``.
    """
    common: dict[str, Any] = {
        "sid": sid or wire.new_sid(cls.prefix),
        "account_sid": owner.account_sid,
        "date_created": now,
        "date_updated": now,
    }
    if cls is not Workspace:
        common["workspace_sid"] = owner.workspace
    return tx.put(cls(**common, **fields))


def create_workspace(tx: Transaction, account_sid: str, now: float, **fields: Any) -> Workspace:
    """A new workspace record of ``account_sid`` (it has no owner record), put in ``tx``."""
    return tx.put(
        Workspace(
            sid=wire.new_sid(Workspace.prefix),
            account_sid=account_sid,
            date_created=now,
            date_updated=now,
            **fields,
        )
    )


def check_activity(tx: Transaction, workspace_sid: str, sid: str, param: str) -> Activity:
    """An activity of this workspace named by a parameter, or 400 saying which one is wrong."""
    record = tx.get(sid, Activity)
    if record is None or record.workspace_sid != workspace_sid:
        raise BadRequest(
            f"{param} {sid!r} is not an activity of workspace {workspace_sid}; "
            "list the workspace's activities to find the right sid"
        )
    return record
