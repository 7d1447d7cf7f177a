"""Settings from the environment and ``.env``: mode, credentials (masked), sandbox location.

Precedence: explicit overrides > environment variables > the kit's ``.env`` file > defaults.
The mode is ``sandbox`` unless ``TASKROUTER_MODE=live``; live mode needs
``TWILIO_ACCOUNT_SID`` and ``TWILIO_AUTH_TOKEN``. Other variables: ``TASKROUTER_SANDBOX_PORT``,
``TASKROUTER_SANDBOX_DIR``, ``TASKROUTER_CALLBACK_PORT`` (unset: any free port),
``TASKROUTER_TUNNEL=1`` (tunnel through ngrok even in sandbox mode), ``NGROK_AUTHTOKEN``,
``NGROK_DOMAIN``, ``TASKROUTER_SEAT`` (a workshop seat's line: the room's sandbox and the
seat's credentials, see ``helpers/workshop.py``).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from .errors import ConfigError

KIT_ROOT = Path(__file__).resolve().parent.parent
MODES = ("sandbox", "live")
DEFAULT_PORT = 8765


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("TASKROUTER_SANDBOX_DIR") or KIT_ROOT / ".sandbox")


def default_port(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    value = env.get("TASKROUTER_SANDBOX_PORT") or str(DEFAULT_PORT)
    # ASCII digits only, few of them: "²".isdigit() is True but int("²") raises.
    if not (value.isascii() and value.isdigit() and len(value) <= 5) or not 0 < int(value) < 65536:
        raise ConfigError(
            f"TASKROUTER_SANDBOX_PORT={value!r} is not a port number",
            "set it to a number between 1 and 65535, e.g. 8765",
        )
    return int(value)


def is_placeholder(value: str | None) -> bool:
    """A value still as ``.env.example`` has it (``ACxxxx…``, ``your_auth_token``…)."""
    text = (value or "").strip().lower()
    return text.startswith("your_") or re.fullmatch(r"acx{8,}", text) is not None


def mask(secret: str | None) -> str | None:
    """``abcd…wxyz`` style: enough to recognise, never enough to use."""
    if not secret:
        return None
    return "***" if len(secret) < 12 else f"{secret[:4]}…{secret[-2:]}"


@dataclass(frozen=True)
class Settings:
    mode: str = "sandbox"
    account_sid: str | None = None
    auth_token: str | None = dataclasses.field(default=None, repr=False)
    ngrok_authtoken: str | None = dataclasses.field(default=None, repr=False)
    ngrok_domain: str | None = None
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = DEFAULT_PORT
    sandbox_dir: Path = KIT_ROOT / ".sandbox"
    tunnel: bool = False  # TASKROUTER_TUNNEL=1: use a pyngrok tunnel even in sandbox mode
    seat: str | None = dataclasses.field(default=None, repr=False)  # TASKROUTER_SEAT (secret)

    def __repr__(self) -> str:
        return (
            f"Settings(mode={self.mode!r}, account_sid={self.account_sid!r}, "
            f"auth_token={mask(self.auth_token)!r}, "
            f"ngrok_authtoken={mask(self.ngrok_authtoken)!r}, "
            f"ngrok_domain={self.ngrok_domain!r}, sandbox={self.sandbox_host}:{self.sandbox_port}, "
            f"sandbox_dir={str(self.sandbox_dir)!r}, seat={'***' if self.seat else None})"
        )

    __str__ = __repr__

    @property
    def live(self) -> bool:
        return self.mode == "live"


def load_settings(
    env: Mapping[str, str] | None = None, dotenv_path: Path | None = None, **overrides: object
) -> Settings:
    """Read settings; raises :class:`ConfigError` with a fix for anything inconsistent."""
    file_values = {
        k: v for k, v in dotenv_values(dotenv_path or KIT_ROOT / ".env").items() if v is not None
    }
    merged: dict[str, str] = {**file_values, **(os.environ if env is None else env)}
    mode = (merged.get("TASKROUTER_MODE") or "sandbox").strip().lower()
    if mode not in MODES:
        raise ConfigError(
            f"TASKROUTER_MODE={mode!r} is not a mode",
            "use TASKROUTER_MODE=sandbox (default) or TASKROUTER_MODE=live",
        )
    settings = Settings(
        mode=mode,
        account_sid=merged.get("TWILIO_ACCOUNT_SID") or None,
        auth_token=merged.get("TWILIO_AUTH_TOKEN") or None,
        ngrok_authtoken=merged.get("NGROK_AUTHTOKEN") or None,
        ngrok_domain=merged.get("NGROK_DOMAIN") or None,
        sandbox_port=default_port(merged),
        sandbox_dir=default_data_dir(merged),
        tunnel=(merged.get("TASKROUTER_TUNNEL") or "").strip().lower() in ("1", "true", "yes"),
        seat=(merged.get("TASKROUTER_SEAT") or "").strip() or None,
    )
    settings = dataclasses.replace(settings, **overrides)  # type: ignore[arg-type]
    if settings.live:
        missing = [
            n
            for n, v in (
                ("TWILIO_ACCOUNT_SID", settings.account_sid),
                ("TWILIO_AUTH_TOKEN", settings.auth_token),
            )
            if not v
        ]
        if missing:
            raise ConfigError(
                f"Live mode needs {' and '.join(missing)}",
                "put them in the kit's .env file (see .env.example) or unset TASKROUTER_MODE "
                "to use the offline sandbox",
            )
        copied = [
            n
            for n, v in (
                ("TWILIO_ACCOUNT_SID", settings.account_sid),
                ("TWILIO_AUTH_TOKEN", settings.auth_token),
            )
            if is_placeholder(v)
        ]
        if copied:
            raise ConfigError(
                f"{' and '.join(copied)} still hold the placeholder from .env.example",
                "put your Account SID and Auth Token from the Twilio Console (Account Info) "
                "in .env, or unset TASKROUTER_MODE to use the offline sandbox",
            )
        if not (settings.account_sid or "").startswith("AC"):
            raise ConfigError(
                "TWILIO_ACCOUNT_SID must start with AC",
                "copy the Account SID from the Twilio Console's dashboard",
            )
    return settings
