"""Callback URLs: one validator for every URL the sandbox will call, and how it calls them.

Every callback URL a client gives (a workflow's ``AssignmentCallbackUrl`` and
``FallbackAssignmentCallbackUrl``, a workspace's ``EventCallbackUrl``, the ``url`` and
``status_callback_url`` of voice instructions) goes through :func:`check_callback_url`: an
absolute ``http``/``https`` URL with a host, a valid port, ASCII without spaces or control
characters (percent-encoded, as on the wire).
``file:``, ``gopher:``, ``javascript:`` or ``not a url`` are a 400 before anything is stored.

Credentials in the URL (``https://user:pw@host/path``) are how Twilio's docs say to protect a
callback with HTTP Basic auth: Twilio calls ``host`` with ``Authorization: Basic`` and drops
the username and password from the URL it signs (twilio.com/docs/usage/security, "HTTP
authentication" and "Notes"). :func:`call_target` does the same for the dispatcher.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from .api_errors import BadRequest

MAX_URL = 2048  # longer callback URLs are a mistake (or an attack), never a learner's route
SCHEMES = ("http", "https")


class InvalidUrl(ValueError):
    """Why a URL cannot be called; the message says what to change."""


@dataclass(frozen=True)
class CallTarget:
    """Where and how to call a callback URL."""

    scheme: str
    netloc: str  # host[:port], without credentials
    path: str  # path and query, as sent on the request line
    signed_url: str  # the URL the X-Twilio-Signature is computed over (no credentials)
    authorization: str | None = field(default=None, repr=False)  # "Basic …" or None


def problem(value: str) -> str | None:
    """What is wrong with ``value`` as a callback URL, or None when it can be called."""
    if len(value) > MAX_URL:
        return f"it is {len(value)} characters long; the limit is {MAX_URL}"
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return "it contains spaces or control characters; percent-encode them"
    if not value.isascii():  # an HTTP request line and Host header carry ASCII only
        return "it contains non-ASCII characters; percent-encode them (a host in punycode)"
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for "host:99999999" or "host:x"
    except ValueError as error:
        return f"it cannot be read as a URL ({error})"
    if parts.scheme.lower() not in SCHEMES:
        shown = f"{parts.scheme}:" if parts.scheme else "no scheme"
        return f"it has {shown}; only http:// and https:// URLs can be called"
    if not parts.hostname:
        return "it names no host, e.g. http://127.0.0.1:5050/assignment"
    if port == 0:
        return "port 0 cannot be called"
    return None


def check_callback_url(value: str | None, param: str) -> str | None:
    """``value`` when it is a callable http(s) URL; ``None``/empty pass through (unset)."""
    if not value:
        return value
    why = problem(value)
    if why is not None:
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise BadRequest(
            f"{param} must be an absolute http(s) URL such as "
            f"http://127.0.0.1:5050/assignment, got {shown!r}: {why}"
        )
    return value


def call_target(url: str) -> CallTarget:
    """How the dispatcher calls ``url``; raises :class:`InvalidUrl` when it cannot."""
    why = problem(url)
    if why is not None:
        raise InvalidUrl(why)
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]  # host[:port] as written, credentials dropped
    authorization = None
    if parts.username is not None or parts.password is not None:
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    signed = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return CallTarget(parts.scheme.lower(), netloc, path, signed, authorization)


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***``: for logs and the debugger list."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    user, _, _ = parts.netloc.rpartition("@")[0].partition(":")
    netloc = f"{user}:***@{parts.netloc.rpartition('@')[2]}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
