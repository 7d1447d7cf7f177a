"""Benchmarks (not tests): run with `make bench`; results go to docs/benchmarks.md."""

from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
