"""The kit's tests use the package's own test support (:mod:`taskrouter_sandbox.testing`)."""

from __future__ import annotations

from pathlib import Path

from taskrouter_sandbox.testing import SandboxProcess, free_port

KIT_ROOT = Path(__file__).resolve().parents[2]

__all__ = ["KIT_ROOT", "SandboxProcess", "free_port"]
