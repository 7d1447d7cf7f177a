"""Callback URLs with credentials (issue 19, defect 12): ``http://user:pw@host/…`` is how
Twilio's docs protect a callback with HTTP Basic auth. Twilio calls ``host`` with
``Authorization: Basic`` and signs the URL without the credentials
(twilio.com/docs/usage/security, "HTTP authentication" and "Notes"); the sandbox used to
resolve ``user:pw@host`` as a host name (11205)."""

from __future__ import annotations

import base64
import json

import pytest
from twilio.rest import Client

from taskrouter_sandbox import urls
from tests.support.receiver import Receiver
from tests.support.sandbox import SandboxProcess
from tests.support.scenario import build_quickstart, eventually


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def with_credentials(url: str, user: str = "learner", password: str = "s3cr:t@x") -> str:
    """``url`` with percent-encoded credentials in it."""
    quoted = password.replace("%", "%25").replace(":", "%3A").replace("@", "%40")
    return url.replace("http://", f"http://{user}:{quoted}@", 1)


def expected_header(user: str = "learner", password: str = "s3cr:t@x") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_assignment_and_event_callbacks_to_urls_with_credentials_use_basic_auth(
    client: Client, sandbox: SandboxProcess
) -> None:
    receiver = Receiver(sandbox.auth_token)
    try:
        receiver.answer("/assignment", body={"instruction": "accept"})
        qs = build_quickstart(
            client,
            with_credentials(receiver.url("/assignment")),
            events_url=with_credentials(receiver.url("/events")),
        )
        qs.set_activity("Alice", "Idle")
        task = qs.create_task(selected_language="es")
        (call,) = receiver.wait_for("/assignment")
        assert call.authorization == expected_header()
        assert call.signature_valid  # signed over the URL without the credentials
        eventually(lambda: qs.task(task.sid).assignment_status, "assigned".__eq__)
        events = receiver.wait_for("/events")
        assert all(e.authorization == expected_header() and e.signature_valid for e in events)
        log = sandbox.control("GET", "/_sandbox/callbacks")["callbacks"]
        assert log and all("s3cr" not in json.dumps(entry) for entry in log)
        assert any(entry["url"].startswith("http://learner:***@") for entry in log)
        assert not [e for e in log if e["code"] in (11205, 20500)], log
        stored = qs.ws.workflows(qs.workflow_sid).fetch().assignment_callback_url
        assert stored == with_credentials(receiver.url("/assignment"))  # as given, like Twilio
    finally:
        receiver.close()


def test_urls_without_credentials_send_no_authorization(
    client: Client, sandbox: SandboxProcess
) -> None:
    receiver = Receiver(sandbox.auth_token)
    try:
        receiver.answer("/assignment", body={})
        qs = build_quickstart(client, receiver.url("/assignment"))
        qs.set_activity("Alice", "Idle")
        qs.create_task(selected_language="es")
        (call,) = receiver.wait_for("/assignment")
        assert call.authorization is None and call.signature_valid
    finally:
        receiver.close()


@pytest.mark.parametrize(
    ("url", "netloc", "signed", "authorization"),
    [
        ("http://h:5050/a?b=1", "h:5050", "http://h:5050/a?b=1", None),
        ("http://u:p@h:5050/a", "h:5050", "http://h:5050/a", "Basic " + b64("u:p")),
        ("https://a%40b:c%3Ad@Host.Example/x", "Host.Example", "https://Host.Example/x",
         "Basic " + b64("a@b:c:d")),
        ("http://only-user@[::1]:8080/", "[::1]:8080", "http://[::1]:8080/",
         "Basic " + b64("only-user:")),
    ],
)  # fmt: skip
def test_call_targets_drop_credentials_from_the_host_and_the_signed_url(
    url: str, netloc: str, signed: str, authorization: str | None
) -> None:
    target = urls.call_target(url)
    assert (target.netloc, target.signed_url, target.authorization) == (
        netloc, signed, authorization,
    )  # fmt: skip
    assert "p@" not in repr(target) and "c%3Ad" not in repr(target)


def test_redacted_urls_hide_only_the_password() -> None:
    assert urls.redacted("http://u:secret@h/x") == "http://u:***@h/x"
    assert urls.redacted("http://u@h/x") == "http://u@h/x"
    assert urls.redacted("http://h/x") == "http://h/x"
    assert urls.redacted("http://[") == "http://["
