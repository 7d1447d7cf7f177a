"""One reader of settings: each variable honoured from ``.env``, the environment beating it,
bad values answered with the kit's "How to fix", and no other module reading the environment."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import helpers
from helpers import config, kernel_servers, server
from helpers.config import Settings, load_settings, read_settings
from tests.support.sandbox import KIT_ROOT, free_port

SID, TOKEN = "AC" + "3" * 32, "0123456789abcdef0123456789abcdef"
LIVE = {"TASKROUTER_MODE": "live", "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}

# variable -> (value in .env, the field it sets and the value read, value in the environment,
# the value read from the environment)
CASES: dict[str, tuple[str, str, object, str, object]] = {
    "TASKROUTER_MODE": ("live", "mode", "live", "sandbox", "sandbox"),
    "TWILIO_ACCOUNT_SID": (SID, "account_sid", SID, "AC" + "4" * 32, "AC" + "4" * 32),
    "TWILIO_AUTH_TOKEN": (TOKEN, "auth_token", TOKEN, "e" * 32, "e" * 32),
    "TWILIO_API_KEY": ("SK" + "5" * 32, "api_key", "SK" + "5" * 32, "SK" + "6" * 32,
                       "SK" + "6" * 32),
    "TWILIO_API_SECRET": ("dotenv-secret", "api_secret", "dotenv-secret", "env-secret",
                          "env-secret"),
    "TASKROUTER_SANDBOX_PORT": ("8799", "sandbox_port", 8799, "8800", 8800),
    "TASKROUTER_SANDBOX_DIR": (".sandbox-07", "sandbox_dir", KIT_ROOT / ".sandbox-07",
                               "/srv/seat-08", Path("/srv/seat-08")),
    "TASKROUTER_CALLBACK_PORT": ("5050", "callback_port", 5050, "5051", 5051),
    "TASKROUTER_TUNNEL": ("1", "tunnel", True, "0", False),
    "NGROK_AUTHTOKEN": ("dotenv-ngrok-token", "ngrok_authtoken", "dotenv-ngrok-token",
                        "env-ngrok-token", "env-ngrok-token"),
    "NGROK_DOMAIN": ("kit.ngrok-free.app", "ngrok_domain", "kit.ngrok-free.app",
                     "other.ngrok-free.app", "other.ngrok-free.app"),
    "PYNGROK_NGROK_PATH": ("/opt/ngrok/ngrok", "ngrok_path", "/opt/ngrok/ngrok",
                           "/usr/local/bin/ngrok", "/usr/local/bin/ngrok"),
    "TASKROUTER_NGROK_CONFIG": ("/opt/ngrok/ngrok.yml", "ngrok_config_path",
                                "/opt/ngrok/ngrok.yml", "/etc/ngrok.yml", "/etc/ngrok.yml"),
    "TASKROUTER_SEAT": ("http://AC" + "7" * 32 + ":t@room:8765", "seat",
                        "http://AC" + "7" * 32 + ":t@room:8765",
                        "http://AC" + "8" * 32 + ":u@room:8765",
                        "http://AC" + "8" * 32 + ":u@room:8765"),
    "TASKROUTER_CALLBACK_HOST": ("127.0.0.7", "callback_host", "127.0.0.7", "127.0.0.8",
                                 "127.0.0.8"),
}  # fmt: skip


def test_every_setting_field_has_a_case() -> None:
    fields = set(config.FIELDS) - {"sandbox_host"}  # fixed: the sandbox listens on loopback
    assert {case[1] for case in CASES.values()} == fields


@pytest.fixture
def kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A kit root of its own (its ``.env`` is the one read) and no setting in the environment."""
    monkeypatch.setattr(config, "dotenv_file", lambda: tmp_path / ".env")
    for name in CASES:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def needed_besides(name: str) -> dict[str, str]:
    """Live mode needs credentials: give them when the case under test selects live mode."""
    return {k: v for k, v in LIVE.items() if k != name} if name == "TASKROUTER_MODE" else {}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_dotenv_value_is_honoured(
    name: str, kit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_file, field, expected, _, _ = CASES[name]
    lines = {**needed_besides(name), name: in_file}
    (kit / ".env").write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    assert getattr(load_settings(), field) == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_environment_beats_dotenv(
    name: str, kit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_file, field, _, in_env, expected = CASES[name]
    (kit / ".env").write_text(f"{name}={in_file}\n")
    for key, value in {**needed_besides(name), name: in_env}.items():
        monkeypatch.setenv(key, value)
    assert getattr(load_settings(), field) == expected


def test_overrides_beat_both_and_are_checked(kit: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (kit / ".env").write_text("TASKROUTER_SANDBOX_PORT=8799\n")
    monkeypatch.setenv("TASKROUTER_CALLBACK_PORT", "5050")
    settings = load_settings(sandbox_port=8811, callback_port=0)
    assert (settings.sandbox_port, settings.callback_port) == (8811, 0)
    assert settings.replace(tunnel=True, sandbox_dir="seat").sandbox_dir == KIT_ROOT / "seat"
    with pytest.raises(helpers.ConfigError, match="sandbox_prot") as info:
        settings.replace(**{"sandbox_prot": 1})  # type: ignore[arg-type]  # the typo under test
    assert "sandbox_port" in info.value.hint
    with pytest.raises(helpers.ConfigError, match="TASKROUTER_SANDBOX_PORT"):
        load_settings(sandbox_port=70000)


@pytest.mark.parametrize(
    "name, value",
    [("TASKROUTER_CALLBACK_PORT", "abc"), ("TASKROUTER_CALLBACK_PORT", "²"),
     ("TASKROUTER_CALLBACK_PORT", "65536"), ("TASKROUTER_SANDBOX_PORT", "0"),
     ("TASKROUTER_SANDBOX_PORT", "١٢٣"), ("TASKROUTER_TUNNEL", "maybe"),
     ("TASKROUTER_MODE", "production")],
)  # fmt: skip
def test_a_bad_value_is_a_config_error_with_a_fix(
    name: str, value: str, kit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (kit / ".env").write_text(f"{name}={value}\n")
    with pytest.raises(helpers.ConfigError, match=name) as info:
        read_settings()
    assert "How to fix" in str(info.value) and info.value.hint
    if name == "TASKROUTER_CALLBACK_PORT":  # the callback server says the same, not ValueError
        with pytest.raises(helpers.ConfigError, match=name):
            helpers.CallbackServer()


def test_import_helpers_never_raises_on_bad_settings() -> None:
    env = {
        "TASKROUTER_CALLBACK_PORT": "abc",
        "TASKROUTER_SANDBOX_PORT": "²",
        "TASKROUTER_MODE": "production",
        "TASKROUTER_TUNNEL": "maybe",
        "PATH": "/usr/bin:/bin",
    }
    code = (
        "import helpers\n"
        "try:\n    helpers.load_settings()\n"
        "except helpers.ConfigError as error:\n    print('ConfigError', error.hint != '')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=KIT_ROOT, env=env, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ConfigError True"


def test_preflight_reports_a_bad_setting_instead_of_raising(
    kit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKROUTER_CALLBACK_PORT", "abc")
    report = helpers.preflight()
    assert not report.ok and "TASKROUTER_CALLBACK_PORT" in str(report)


def test_the_callback_server_takes_its_port_from_dotenv(
    kit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    (kit / ".env").write_text(f"TASKROUTER_CALLBACK_PORT={port}\n")
    assert server.default_port() == port
    with helpers.CallbackServer(verify_signatures=False) as running:
        assert running.port == port


def test_kernel_registry_lives_in_the_dotenv_sandbox_dir(
    kit: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (kit / ".env").write_text(f"TASKROUTER_SANDBOX_DIR={kit / 'seat'}\n")
    assert kernel_servers.registry_dir() == kit / "seat" / "callback-servers"


def test_secrets_are_masked_in_repr() -> None:
    settings = Settings(auth_token=TOKEN, api_secret="api-secret-value-1234",
                        ngrok_authtoken="ngrok-secret-token-123")  # fmt: skip
    for secret in (TOKEN, "api-secret-value-1234", "ngrok-secret-token-123"):
        assert secret not in repr(settings)


# Reading the environment for a setting: os.environ.get / [...] reads, getenv, or .env itself.
READS = re.compile(r"os\.environ\.get|os\.getenv|getenv\(|dotenv_values|load_dotenv"
                   r"|os\.environ\[[^\]]+\](?!\s*=[^=])|\{\*\*os\.environ")  # fmt: skip


def test_no_module_but_config_reads_the_environment_for_a_setting() -> None:
    offenders = [
        f"{path.relative_to(KIT_ROOT)}:{number}: {line.strip()}"
        for path in sorted((KIT_ROOT / "helpers").rglob("*.py"))
        if path.name != "config.py" or path.parent.name != "helpers"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if READS.search(line)
    ]
    assert offenders == []
