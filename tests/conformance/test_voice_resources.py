"""The voice side's 2010 resources through the real SDK, checked against Twilio's spec subset.

Every response of Calls and IncomingPhoneNumbers the SDK gets is validated against
``spec/twilio_api_v2010_calls_numbers.json`` with every declared property present, RFC 2822
dates and relative ``uri``s (``spec.validate``). Paging is followed by the SDK itself
(``next_page_uri`` made absolute on api.twilio.com, which the guard lets through).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException

from tests.support.receiver import Receiver
from tests.support.sandbox import SandboxProcess

from . import spec
from .recorder import Exchange, recording_client

EXPECTED = {
    "ListCall", "FetchCall", "UpdateCall", "DeleteCall",
    "ListIncomingPhoneNumber", "FetchIncomingPhoneNumber", "UpdateIncomingPhoneNumber",
}  # fmt: skip
NOT_SIMULATED = {"CreateCall", "CreateIncomingPhoneNumber", "DeleteIncomingPhoneNumber"}


def voice_operation(exchange: Exchange) -> str | None:
    for operation_id, method, template in spec.voice_operations():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
        if method == exchange.method and re.fullmatch(pattern, exchange.path):
            return operation_id
    return None


@pytest.fixture
def app(sandbox: SandboxProcess) -> Iterator[Receiver]:
    server = Receiver(sandbox.auth_token)
    server.answer("/short", body="<Response><Say>Hello</Say></Response>",
                  content_type="application/xml")  # fmt: skip
    server.answer("/menu", body='<Response><Gather numDigits="1"><Say>Press 1</Say></Gather>'
                  "</Response>", content_type="application/xml")  # fmt: skip
    yield server
    server.close()


def test_calls_and_numbers_match_the_spec(sandbox: SandboxProcess, app: Receiver) -> None:
    recorded = recording_client(sandbox.url, sandbox.account_sid, sandbox.auth_token)
    client = recorded.client
    (number,) = client.incoming_phone_numbers.list()
    assert number.phone_number.startswith("+1415555") and number.voice_url == ""
    client.incoming_phone_numbers(number.sid).fetch()
    client.incoming_phone_numbers(number.sid).update(
        voice_url=app.url("/short"), voice_method="POST"
    )
    assert client.incoming_phone_numbers.list(phone_number=number.phone_number)[0].sid == number.sid
    sandbox.advance(3)
    ended = sandbox.control("POST", "/_sandbox/calls", {"From": "+15551230000"})
    client.incoming_phone_numbers(number.sid).update(voice_url=app.url("/menu"))
    waiting = sandbox.control("POST", "/_sandbox/calls", {"From": "+15551230001"})
    third = sandbox.control("POST", "/_sandbox/calls", {"From": "+15551230002"})

    calls = client.calls.list(page_size=1)  # three pages, followed by the SDK
    assert [c.sid for c in calls] == [third["sid"], waiting["sid"], ended["sid"]]
    fetched = client.calls(ended["sid"]).fetch()
    assert fetched.status == "completed" and fetched.duration == "0"
    assert fetched.start_time is not None and fetched.date_created.tzinfo is not None
    assert client.calls.list(status="in-progress", from_="+15551230001")[0].sid == waiting["sid"]
    assert client.calls(waiting["sid"]).update(status="completed").status == "completed"
    assert client.calls(ended["sid"]).delete() is True
    with pytest.raises(TwilioRestException) as info:
        client.calls(third["sid"]).delete()
    assert info.value.status == 400 and "end it" in info.value.msg
    for refused in (
        lambda: client.calls.create(to="+15550001111", from_=number.phone_number, url=app.url("/")),
        lambda: client.incoming_phone_numbers.create(phone_number="+15550001111"),
        lambda: client.incoming_phone_numbers(number.sid).delete(),
    ):
        with pytest.raises(TwilioRestException) as info:
            refused()
        assert info.value.status == 400 and "not simulated" in info.value.msg

    validated: set[str] = set()
    for exchange in recorded.exchanges:
        operation_id = voice_operation(exchange)
        assert operation_id is not None, exchange.describe()
        if operation_id in NOT_SIMULATED or exchange.status >= 400:
            continue
        assert exchange.status == spec.success_status(operation_id), exchange.describe()
        spec.validate(operation_id, exchange.body)
        validated.add(operation_id)
    assert validated == EXPECTED


def test_another_accounts_calls_are_not_found(sandbox: SandboxProcess) -> None:
    client = sandbox.client()
    other = "AC" + "f" * 32
    with pytest.raises(TwilioRestException) as info:
        client.api.v2010.accounts(other).calls("CA" + "0" * 32).fetch()
    assert info.value.status == 404
    with pytest.raises(TwilioException, match="20404"):
        client.api.v2010.accounts(other).calls.list()
