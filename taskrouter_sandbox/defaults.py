"""Where the CLI looks when no option says: ``TASKROUTER_SANDBOX_DIR``, ``TASKROUTER_SANDBOX_PORT``.

The sandbox reads only these two variables itself; the kit (``helpers``) passes everything
else explicitly on the command line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

# The kit's checkout (this package's parent): the same `.sandbox` the notebooks' helpers use.
KIT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 8765


class BadSetting(ValueError):
    """An environment variable the CLI reads has a value it cannot use; says how to fix it."""


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("TASKROUTER_SANDBOX_DIR") or KIT_ROOT / ".sandbox")


def default_port(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    value = env.get("TASKROUTER_SANDBOX_PORT") or str(DEFAULT_PORT)
    # ASCII digits only, few of them: "²".isdigit() is True but int("²") raises.
    if not (value.isascii() and value.isdigit() and len(value) <= 5) or not 0 < int(value) < 65536:
        raise BadSetting(
            f"TASKROUTER_SANDBOX_PORT={value!r} is not a port number\n"
            "  How to fix: set it to a number between 1 and 65535, e.g. 8765, or pass --port"
        )
    return int(value)
