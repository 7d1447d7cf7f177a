"""Whether a process id names a live process: for the registries of other kernels' callback
servers and ngrok agents, whose processes are not this kernel's children."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TypeGuard


def alive(pid: object) -> TypeGuard[int]:
    """True while ``pid`` runs (also when it belongs to another user); a zombie is dead, just
    not reaped yet. Anything but a positive int is no process."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True
