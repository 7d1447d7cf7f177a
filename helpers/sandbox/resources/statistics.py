"""Statistics endpoints (filled in by the statistics work)."""

from __future__ import annotations

from ..router import Routes

routes = Routes()
