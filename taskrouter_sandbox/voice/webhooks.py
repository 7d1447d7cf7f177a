"""The voice webhook: Twilio's request parameters, signed like every outgoing callback.

Parameters of a voice request (https://www.twilio.com/docs/usage/webhooks/voice-webhooks,
"Incoming Voice Call" request parameters): ``CallSid``, ``AccountSid``, ``From``, ``To``,
``CallStatus``, ``ApiVersion``, ``Direction``, ``Caller``, ``Called`` and the geographic
``FromCity`` … ``CalledZip`` (empty when unknown, as for a simulated line; country ``US``).
``<Gather>`` adds ``Digits``; ``<Enqueue waitUrl>`` adds the queue's ``QueueSid``,
``QueuePosition``, ``QueueTime``, ``AvgQueueTime``, ``CurrentQueueSize`` and ``MaxQueueSize``.

POSTs go through the dispatcher (same signing, connection reuse and debugger log as TaskRouter's
callbacks); a GET carries the parameters in the query string and is signed over the full URL,
as Twilio does (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
"""

from __future__ import annotations

import http.client
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

from ..dispatch import MAX_ANSWER, USER_AGENT, Delivery, Dispatcher, Outcome
from ..models import Call
from .wire2010 import API_VERSION

TIMEOUT = 15.0  # Twilio's default timeout for a voice webhook
GEO = ("City", "State", "Zip", "Country")


def call_params(call: Call) -> dict[str, str]:
    """What every voice webhook of ``call`` carries."""
    params = {
        "AccountSid": call.account_sid,
        "ApiVersion": API_VERSION,
        "CallSid": call.sid,
        "CallStatus": call.status,
        "Called": call.to or "",
        "Caller": call.from_ or "",
        "Direction": call.direction,
        "From": call.from_ or "",
        "To": call.to or "",
    }
    for who in ("From", "To", "Caller", "Called"):
        for part in GEO:
            params[f"{who}{part}"] = "US" if part == "Country" else ""
    return params


def task_attributes(params: dict[str, str]) -> dict[str, Any]:
    """The call's parameters as ``<Enqueue>`` adds them to a task: ``call_sid``, ``from`` …

    TaskRouter's quickstart shows a task made by ``<Enqueue>`` carrying the call's request
    parameters in snake case next to the ``<Task>`` JSON (``account_sid``, ``api_version``,
    ``call_sid``, ``called``, ``caller``, ``direction``, ``from``, ``to``, ``from_country`` …;
    https://www.twilio.com/docs/taskrouter/quickstart/python/twiml-create-task).
    """
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in ("CallStatus", "Digits"):
            continue
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in key).lstrip("_")
        out[snake] = value
    return out


def fetch(
    dispatcher: Dispatcher,
    token: str,
    call: Call,
    url: str,
    method: str,
    params: dict[str, str],
) -> tuple[Delivery, Outcome]:
    """Request TwiML from ``url``; never raises (failures are in the Outcome)."""
    delivery = Delivery(
        kind="voice",
        workspace_sid=call.workspace_sid,
        account_sid=call.account_sid,
        url=url,
        params=params,
        auth_token=token,
    )
    if method.upper() != "GET":
        return delivery, dispatcher.post(delivery, TIMEOUT)
    return delivery, _get(delivery)


def _get(delivery: Delivery) -> Outcome:
    parts = urlsplit(delivery.url)
    query = "&".join(q for q in (parts.query, urlencode(delivery.params)) if q)
    full = parts._replace(query=query).geturl()
    signature = RequestValidator(delivery.auth_token).compute_signature(full, {})
    started = time.perf_counter()
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    try:
        connection = cls(parts.netloc, timeout=TIMEOUT)
        try:
            connection.request(
                "GET",
                f"{parts.path or '/'}?{query}",
                headers={
                    "X-Twilio-Signature": signature,
                    "User-Agent": USER_AGENT,
                    "Accept": "*/*",
                },
            )
            response = connection.getresponse()
            body = response.read(MAX_ANSWER)
            return Outcome(
                response.status,
                response.getheader("Content-Type") or "",
                body,
                (time.perf_counter() - started) * 1000,
            )
        finally:
            connection.close()
    except (OSError, http.client.HTTPException, ValueError) as error:
        return Outcome(
            error=f"{type(error).__name__}: {error}",
            latency_ms=(time.perf_counter() - started) * 1000,
        )
