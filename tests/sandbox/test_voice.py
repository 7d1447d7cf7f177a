"""Tasks from phone calls: TwiML <Gather>, <Enqueue>, dequeue to the worker, through the real SDK.

The learner's app is a real Flask server (``Receiver``) whose voice routes build TwiML with
``twilio.twiml.voice_response.VoiceResponse``, as in Twilio's quickstart part 3; the simulated
caller is driven through the control plane; calls and numbers are read through the SDK.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio.twiml.voice_response import Gather, VoiceResponse

from tests.support.receiver import Receiver
from tests.support.sandbox import SandboxProcess
from tests.support.scenario import Quickstart, build_quickstart, eventually

CALLER = "+15551230000"
ALICE_PHONE = "+15555555555"
BOB_PHONE = "+15555550002"
XML = "application/xml"


@pytest.fixture
def app(sandbox: SandboxProcess) -> Iterator[Receiver]:
    server = Receiver(sandbox.auth_token)
    yield server
    server.close()


def incoming_call(form: dict[str, str]) -> str:
    response = VoiceResponse()
    gather = Gather(num_digits=1, action="/enqueue_call", method="POST", timeout=5)
    gather.say("Para Español oprime el uno.", language="es")
    gather.say("For English, please hold or press two.", language="en")
    response.append(gather)
    return str(response)


def enqueue_call(workflow_sid: str) -> Any:
    def route(form: dict[str, str]) -> str:
        language = "es" if form.get("Digits") == "1" else "en"
        response = VoiceResponse()
        with response.enqueue(None, workflow_sid=workflow_sid) as enqueue:
            enqueue.task(json.dumps({"selected_language": language}), priority=5, timeout=3600)
        return str(response)

    return route


@pytest.fixture
def qs(client: Client, app: Receiver) -> Quickstart:
    """The quickstart workspace, its number's voice URL pointed at the app, the app's routes."""
    qs = build_quickstart(client, app.url("/assignment"))
    wrap_up = qs.activities["WrapUp"]
    app.answer("/incoming_call", body=incoming_call, content_type=XML)
    app.answer("/enqueue_call", body=enqueue_call(qs.workflow_sid), content_type=XML)
    app.answer("/assignment", body={"instruction": "dequeue", "from": "+15556667777",
                                    "post_work_activity_sid": wrap_up})  # fmt: skip
    (number,) = client.incoming_phone_numbers.list()
    client.incoming_phone_numbers(number.sid).update(
        voice_url=app.url("/incoming_call"), voice_method="POST"
    )
    return qs


def call_in(sandbox: SandboxProcess) -> dict[str, Any]:
    return dict(sandbox.control("POST", "/_sandbox/calls", {"From": CALLER}))


def press(sandbox: SandboxProcess, call_sid: str, digits: str) -> dict[str, Any]:
    return dict(sandbox.control("POST", f"/_sandbox/calls/{call_sid}", {"Digits": digits}))


def heard(call: dict[str, Any]) -> list[str]:
    return [e["text"] for e in call["log"] if e["kind"] in ("say", "play", "pause", "hold")]


def the_task(qs: Quickstart) -> Any:
    (task,) = eventually(lambda: qs.ws.tasks.list(), lambda tasks: len(tasks) == 1)
    return task


def status_of(qs: Quickstart, sid: str, wanted: str) -> Any:
    return eventually(lambda: qs.task(sid), lambda t: t.assignment_status == wanted)


def test_quickstart_gather_enqueue_dequeue_bridged(
    client: Client, sandbox: SandboxProcess, qs: Quickstart, app: Receiver
) -> None:
    call = call_in(sandbox)
    assert call["status"] == "in-progress" and call["waiting_for"] == "gather"
    assert heard(call) == ["Para Español oprime el uno. [es]",
                           "For English, please hold or press two. [en]"]  # fmt: skip
    call = press(sandbox, call["sid"], "1")
    assert call["waiting_for"] == "enqueue" and heard(call)[-1] == "♪ hold music"
    task = the_task(qs)
    attributes = json.loads(task.attributes)
    (number,) = client.incoming_phone_numbers.list()
    assert attributes["selected_language"] == "es"
    assert (
        attributes["call_sid"] == call["sid"] and attributes["account_sid"] == sandbox.account_sid
    )
    assert attributes["from"] == attributes["caller"] == CALLER
    assert attributes["to"] == attributes["called"] == number.phone_number
    assert attributes["direction"] == "inbound" and attributes["api_version"] == "2010-04-01"
    assert task.assignment_status == "pending" and task.priority == 5 and task.timeout == 3600
    assert task.task_queue_friendly_name == "Customer Care Requests - Spanish"
    assert task.task_channel_unique_name == "voice"

    qs.set_activity("Alice", "Idle")
    assigned = status_of(qs, task.sid, "assigned")
    assert qs.worker("Alice").activity_name == "Busy"
    worker_leg_sid = json.loads(assigned.attributes)["worker_call_sid"]
    leg = client.calls(worker_leg_sid).fetch()
    assert (leg.status, leg.to, leg._from) == ("in-progress", ALICE_PHONE, "+15556667777")
    caller = client.calls(call["sid"]).fetch()
    assert caller.status == "in-progress" and caller.direction == "inbound"

    sandbox.advance(42)
    client.calls(call["sid"]).update(status="completed")  # the caller hangs up
    caller, leg = client.calls(call["sid"]).fetch(), client.calls(worker_leg_sid).fetch()
    assert (caller.status, leg.status) == ("completed", "completed")
    assert leg.duration == "42" and int(caller.duration) >= 42
    assert qs.worker("Alice").activity_name == "WrapUp"
    assert qs.task(task.sid).assignment_status == "assigned"  # until completed, as on Twilio
    assert {c.sid for c in client.calls.list()} == {call["sid"], worker_leg_sid}
    voice = [r for r in app.received if r.path != "/assignment"]
    assert [r.path for r in voice] == ["/incoming_call", "/enqueue_call"]
    assert all(r.signature_valid for r in app.received), "every webhook is signed like Twilio's"
    assert voice[0].form["CallStatus"] == "ringing" and voice[1].form["Digits"] == "1"
    for name in ("CallSid", "AccountSid", "From", "To", "Caller", "Called", "Direction",
                 "ApiVersion", "FromCountry", "CalledZip"):  # fmt: skip
        assert name in voice[0].form


def test_another_digit_goes_to_the_english_queue_and_bob(
    client: Client, sandbox: SandboxProcess, qs: Quickstart
) -> None:
    bob = qs.workers["Bob"]
    qs.ws.workers(bob).update(
        attributes=json.dumps({"languages": ["en"], "contact_uri": BOB_PHONE})
    )
    call = call_in(sandbox)
    press(sandbox, call["sid"], "2")
    task = the_task(qs)
    assert json.loads(task.attributes)["selected_language"] == "en"
    qs.set_activity("Bob", "Idle")
    assigned = status_of(qs, task.sid, "assigned")
    leg = client.calls(json.loads(assigned.attributes)["worker_call_sid"]).fetch()
    assert leg.to == BOB_PHONE and qs.worker("Bob").activity_name == "Busy"
    caller = sandbox.control("GET", "/_sandbox/calls")["calls"][0]
    assert caller["bridged_call_sid"] == leg.sid
    assert (caller["log"][-1]["kind"], caller["log"][-1]["text"]) == (
        "bridge",
        f"connected to {BOB_PHONE}",
    )


def test_caller_hangs_up_while_queued_cancels_the_task(
    client: Client, sandbox: SandboxProcess, qs: Quickstart
) -> None:
    call = call_in(sandbox)
    press(sandbox, call["sid"], "1")
    task = the_task(qs)
    sandbox.advance(7)
    ended = sandbox.control("POST", f"/_sandbox/calls/{call['sid']}", {"Status": "completed"})
    assert ended["status"] == "completed"
    canceled = qs.task(task.sid)
    assert (canceled.assignment_status, canceled.reason) == ("canceled", "hangup")
    assert client.calls(call["sid"]).fetch().duration == "7"
    qs.set_activity("Alice", "Idle")
    assert qs.worker("Alice").activity_name == "Idle"  # nothing left to reserve her for


def test_caller_hangs_up_while_alice_rings(sandbox: SandboxProcess, qs: Quickstart) -> None:
    sandbox.control("POST", "/_sandbox/phones", {"Number": ALICE_PHONE, "AnswerAfter": "20"})
    call = call_in(sandbox)
    press(sandbox, call["sid"], "1")
    task = the_task(qs)
    qs.set_activity("Alice", "Idle")
    status_of(qs, task.sid, "reserved")
    leg = eventually(lambda: sandbox.control("GET", "/_sandbox/calls")["calls"],
                     lambda calls: len(calls) == 2)[1]  # fmt: skip
    assert leg["status"] == "ringing"
    sandbox.control("POST", f"/_sandbox/calls/{call['sid']}", {"Status": "completed"})
    assert qs.task(task.sid).reason == "hangup"
    calls = sandbox.control("GET", "/_sandbox/calls")["calls"]
    assert [c["status"] for c in calls] == ["completed", "canceled"]
    assert qs.reservations(task.sid)[0].reservation_status == "canceled"


def test_alice_answers_after_a_delay(
    client: Client, sandbox: SandboxProcess, qs: Quickstart
) -> None:
    sandbox.control("POST", "/_sandbox/phones", {"Number": ALICE_PHONE, "AnswerAfter": "5"})
    call = call_in(sandbox)
    press(sandbox, call["sid"], "1")
    task = the_task(qs)
    qs.set_activity("Alice", "Idle")
    status_of(qs, task.sid, "reserved")
    (leg,) = eventually(lambda: client.calls.list(to=ALICE_PHONE), bool)
    assert leg.status == "ringing" and qs.worker("Alice").activity_name == "Reserved"
    sandbox.advance(5)
    assert qs.task(task.sid).assignment_status == "assigned"
    assert client.calls(leg.sid).fetch().status == "in-progress"
    assert client.calls(call["sid"]).fetch().status == "in-progress"


def test_alice_does_not_answer_the_reservation_times_out(
    client: Client, sandbox: SandboxProcess, qs: Quickstart
) -> None:
    sandbox.control("POST", "/_sandbox/phones", {"Number": ALICE_PHONE, "AnswerAfter": "never"})
    call = call_in(sandbox)
    press(sandbox, call["sid"], "1")
    task = the_task(qs)
    qs.set_activity("Alice", "Idle")
    status_of(qs, task.sid, "reserved")
    (leg,) = eventually(lambda: client.calls.list(to=ALICE_PHONE), bool)
    sandbox.advance(60)  # the dequeue's ring timeout (Twilio's default)
    leg = client.calls(leg.sid).fetch()
    assert (leg.status, leg.duration) == ("no-answer", "0")
    assert qs.reservations(task.sid)[0].reservation_status == "pending"
    sandbox.advance(60)  # the workflow's reservation timeout (120 s)
    assert qs.reservations(task.sid)[0].reservation_status == "timeout"
    assert qs.task(task.sid).assignment_status == "pending"
    assert qs.worker("Alice").activity_name == "Offline"  # the workspace's timeout activity
    assert client.calls(call["sid"]).fetch().status == "in-progress"  # still queued


def test_a_busy_phone(client: Client, sandbox: SandboxProcess, qs: Quickstart) -> None:
    sandbox.control("POST", "/_sandbox/phones", {"Number": ALICE_PHONE, "AnswerAfter": "busy"})
    call = call_in(sandbox)
    press(sandbox, call["sid"], "1")
    task = the_task(qs)
    qs.set_activity("Alice", "Idle")
    (leg,) = eventually(lambda: client.calls.list(to=ALICE_PHONE), bool)
    assert leg.status == "busy" and qs.task(task.sid).assignment_status == "reserved"


def test_play_pause_redirect_and_wait_url(
    client: Client, sandbox: SandboxProcess, qs: Quickstart, app: Receiver
) -> None:
    first = VoiceResponse()
    first.play("https://example.com/welcome.mp3")
    first.pause(length=2)
    first.redirect("/second")
    second = VoiceResponse()
    second.enqueue(None, workflow_sid=qs.workflow_sid, wait_url="/wait").task(
        json.dumps({"selected_language": "es"})
    )
    wait = VoiceResponse()
    wait.say("Please hold, an agent will be with you shortly.")
    app.answer("/incoming_call", body=str(first), content_type=XML)
    app.answer("/second", body=str(second), content_type=XML)
    app.answer("/wait", body=str(wait), content_type=XML)
    call = call_in(sandbox)
    assert heard(call) == ["♪ https://example.com/welcome.mp3", "(2 s of silence)",
                           "Please hold, an agent will be with you shortly."]  # fmt: skip
    wait_request = app.requests("/wait")[0]
    assert wait_request.signature_valid and wait_request.form["QueuePosition"] == "1"
    assert the_task(qs).assignment_status == "pending"


def enqueue_with_action(workflow_sid: str) -> str:
    response = VoiceResponse()
    response.enqueue(None, workflow_sid=workflow_sid, action="/after").task(
        json.dumps({"selected_language": "es"})
    )
    return str(response)


def test_enqueue_action_when_the_worker_hangs_up_first(
    client: Client, sandbox: SandboxProcess, qs: Quickstart, app: Receiver
) -> None:
    app.answer("/incoming_call", body=enqueue_with_action(qs.workflow_sid), content_type=XML)
    app.answer("/after", body="<Response><Say>Thanks for calling</Say></Response>",
               content_type=XML)  # fmt: skip
    call = call_in(sandbox)
    task = the_task(qs)
    sandbox.advance(4)
    qs.set_activity("Alice", "Idle")
    assigned = status_of(qs, task.sid, "assigned")
    leg_sid = json.loads(assigned.attributes)["worker_call_sid"]
    sandbox.control("POST", f"/_sandbox/calls/{leg_sid}", {"Status": "completed"})  # Alice
    (after,) = app.requests("/after")
    assert after.form["QueueResult"] == "bridged" and after.form["QueueTime"] == "4"
    assert after.signature_valid
    caller = client.calls(call["sid"]).fetch()
    assert caller.status == "completed"
    log = sandbox.control("GET", "/_sandbox/calls")["calls"][0]["log"]
    assert [e["text"] for e in log if e["kind"] == "say"] == ["Thanks for calling"]
    assert qs.worker("Alice").activity_name == "WrapUp"


def test_enqueue_action_when_the_caller_hangs_up_in_the_queue(
    sandbox: SandboxProcess, qs: Quickstart, app: Receiver
) -> None:
    app.answer("/incoming_call", body=enqueue_with_action(qs.workflow_sid), content_type=XML)
    app.answer("/after", body="<Response><Say>nobody hears this</Say></Response>",
               content_type=XML)  # fmt: skip
    call = call_in(sandbox)
    task = the_task(qs)
    sandbox.advance(9)
    sandbox.control("POST", f"/_sandbox/calls/{call['sid']}", {"Status": "completed"})
    (after,) = app.requests("/after")
    assert (after.form["QueueResult"], after.form["QueueTime"]) == ("hangup", "9")
    assert after.form["CallStatus"] == "completed"
    assert qs.task(task.sid).reason == "hangup"
    log = sandbox.control("GET", "/_sandbox/calls")["calls"][0]["log"]
    assert "nobody hears this" not in json.dumps(log)


def test_hangup_verb_and_the_end_of_the_document(
    client: Client, sandbox: SandboxProcess, qs: Quickstart, app: Receiver
) -> None:
    response = VoiceResponse()
    response.say("Goodbye")
    response.hangup()
    response.say("never heard")
    app.answer("/incoming_call", body=str(response), content_type=XML)
    call = call_in(sandbox)
    assert call["status"] == "completed" and heard(call) == ["Goodbye"]
    app.answer("/incoming_call", body="<Response><Say>Bye</Say></Response>", content_type=XML)
    assert call_in(sandbox)["status"] == "completed"
    assert [c.status for c in client.calls.list()] == ["completed", "completed"]


def test_no_input_at_gather_goes_on_with_the_next_verb(
    sandbox: SandboxProcess, qs: Quickstart, app: Receiver
) -> None:
    response = VoiceResponse()
    response.gather(num_digits=1, action="/enqueue_call").say("Press one")
    response.say("We did not get your choice.")
    app.answer("/incoming_call", body=str(response), content_type=XML)
    call = press(sandbox, call_in(sandbox)["sid"], "")
    assert heard(call)[-1] == "We did not get your choice." and call["status"] == "completed"
    assert app.requests("/enqueue_call") == []


BAD_TWIML = [
    ("<Response><Say>unclosed</Response>", 12100, "error"),
    ('<?xml version="1.0"?><Say>no root</Say>', 12100, "error"),
    ("Hello there", 12100, "error"),
    ("<Response><say>lower case</say><Say>still runs</Say></Response>", 12200, "warning"),
    ("<Response><Dial>+15550001111</Dial><Say>still runs</Say></Response>", 12200, "warning"),
]


@pytest.mark.parametrize(("body", "code", "level"), BAD_TWIML)
def test_bad_twiml_gives_twilios_debugger_codes(
    sandbox: SandboxProcess, qs: Quickstart, app: Receiver, body: str, code: int, level: str
) -> None:
    app.answer("/incoming_call", body=body, content_type=XML)
    call = call_in(sandbox)
    entries = [e for e in sandbox.callbacks() if e["kind"] == "voice" and e["code"]]
    assert [(e["code"], e["level"]) for e in entries] == [(code, level)]
    assert entries[0]["url"] == app.url("/incoming_call") and entries[0]["message"]
    if level == "error":  # Twilio tells the caller and hangs up
        assert heard(call) == ["We are sorry, an application error has occurred. Goodbye."]
        assert call["status"] == "completed"
    else:  # a warning: the element is skipped, the rest runs
        assert heard(call) == ["still runs"]


@pytest.mark.parametrize(("status", "code"), [(500, 11200), (None, 11205)])
def test_a_failing_voice_url(
    client: Client, sandbox: SandboxProcess, qs: Quickstart, app: Receiver,
    status: int | None, code: int,
) -> None:  # fmt: skip
    if status is None:
        (number,) = client.incoming_phone_numbers.list()
        client.incoming_phone_numbers(number.sid).update(voice_url="http://127.0.0.1:9/nothing")
    else:
        app.answer("/incoming_call", body="oops", status=status, content_type="text/plain")
    call = call_in(sandbox)
    assert call["status"] == "completed"
    assert [e["code"] for e in sandbox.callbacks() if e["kind"] == "voice"] == [code]


def test_gather_digits_are_cut_by_num_digits_and_finish_on_key(
    sandbox: SandboxProcess, qs: Quickstart, app: Receiver
) -> None:
    response = VoiceResponse()
    response.gather(num_digits=2, action="/enqueue_call").say("Two digits")
    app.answer("/incoming_call", body=str(response), content_type=XML)
    press(sandbox, call_in(sandbox)["sid"], "123")
    assert app.requests("/enqueue_call")[-1].form["Digits"] == "12"
    response = VoiceResponse()
    response.gather(action="/enqueue_call", num_digits="x").say("Then hash")
    app.answer("/incoming_call", body=str(response), content_type=XML)
    press(sandbox, call_in(sandbox)["sid"], "42#7")
    assert app.requests("/enqueue_call")[-1].form["Digits"] == "42"
    assert [e["code"] for e in sandbox.callbacks() if e["code"]] == [12200]


def test_enqueue_with_a_bad_task_or_workflow(
    sandbox: SandboxProcess, qs: Quickstart, app: Receiver
) -> None:
    app.answer("/incoming_call", content_type=XML, body=(
        '<Response><Enqueue workflowSid="WW00000000000000000000000000000000"><Task>{}</Task>'
        f'</Enqueue><Enqueue workflowSid="{qs.workflow_sid}"><Task>[1]</Task></Enqueue>'
        "<Say>no task</Say></Response>"
    ))  # fmt: skip
    call = call_in(sandbox)
    assert heard(call) == ["no task"] and qs.ws.tasks.list() == []
    codes = [e["code"] for e in sandbox.callbacks() if e["kind"] == "voice" and e["code"]]
    assert codes == [20001, 12200]


def test_control_plane_refusals(sandbox: SandboxProcess, qs: Quickstart) -> None:
    from taskrouter_sandbox.control_client import ControlError

    with pytest.raises(ControlError, match="How to fix"):
        sandbox.control("POST", "/_sandbox/calls", {"From": CALLER, "To": "+15550009999"})
    call = call_in(sandbox)
    press(sandbox, call["sid"], "1")
    with pytest.raises(ControlError, match="not at a <Gather>"):
        press(sandbox, call["sid"], "1")
    with pytest.raises(ControlError, match="AnswerAfter"):
        sandbox.control("POST", "/_sandbox/phones", {"Number": ALICE_PHONE, "AnswerAfter": "x"})


def test_the_sdk_reaches_only_the_simulated_voice_resources(client: Client) -> None:
    assert client.calls.list() == []
    with pytest.raises(TwilioRestException) as info:
        client.calls.create(to="+15550001111", from_="+15550002222", url="http://example.com")
    assert "not simulated" in info.value.msg
    with pytest.raises(Exception, match="only emulates TaskRouter"):
        client.messages.list()


def test_every_voice_route_needs_the_accounts_credentials(sandbox: SandboxProcess) -> None:
    import base64
    import re

    import requests

    from taskrouter_sandbox.voice import resources

    other = "AC" + "e" * 32
    wrong = "Basic " + base64.b64encode(f"{sandbox.account_sid}:nope".encode()).decode()
    right = (
        "Basic " + base64.b64encode(f"{sandbox.account_sid}:{sandbox.auth_token}".encode()).decode()
    )
    for method, template, _ in resources.routes.table:
        path = re.sub(r"\{(\w+)\}", lambda m: other if m[1] == "AccountSid" else "CA" + "0" * 32,
                      template)  # fmt: skip
        url = f"{sandbox.url}{path}.json"
        assert requests.request(method, url, headers={"Authorization": wrong}).status_code == 401
        # another account's path with this account's credentials: nothing is found
        response = requests.request(method, url, headers={"Authorization": right})
        assert response.status_code == 404, (method, template, response.text)
