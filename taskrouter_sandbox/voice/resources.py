"""``/2010-04-01/Accounts/{AccountSid}/Calls`` and ``IncomingPhoneNumbers``, Twilio's wire format.

Every property of ``spec/twilio_api_v2010_calls_numbers.json``'s schemas is present (``null``
when the sandbox has nothing to say, e.g. ``price``). What the sandbox supports:

* Calls: list (filters ``To``, ``From``, ``Status``, ``ParentCallSid``), fetch, update with
  ``Status=completed`` (hang up an answered call) or ``Status=canceled`` (a ringing one), delete
  an ended call. Creating outbound calls is not simulated.
* IncomingPhoneNumbers: list (filters ``PhoneNumber``, ``FriendlyName``), fetch, update of the
  voice and status-callback settings and the friendly name. Buying or releasing numbers is not
  simulated: each account has its number.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..api_errors import ApiError, BadRequest, NotFound
from ..models import Call, PhoneNumber, touch
from ..router import Context, Response, Routes, no_content, ok
from . import calls, numbers, wire2010

routes = Routes()
ACCOUNT = "/2010-04-01/Accounts/{AccountSid}"
METHODS = ("GET", "POST")


class NotSimulated(ApiError):
    code = 20001
    status = 400


def _account(ctx: Context, account_sid: str) -> str:
    if account_sid != ctx.request.account_sid:
        raise NotFound(ctx.request.path)
    return account_sid


def _uri(account_sid: str, *parts: str) -> str:
    return "/".join((wire2010.account_path(account_sid), *parts)) + ".json"


def render_call(call: Call) -> dict[str, Any]:
    duration = None
    if call.end_time is not None:
        duration = str(int(call.end_time - call.start_time)) if call.start_time else "0"
    base = f"{wire2010.account_path(call.account_sid)}/Calls/{call.sid}"
    return {
        "sid": call.sid,
        "date_created": wire2010.rfc2822(call.date_created),
        "date_updated": wire2010.rfc2822(call.date_updated),
        "parent_call_sid": None,
        "account_sid": call.account_sid,
        "to": call.to,
        "to_formatted": wire2010.formatted(call.to),
        "from": call.from_,
        "from_formatted": wire2010.formatted(call.from_),
        "phone_number_sid": call.phone_number_sid,
        "status": call.status,
        "start_time": wire2010.rfc2822(call.start_time),
        "end_time": wire2010.rfc2822(call.end_time),
        "duration": duration,
        "price": None,
        "price_unit": "USD",
        "direction": call.direction,
        "answered_by": None,
        "api_version": wire2010.API_VERSION,
        "forwarded_from": None,
        "group_sid": None,
        "caller_name": None,
        "queue_time": "0",
        "trunk_sid": None,
        "uri": f"{base}.json",
        "subresource_uris": {
            name: f"{base}/{name.title().replace('_', '')}.json"
            for name in (
                "notifications",
                "recordings",
                "payments",
                "events",
                "siprec",
                "streams",
                "transcriptions",
                "user_defined_message_subscriptions",
                "user_defined_messages",
            )
        },
    }


def render_number(number: PhoneNumber) -> dict[str, Any]:
    return {
        "account_sid": number.account_sid,
        "address_sid": None,
        "address_requirements": "none",
        "api_version": wire2010.API_VERSION,
        "beta": False,
        "capabilities": {"voice": True, "sms": False, "mms": False, "fax": False},
        "date_created": wire2010.rfc2822(number.date_created),
        "date_updated": wire2010.rfc2822(number.date_updated),
        "friendly_name": number.friendly_name,
        "identity_sid": None,
        "phone_number": number.phone_number,
        "origin": "twilio",
        "sid": number.sid,
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": "POST",
        "sms_url": "",
        "status_callback": number.status_callback or "",
        "status_callback_method": number.status_callback_method,
        "trunk_sid": None,
        "uri": _uri(number.account_sid, "IncomingPhoneNumbers", number.sid),
        "voice_receive_mode": "voice",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": number.voice_fallback_method,
        "voice_fallback_url": number.voice_fallback_url or "",
        "voice_method": number.voice_method,
        "voice_url": number.voice_url or "",
        "emergency_status": "Inactive",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "bundle_sid": None,
        "status": "in-use",
        "type": "local",
    }


def _page(ctx: Context, key: str, path: str, records: list[Any], render: Any) -> Response:
    size, offset = ctx.query.paging()
    chunk = [render(r) for r in records[offset : offset + size]]
    return ok(wire2010.page(key, path, chunk, len(records), size, offset, ctx.request.query))


# -- Calls ---------------------------------------------------------------------------------


@routes.get(f"{ACCOUNT}/Calls")
def list_calls(ctx: Context, AccountSid: str) -> Response:
    account = _account(ctx, AccountSid)
    q = ctx.query
    wanted = {"to": q.text("To"), "from_": q.text("From"), "status": q.text("Status")}
    if q.text("ParentCallSid") is not None:
        return _page(ctx, "calls", f"{wire2010.account_path(account)}/Calls", [], render_call)
    records = [
        c
        for c in ctx.store.group(Call, "account_sid", account).values()
        if all(v is None or getattr(c, k) == v for k, v in wanted.items())
    ]
    records.reverse()  # newest first, as Twilio lists calls
    return _page(ctx, "calls", f"{wire2010.account_path(account)}/Calls", records, render_call)


def _call(ctx: Context, account: str, sid: str) -> Call:
    call = ctx.store.get(sid, Call)
    if not isinstance(call, Call) or call.account_sid != account:
        raise NotFound(ctx.request.path)
    return call


@routes.get(f"{ACCOUNT}/Calls/{{Sid}}")
def fetch_call(ctx: Context, AccountSid: str, Sid: str) -> Response:
    return ok(render_call(_call(ctx, _account(ctx, AccountSid), Sid)))


@routes.post(f"{ACCOUNT}/Calls/{{Sid}}")
def update_call(ctx: Context, AccountSid: str, Sid: str) -> Response:
    account = _account(ctx, AccountSid)
    status = ctx.params.enum("Status", ("completed", "canceled"))
    if any(name in ctx.params for name in ("Url", "Twiml")):
        raise NotSimulated(
            "Redirecting a live call to new TwiML is not simulated by the sandbox"
            "\n  How to fix: end it with Status=completed, or use live mode"
        )
    call = _call(ctx, account, Sid)
    if status is not None:
        if status == "canceled" and call.status not in ("queued", "ringing"):
            return ok(render_call(call))  # Twilio: canceled only affects queued/ringing calls
        call = ctx.sandbox.voice.hang_up(account, Sid, "the API (Status update)")
    return ok(render_call(call))


@routes.delete(f"{ACCOUNT}/Calls/{{Sid}}")
def delete_call(ctx: Context, AccountSid: str, Sid: str) -> Response:
    account = _account(ctx, AccountSid)
    with ctx.transaction() as tx:
        call = _call(ctx, account, Sid)
        if call.status not in calls.ENDED:
            raise BadRequest(f"Call {Sid} is {call.status}; end it before deleting its record")
        tx.delete(call)
    return no_content()


@routes.post(f"{ACCOUNT}/Calls")
def create_call(ctx: Context, AccountSid: str) -> Response:
    _account(ctx, AccountSid)
    raise NotSimulated(
        "Outbound calls from the API are not simulated by the sandbox\n  How to "
        "fix: simulate a caller with helpers.call_in() / POST /_sandbox/calls, "
        "or use live mode"
    )


# -- IncomingPhoneNumbers ------------------------------------------------------------------


@routes.get(f"{ACCOUNT}/IncomingPhoneNumbers")
def list_numbers(ctx: Context, AccountSid: str) -> Response:
    account = _account(ctx, AccountSid)
    phone, name = ctx.query.text("PhoneNumber"), ctx.query.text("FriendlyName")
    with ctx.transaction() as tx:
        records = numbers.ensure_number(tx, account, ctx.now())
    records = [r for r in records if phone is None or phone in r.phone_number]
    records = [r for r in records if name is None or r.friendly_name == name]
    path = f"{wire2010.account_path(account)}/IncomingPhoneNumbers"
    return _page(ctx, "incoming_phone_numbers", path, records, render_number)


def _number(ctx: Context, account: str, sid: str, tx: Any) -> PhoneNumber:
    numbers.ensure_number(tx, account, ctx.now())
    record = tx.get(sid, PhoneNumber)
    if not isinstance(record, PhoneNumber) or record.account_sid != account:
        raise NotFound(ctx.request.path)
    return record


@routes.get(f"{ACCOUNT}/IncomingPhoneNumbers/{{Sid}}")
def fetch_number(ctx: Context, AccountSid: str, Sid: str) -> Response:
    account = _account(ctx, AccountSid)
    with ctx.transaction() as tx:
        return ok(render_number(_number(ctx, account, Sid, tx)))


URL_FIELDS = {
    "VoiceUrl": "voice_url",
    "VoiceFallbackUrl": "voice_fallback_url",
    "StatusCallback": "status_callback",
}
METHOD_FIELDS = {
    "VoiceMethod": "voice_method",
    "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallbackMethod": "status_callback_method",
}


@routes.post(f"{ACCOUNT}/IncomingPhoneNumbers/{{Sid}}")
def update_number(ctx: Context, AccountSid: str, Sid: str) -> Response:
    account = _account(ctx, AccountSid)
    p = ctx.params
    changes: dict[str, Any] = {}
    for param, field in URL_FIELDS.items():
        value = p.text(param, max_len=4096)
        if value is not None:
            parts = urlsplit(value)
            if value and (parts.scheme not in ("http", "https") or not parts.netloc):
                raise BadRequest(
                    f"{param} must be an absolute http(s) URL, got {value!r}\n"
                    "  How to fix: pass the full URL of your app's route, e.g. "
                    "http://127.0.0.1:5000/incoming_call"
                )
            changes[field] = value or None
    for param, field in METHOD_FIELDS.items():
        value = p.text(param)
        if value is not None:
            if value.upper() not in METHODS:
                raise BadRequest(f"{param} must be GET or POST, got {value!r}")
            changes[field] = value.upper()
    name = p.text("FriendlyName", max_len=64)
    if name is not None:
        changes["friendly_name"] = name
    with ctx.transaction() as tx:
        record = _number(ctx, account, Sid, tx)
        if changes:
            record = tx.put(touch(record, ctx.now(), **changes))
        return ok(render_number(record))


@routes.post(f"{ACCOUNT}/IncomingPhoneNumbers")
def create_number(ctx: Context, AccountSid: str) -> Response:
    _account(ctx, AccountSid)
    raise NotSimulated(
        "Buying numbers is not simulated: each sandbox account has its number\n"
        "  How to fix: client.incoming_phone_numbers.list() and update that one"
    )


@routes.delete(f"{ACCOUNT}/IncomingPhoneNumbers/{{Sid}}")
def delete_number(ctx: Context, AccountSid: str, Sid: str) -> Response:
    _account(ctx, AccountSid)
    raise NotSimulated(
        "Releasing the sandbox's number is not simulated\n  How to fix: point "
        "its voice_url elsewhere with an update instead"
    )
