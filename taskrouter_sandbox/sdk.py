"""Point the real ``twilio`` SDK at a sandbox: ``client = sandbox_client(url, sid, token)``.

Every TaskRouter request is rewritten to the sandbox's URL by a ``TwilioHttpClient``
subclass, after the SDK has applied region/edge, so stray ``TWILIO_REGION``/``TWILIO_EDGE``
or proxy variables cannot send it elsewhere. Of ``api.twilio.com`` only the voice side's
resources go through (``/2010-04-01/Accounts/AC…/Calls[/CA…].json`` and
``IncomingPhoneNumbers[/PN…].json``); any other Twilio host or resource is refused, so nothing
reaches the real API by accident.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

ISOLATED_ENV = {"TWILIO_NO_ENV": "1"}
# The 2010 API resources the sandbox simulates for the voice side: Calls and
# IncomingPhoneNumbers of an account (taskrouter_sandbox.voice). Nothing else of api.twilio.com.
VOICE_PATHS = re.compile(
    r"^/2010-04-01/Accounts/AC[0-9a-fA-F]{32}/(Calls|IncomingPhoneNumbers)(/[A-Z]{2}[0-9a-fA-F]{32})?\.json$"
)  # non-empty on purpose: {} falls back to os.environ


class OtherTwilioApiError(ValueError):
    """A request for a Twilio API the sandbox does not emulate (only TaskRouter's is)."""


class SandboxHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio is untyped
    """Sends TaskRouter requests to the sandbox at ``target``; refuses other Twilio APIs."""

    def __init__(self, target: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target.rstrip("/")
        if self.session is not None:
            self.session.trust_env = False  # HTTP(S)_PROXY must not capture loopback traffic

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return super().request(method, self.local_url(url), *args, **kwargs)

    def local_url(self, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if host == "twilio.com" or host.endswith(".twilio.com"):
            if not host.startswith("taskrouter.") and not (
                host.startswith("api.") and VOICE_PATHS.match(parts.path)
            ):
                raise self.other_api_error(host + parts.path if host.startswith("api.") else host)
            target = urllib.parse.urlsplit(self.target)
            return urllib.parse.urlunsplit(
                (target.scheme, target.netloc, parts.path, parts.query, parts.fragment)
            )
        return url

    def other_api_error(self, host: str) -> Exception:
        """The exception for a non-TaskRouter Twilio host (callers may say it their way)."""
        return OtherTwilioApiError(
            f"The sandbox only emulates TaskRouter (and Calls, IncomingPhoneNumbers), not {host}\n"
            "  How to fix: send other Twilio APIs to Twilio itself, with real credentials"
        )


def sandbox_client(url: str, account_sid: str, auth_token: str) -> Client:
    """A real ``twilio.rest.Client`` whose TaskRouter requests go to the sandbox at ``url``."""
    return Client(
        account_sid,
        auth_token,
        http_client=SandboxHttpClient(url),
        environment=ISOLATED_ENV,
    )
