"""The kit's one reader of settings: :class:`Settings`, from the environment and ``.env``.

Precedence: per-call overrides (``load_settings(sandbox_port=8770)``,
``settings.replace(tunnel=True)``) > environment variables > the kit's ``.env`` file (at the
top of the kit: :func:`dotenv_file`) > defaults — pyngrok's ``PyngrokConfig`` is the model.
No other module of ``helpers`` reads the environment or ``.env`` for a setting
(``tests/unit/test_settings.py`` checks that).

=========================  ==================  ============================================
variable                   field               default
=========================  ==================  ============================================
TASKROUTER_MODE            mode                ``sandbox`` (``live``: your Twilio account)
TWILIO_ACCOUNT_SID         account_sid         — (live mode needs it)
TWILIO_AUTH_TOKEN          auth_token          — (live mode needs it; masked in repr)
TWILIO_API_KEY             api_key             — (live worker tokens, notebook 06)
TWILIO_API_SECRET          api_secret          — (masked)
TASKROUTER_SANDBOX_PORT    sandbox_port        8765
TASKROUTER_SANDBOX_DIR     sandbox_dir         ``.sandbox`` (relative: to the kit's top)
TASKROUTER_CALLBACK_PORT   callback_port       0: each callback server takes a free port
TASKROUTER_TUNNEL          tunnel              off (``1``: an ngrok tunnel in sandbox mode)
NGROK_AUTHTOKEN            ngrok_authtoken     — (live mode's tunnel needs it; masked)
NGROK_DOMAIN               ngrok_domain        — (a reserved, stable domain)
PYNGROK_NGROK_PATH         ngrok_path          pyngrok's (it downloads the agent there)
TASKROUTER_NGROK_CONFIG    ngrok_config_path   pyngrok's
TASKROUTER_SEAT            seat                — (a workshop seat's line; masked)
TASKROUTER_CALLBACK_HOST   callback_host       — (a seat's address the room calls back)
=========================  ==================  ============================================

A value the kit cannot use raises :class:`~helpers.errors.ConfigError` (what is wrong, how
to fix it) when settings are read — never at ``import helpers``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from dotenv import dotenv_values

from .errors import ConfigError

if TYPE_CHECKING:
    from typing_extensions import Unpack

KIT_ROOT = Path(__file__).resolve().parent.parent
MODES = ("sandbox", "live")
DEFAULT_PORT = 8765
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("", "0", "false", "no", "off")


class SettingsOverrides(TypedDict, total=False):
    """Per-call overrides: any :class:`Settings` field, by name."""

    mode: str
    account_sid: str | None
    auth_token: str | None
    api_key: str | None
    api_secret: str | None
    ngrok_authtoken: str | None
    ngrok_domain: str | None
    ngrok_path: str | None
    ngrok_config_path: str | None
    sandbox_host: str
    sandbox_port: int
    sandbox_dir: Path | str
    callback_port: int
    tunnel: bool
    seat: str | None
    callback_host: str | None


def is_placeholder(value: str | None) -> bool:
    """A value still as ``.env.example`` has it (``ACxxxx…``, ``your_auth_token``…)."""
    text = (value or "").strip().lower()
    return text.startswith("your_") or re.fullmatch(r"(ac|sk)x{8,}", text) is not None


def mask(secret: str | None) -> str | None:
    """``abcd…wxyz`` style: enough to recognise, never enough to use."""
    if not secret:
        return None
    return "***" if len(secret) < 12 else f"{secret[:4]}…{secret[-2:]}"


@dataclass(frozen=True)
class Settings:
    """Every setting the kit reads (see the module's table); secrets are masked in ``repr``."""

    mode: str = "sandbox"
    account_sid: str | None = None
    auth_token: str | None = dataclasses.field(default=None, repr=False)
    api_key: str | None = None
    api_secret: str | None = dataclasses.field(default=None, repr=False)
    ngrok_authtoken: str | None = dataclasses.field(default=None, repr=False)
    ngrok_domain: str | None = None
    ngrok_path: str | None = None  # None: pyngrok's default
    ngrok_config_path: str | None = None  # None: pyngrok's default
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = DEFAULT_PORT
    sandbox_dir: Path = KIT_ROOT / ".sandbox"
    callback_port: int = 0  # 0: any free port
    tunnel: bool = False  # TASKROUTER_TUNNEL=1: use a pyngrok tunnel even in sandbox mode
    # A workshop seat's line (the room's sandbox and the seat's credentials: secret), and this
    # machine's address as the room sees it (helpers/workshop.py).
    seat: str | None = dataclasses.field(default=None, repr=False)
    callback_host: str | None = None

    def __repr__(self) -> str:
        return (
            f"Settings(mode={self.mode!r}, account_sid={self.account_sid!r}, "
            f"auth_token={mask(self.auth_token)!r}, api_key={self.api_key!r}, "
            f"api_secret={mask(self.api_secret)!r}, "
            f"ngrok_authtoken={mask(self.ngrok_authtoken)!r}, "
            f"ngrok_domain={self.ngrok_domain!r}, sandbox={self.sandbox_host}:{self.sandbox_port}, "
            f"sandbox_dir={str(self.sandbox_dir)!r}, callback_port={self.callback_port}, "
            f"tunnel={self.tunnel}, seat={'***' if self.seat else None})"
        )

    __str__ = __repr__

    @property
    def live(self) -> bool:
        return self.mode == "live"

    def replace(self, **changes: Unpack[SettingsOverrides]) -> Settings:
        """A copy with ``changes`` (field names), checked like values read from the environment."""
        return _checked(self, dict(changes))


FIELDS = {f.name for f in dataclasses.fields(Settings)}


def dotenv_file() -> Path:
    """The kit's ``.env``: at the top of the kit, wherever the kernel's working directory is."""
    return KIT_ROOT / ".env"


def raw_values(
    env: Mapping[str, str] | None = None, dotenv_path: Path | None = None
) -> dict[str, str]:
    """The variables as the kit sees them: ``.env`` under the environment (``env`` if given)."""
    path = dotenv_file() if dotenv_path is None else dotenv_path
    from_file = {k: v for k, v in dotenv_values(path).items() if v is not None}
    return {**from_file, **(os.environ if env is None else env)}


def notebook_path() -> str | None:
    """The notebook this kernel runs, as JupyterLab tells its kernels (``JPY_SESSION_NAME``).

    Not a setting (nothing to put in ``.env``): the kernel's runtime, read here so that this
    module stays the kit's one reader of the environment.
    """
    return os.environ.get("JPY_SESSION_NAME") or None


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``TASKROUTER_SANDBOX_DIR`` (relative to the kit's top), else the kit's ``.sandbox``."""
    return _directory((raw_values() if env is None else env).get("TASKROUTER_SANDBOX_DIR"))


def default_port(env: Mapping[str, str] | None = None) -> int:
    """``TASKROUTER_SANDBOX_PORT``, else 8765."""
    value = (raw_values() if env is None else env).get("TASKROUTER_SANDBOX_PORT")
    return _port("TASKROUTER_SANDBOX_PORT", value or str(DEFAULT_PORT), "e.g. 8765")


def read_settings(
    env: Mapping[str, str] | None = None,
    dotenv_path: Path | None = None,
    **overrides: Unpack[SettingsOverrides],
) -> Settings:
    """Every setting, each value checked; no check that live mode has its credentials."""
    values = raw_values(env, dotenv_path)

    def text(name: str) -> str | None:
        return (values.get(name) or "").strip() or None

    settings = Settings(
        mode=_mode(values.get("TASKROUTER_MODE")),
        account_sid=text("TWILIO_ACCOUNT_SID"),
        auth_token=text("TWILIO_AUTH_TOKEN"),
        api_key=text("TWILIO_API_KEY"),
        api_secret=text("TWILIO_API_SECRET"),
        ngrok_authtoken=text("NGROK_AUTHTOKEN"),
        ngrok_domain=text("NGROK_DOMAIN"),
        ngrok_path=text("PYNGROK_NGROK_PATH"),
        ngrok_config_path=text("TASKROUTER_NGROK_CONFIG"),
        sandbox_port=default_port(values),
        sandbox_dir=default_data_dir(values),
        callback_port=_port(
            "TASKROUTER_CALLBACK_PORT",
            text("TASKROUTER_CALLBACK_PORT") or "0",
            "e.g. 5050, or leave it unset for any free port",
            allow_zero=True,
        ),
        tunnel=_switch("TASKROUTER_TUNNEL", values.get("TASKROUTER_TUNNEL")),
        seat=text("TASKROUTER_SEAT"),
        callback_host=text("TASKROUTER_CALLBACK_HOST"),
    )
    return _checked(settings, dict(overrides)) if overrides else settings


def load_settings(
    env: Mapping[str, str] | None = None,
    dotenv_path: Path | None = None,
    **overrides: Unpack[SettingsOverrides],
) -> Settings:
    """Read settings; raises :class:`ConfigError` with a fix for anything inconsistent.

    Like :func:`read_settings`, and live mode must have its credentials.
    """
    settings = read_settings(env, dotenv_path, **overrides)
    if settings.live:
        _check_live_credentials(settings)
    return settings


def requested_mode() -> str:
    """The mode asked for, even when the settings cannot be read (for preflight's report)."""
    return (raw_values().get("TASKROUTER_MODE") or "sandbox").strip().lower()


# -- parsing and checking -------------------------------------------------------------------


def _mode(value: str | None) -> str:
    mode = (value or "sandbox").strip().lower()
    if mode not in MODES:
        raise ConfigError(
            f"TASKROUTER_MODE={mode!r} is not a mode",
            "use TASKROUTER_MODE=sandbox (default) or TASKROUTER_MODE=live",
        )
    return mode


def _port(name: str, value: str, example: str, *, allow_zero: bool = False) -> int:
    value = value.strip()
    # ASCII digits only, few of them: "²".isdigit() is True but int("²") raises.
    low = 0 if allow_zero else 1
    if not (value.isascii() and value.isdigit() and len(value) <= 5) or not (
        low <= int(value) <= 65535
    ):
        raise ConfigError(
            f"{name}={value!r} is not a port number",
            f"set it to a number between 1 and 65535 ({example})",
        )
    return int(value)


def _switch(name: str, value: str | None) -> bool:
    word = (value or "").strip().lower()
    if word not in TRUE_WORDS + FALSE_WORDS:
        raise ConfigError(f"{name}={value!r} is neither on nor off",
                          f"set {name}=1 to switch it on, or leave it unset")  # fmt: skip
    return word in TRUE_WORDS


def _directory(value: str | Path | None) -> Path:
    """Relative to the kit's top: kernels run in ``notebooks/``, ``make`` at the top."""
    if value is None or not str(value).strip():
        return KIT_ROOT / ".sandbox"
    path = Path(value).expanduser()
    return path if path.is_absolute() else KIT_ROOT / path


def _checked(settings: Settings, changes: dict[str, object]) -> Settings:
    """``settings`` with ``changes``, each checked as if read from the environment."""
    unknown = sorted(set(changes) - FIELDS)
    if unknown:
        raise ConfigError(f"Unknown setting {', '.join(map(repr, unknown))}",
                          f"use one of: {', '.join(sorted(FIELDS))}")  # fmt: skip
    fixed: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "mode":
            fixed[name] = _mode(str(value))
        elif name in ("sandbox_port", "callback_port"):
            variable = f"TASKROUTER_{name.upper()}"
            fixed[name] = _port(variable, str(value), "e.g. 8765",
                                allow_zero=name == "callback_port")  # fmt: skip
        elif name == "tunnel":
            fixed[name] = value if isinstance(value, bool) else _switch("tunnel", str(value))
        elif name == "sandbox_dir":
            fixed[name] = _directory(value if isinstance(value, (str, Path)) else None)
        elif value is not None and not isinstance(value, str):
            raise ConfigError(f"The setting {name} must be text, not {type(value).__name__}",
                              f"pass {name}='…' or None")  # fmt: skip
        else:
            fixed[name] = value
    return dataclasses.replace(settings, **fixed)


def _check_live_credentials(settings: Settings) -> None:
    pairs = (("TWILIO_ACCOUNT_SID", settings.account_sid),
             ("TWILIO_AUTH_TOKEN", settings.auth_token))  # fmt: skip
    missing = [name for name, value in pairs if not value]
    if missing:
        raise ConfigError(
            f"Live mode needs {' and '.join(missing)}",
            "put them in the kit's .env file (see .env.example) or unset TASKROUTER_MODE "
            "to use the offline sandbox",
        )
    copied = [name for name, value in pairs if is_placeholder(value)]
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
