"""The quickstart workspace and ``eventually``, public in :mod:`taskrouter_sandbox.scenario`."""

from __future__ import annotations

from taskrouter_sandbox.scenario import Quickstart, build_quickstart, eventually

__all__ = ["Quickstart", "build_quickstart", "eventually"]
