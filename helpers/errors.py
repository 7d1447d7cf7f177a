"""The kit's exceptions: every one says what went wrong and how to fix it.

Tree::

    KitError                 root; ``.hint`` holds the fix
     ├── ConfigError         settings / credentials / .env
     └── SandboxError        the local sandbox cannot be started or reached
"""

from __future__ import annotations


class KitError(Exception):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(f"{message}\n  How to fix: {hint}" if hint else message)
        self.message = message
        self.hint = hint


class ConfigError(KitError):
    pass


class SandboxError(KitError):
    pass
