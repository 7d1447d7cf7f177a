"""What TaskRouter recorded about your callbacks, the same call in both modes.

Twilio records failed callbacks as *alerts* in its debugger (Console: Monitor > Errors; the
Monitor API's Alerts resource); the sandbox keeps the same kind of log on its control plane.
``debugger_log`` reads whichever applies, so notebook cells need no ``if live:`` branch; and
``create_call_task`` makes a task for a (simulated) phone call where the sandbox can simulate one.
"""

from __future__ import annotations

import json
from typing import Any

from twilio.rest import Client

from .client import talks_to_sandbox
from .config import load_settings
from .control import sandbox_callbacks
from .errors import KitError


def _is_sandbox(client: Client) -> bool:
    return talks_to_sandbox(client)


def debugger_log(client: Client, qs: Any, limit: int = 20) -> list[dict[str, Any]]:
    """Recent callback problems, oldest first: ``{"code", "status", "message", "url"}``."""
    if _is_sandbox(client):
        entries = [e for e in sandbox_callbacks(qs.workspace_sid, load_settings()) if e.get("code")]
        return [
            {"code": e["code"], "status": e.get("status"), "message": e.get("message", ""),
             "url": e.get("url")}
            for e in entries[-limit:]
        ]  # fmt: skip
    alerts = client.monitor.v1.alerts.list(limit=limit)  # Twilio's debugger, newest first
    return [
        {"code": int(a.error_code or 0), "status": None, "message": a.alert_text or "",
         "url": a.request_url}
        for a in reversed(alerts)
    ]  # fmt: skip


def create_call_task(client: Client, qs: Any, attributes: dict[str, Any]) -> Any:
    """A task for a phone call: the sandbox simulates the call (a made-up ``call_sid``)."""
    if not _is_sandbox(client):
        raise KitError(
            "In live mode a call task comes from a real phone call",
            "call your Twilio number whose TwiML enqueues the call "
            '(<Enqueue workflowSid="...">); TaskRouter then creates the task',
        )
    ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
    attributes = {**attributes, "call_sid": "CA" + "0" * 32}
    return ws.tasks.create(attributes=json.dumps(attributes), workflow_sid=qs.workflow_sid)
