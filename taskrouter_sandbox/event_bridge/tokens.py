"""Checking a worker's Access Token the way Twilio's event bridge does.

The SDK sends the token as it got it (``?token=`` on the WebSocket URL, ``"token"`` in every
request body: ``EventBridgeSignaling.createWebSocket`` and ``util/Request.buildRequest`` in
twilio-taskrouter 2.1.1). It is the JWT that ``twilio.jwt.access_token.AccessToken`` makes:
header ``{"alg": "HS256", "cty": "twilio-fpa;v=1"}``, ``iss`` the signing key's SID, ``sub``
the account SID, ``exp``, and ``grants.task_router`` = ``{workspace_sid, worker_sid, role}``.

Refusals follow the status codes the SDK documents in ``Worker._setWorkerConnectActivity``:
401 when the token has expired, 403 when it cannot be verified (forged, wrong signature,
unknown account, no TaskRouter grant, or a workspace/worker it does not name).

Signing keys: Twilio signs with an API key (``SK…``) and its secret. The sandbox has no Keys
resource, so it takes the account's own SID and auth token as the key (``iss`` = ``sub``);
``helpers.worker_token`` signs that way in sandbox mode and with an API key in live mode.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from ..models import Worker, Workspace

if TYPE_CHECKING:
    from ..app import Sandbox


NOT_OURS = (
    "The token is not signed by an account of this sandbox (How to fix: sign it with the "
    "sandbox's account SID as the key SID and its auth token as the secret)"
)
NO_GRANT = (
    "The token has no TaskRouter grant (How to fix: "
    "token.add_grant(TaskRouterGrant(workspace_sid=..., worker_sid=..., role='worker')))"
)


class TokenRefused(Exception):
    """The token cannot be used; ``status`` is what the bridge answers (401 or 403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class WorkerGrant:
    """Who a verified token speaks for, and until when (epoch seconds)."""

    account_sid: str
    workspace_sid: str
    worker_sid: str
    expires: float  # epoch seconds, wall clock


def verify(sandbox: Sandbox, token: str | None) -> WorkerGrant:
    """The token's grant, or :class:`TokenRefused`.

    Expiry is judged on the wall clock, the clock the token was made on (``AccessToken`` uses
    ``time.time()``), not on the sandbox clock: notebooks move that one forward by hours, and a
    token made a second ago must still work afterwards.
    """
    if not token:
        raise TokenRefused(403, "No token: pass the worker's Access Token")
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRefused(403, "The token is not a JWT (How to fix: make it with "
                           "AccessToken(...).to_jwt())") from None  # fmt: skip
    if header.get("alg") != "HS256":
        raise TokenRefused(403, "The token must be signed with HS256")
    account_sid = str(unverified.get("sub", ""))
    secret = sandbox.accounts.get(account_sid)
    if secret is None or unverified.get("iss") != account_sid:
        raise TokenRefused(403, NOT_OURS)
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False}
        )
    except jwt.PyJWTError:
        raise TokenRefused(403, "The token's signature does not verify") from None
    expires = claims.get("exp")
    if not isinstance(expires, (int, float)):
        raise TokenRefused(403, "The token has no expiry (exp)")
    if expires <= time.time():
        raise TokenRefused(401, "The token has expired (How to fix: make a new one and call "
                           "worker.updateToken(newToken))")  # fmt: skip
    grant = (claims.get("grants") or {}).get("task_router")
    if not isinstance(grant, dict):
        raise TokenRefused(403, NO_GRANT)
    workspace_sid, worker_sid = str(grant.get("workspace_sid")), str(grant.get("worker_sid"))
    workspace = sandbox.store.get(workspace_sid, Workspace)
    if not isinstance(workspace, Workspace) or workspace.account_sid != account_sid:
        raise TokenRefused(403, f"The token's workspace {workspace_sid} does not exist")
    worker = sandbox.store.get(worker_sid, Worker)
    if not isinstance(worker, Worker) or worker.workspace_sid != workspace_sid:
        raise TokenRefused(403, f"The token's worker {worker_sid} is not in {workspace_sid}")
    return WorkerGrant(account_sid, workspace_sid, worker_sid, float(expires))
