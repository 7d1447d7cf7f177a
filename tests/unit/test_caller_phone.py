"""Notebook 05's path from helpers: the learner's Flask voice routes on the CallbackServer, a
simulated caller (``call_in`` / ``press_digits`` / the ``CallerPhone`` widget), ``dequeue``.

A real kit sandbox, a real CallbackServer on loopback, the real SDK; ipywidgets runs without a
kernel (a click is calling the button's handlers).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Response, request
from twilio.twiml.voice_response import Gather, VoiceResponse

import helpers
from helpers.call_timeline import call_lanes
from helpers.config import Settings
from helpers.errors import KitError
from helpers.quickstart import ensure_quickstart
from helpers.server import CallbackServer
from helpers.widgets import CallerPhone
from taskrouter_sandbox import process
from tests.support.sandbox import free_port
from tests.support.scenario import eventually


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    settings = Settings(sandbox_dir=tmp_path / "kit", sandbox_port=free_port())
    yield settings
    process.stop(settings.sandbox_dir)


def voice_routes(workflow_sid: str) -> Flask:
    """What the learner writes in notebook 05."""
    app = Flask("voice")

    @app.post("/incoming_call")
    def incoming_call() -> Response:
        response = VoiceResponse()
        gather = Gather(num_digits=1, action="/enqueue_call", method="POST", timeout=5)
        gather.say("Para Español oprime el uno.", language="es")
        gather.say("For English, please hold or press two.", language="en")
        response.append(gather)
        return Response(str(response), mimetype="application/xml")

    @app.post("/enqueue_call")
    def enqueue_call() -> Response:
        language = "es" if request.form.get("Digits") == "1" else "en"
        response = VoiceResponse()
        with response.enqueue(None, workflow_sid=workflow_sid) as enqueue:
            enqueue.task(json.dumps({"selected_language": language}))
        return Response(str(response), mimetype="application/xml")

    return app


def test_the_caller_widget_dials_presses_and_is_bridged(settings: Settings) -> None:
    client = helpers.connect(settings)
    qs = ensure_quickstart(client)
    creds = process.credentials(settings.sandbox_dir)
    dequeue = {"instruction": "dequeue", "from": "+15556667777",
               "post_work_activity_sid": qs.activities["WrapUp"]}  # fmt: skip
    server = CallbackServer(dequeue, port=0, auth_token=creds.auth_token,
                            app=voice_routes(qs.workflow_sid)).start()  # fmt: skip
    phone = None
    try:
        ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
        ws.workflows(qs.workflow_sid).update(assignment_callback_url=server.assignment_url)
        (number,) = client.incoming_phone_numbers.list()
        client.incoming_phone_numbers(number.sid).update(voice_url=f"{server.url}/incoming_call")
        phone = CallerPhone(client, settings=settings, interval=0.05)
        assert phone.to == number.phone_number and "not calling" in phone.status.value
        phone.dial_button.click()
        assert phone.heard[0] == "Para Español oprime el uno. [es]"
        assert "waiting for digits" in phone.status.value
        next(b for b in phone.key_buttons if b.description == "1").click()
        (task,) = ws.tasks.list()
        assert json.loads(task.attributes)["call_sid"] == phone.call["sid"]
        assert "on hold" in phone.status.value and "hold music" in phone.transcript.value
        ws.workers(qs.workers["Alice"]).update(activity_sid=qs.activities["Idle"])
        eventually(lambda: phone.status.value, lambda v: "connected to the worker" in v)
        assert ws.tasks(task.sid).fetch().assignment_status == "assigned"
        assert any("connected to" in line for line in phone.timeline())
        phone.hang_up_button.click()
        eventually(lambda: phone.status.value, lambda v: "completed" in v)
        assert ws.workers(qs.workers["Alice"]).fetch().activity_name == "WrapUp"
        assert phone.message.value == ""
        lanes = call_lanes(client, ws.tasks(task.sid).fetch(), now=0)
        assert [[label for *_, label in parts] for parts in lanes.values()] == [
            ["ringing", "menu / queue", "talking"],
            ["ringing", "talking"],
        ]
        figure = helpers.plot_call_timeline(client, qs, task.sid)
        assert [ax.get_title() for ax in figure.axes][1] == "the call (Calls resource)"
    finally:
        if phone is not None:
            phone.close()
        server.stop()


def test_text_from_twiml_is_shown_as_text(settings: Settings) -> None:
    client = helpers.connect(settings)
    app = Flask("hostile")

    @app.post("/voice")
    def voice() -> Response:
        response = VoiceResponse()
        response.say("<img src=x onerror=alert(1)>")
        response.gather(num_digits=1).say("wait")
        return Response(str(response), mimetype="text/xml")

    creds = process.credentials(settings.sandbox_dir)
    server = CallbackServer({}, port=0, auth_token=creds.auth_token, app=app).start()
    phone = None
    try:
        (number,) = client.incoming_phone_numbers.list()
        client.incoming_phone_numbers(number.sid).update(voice_url=f"{server.url}/voice")
        phone = CallerPhone(client, settings=settings)
        phone.dial()
        assert "<img" not in phone.transcript.value and "&lt;img" in phone.transcript.value
        phone.hang_up_button.click()
        with pytest.raises(KitError, match="not at a <Gather>"):
            phone.press("1")
        next(b for b in phone.key_buttons if b.description == "1").click()  # a click: a message
        assert "not at a &lt;Gather&gt;" in phone.message.value
    finally:
        if phone is not None:
            phone.close()
        server.stop()


def test_press_before_dialling_says_what_to_do(settings: Settings) -> None:
    client = helpers.connect(settings)
    phone = CallerPhone(client, settings=settings)
    try:
        next(b for b in phone.key_buttons if b.description == "5").click()
        assert "Call" in phone.message.value and "first" in phone.message.value
    finally:
        phone.close()


def test_live_mode_has_no_simulated_caller() -> None:
    live = Settings(mode="live", account_sid="AC" + "1" * 32, auth_token="x" * 32)
    with pytest.raises(KitError, match="call your Twilio number from a phone"):
        helpers.call_in(settings=live)
