"""The kit's exceptions: every one says what went wrong and how to fix it.

Every exception the kit raises to a learner is one of these (never a bare ``ValueError`` or
``TypeError``), so ``except helpers.KitError`` catches them all and ``.hint`` holds the fix.
All are defined here, in one tree, like httpx's ``_exceptions.py``; the modules that raise
them re-export them where the facade has always found them (``helpers.tunnel.TunnelError``)::

    KitError                   root; ``.message`` what went wrong, ``.hint`` how to fix it
     ├── ConfigError           a setting, credential or .env value the kit cannot use
     ├── SandboxError          the local sandbox cannot be started or reached
     ├── CallbackServerError   the callback server cannot start, or an answer is unusable
     ├── TunnelError           the callback server cannot be made reachable (ngrok)
     ├── WaitTimeout           an awaited outcome did not happen in time (says what did)
     ├── WorkshopError         a workshop room cannot reach this learner's callback server
     └── UsageError            a helper got something it cannot use: an unknown worker or
                               Activity name, a bad interval, a task with nothing to draw
"""

from __future__ import annotations


class KitError(Exception):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(f"{message}\n  How to fix: {hint}" if hint else message)
        self.message = message
        self.hint = hint


class ConfigError(KitError):
    """A setting, credential or ``.env`` value the kit cannot use."""


class SandboxError(KitError):
    """The local sandbox cannot be started or reached."""


class CallbackServerError(KitError):
    """The callback server cannot start, or a callback did not arrive in time."""


class TunnelError(KitError):
    """The callback server could not be made reachable; ``hint`` says how to fix it."""


class WaitTimeout(KitError):
    """The awaited outcome did not happen in time; the message says what was seen instead."""


class UsageError(KitError):
    """A helper was given something it cannot use (a name, a number, a sid)."""


class WorkshopError(KitError):
    """The room's sandbox cannot reach this learner's callback server; ``hint`` says why."""
