"""The TaskRouter Notebook Kit: the small facade the notebooks import.

import helpers
client = helpers.connect()      # twilio.rest.Client: the local sandbox unless TASKROUTER_MODE=live
"""

from __future__ import annotations

from .client import connect
from .config import Settings, load_settings
from .errors import ConfigError, KitError, SandboxError

__all__ = ["ConfigError", "KitError", "SandboxError", "Settings", "connect", "load_settings"]
