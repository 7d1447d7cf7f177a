"""docs/sandbox-coverage.md must match the spec, the route table and the conformance table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "coverage_table.py"


def load_tool() -> ModuleType:
    """tools/ is a folder of scripts, not a package: load the script by its path."""
    module_spec = importlib.util.spec_from_file_location("coverage_table", TOOL)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module  # dataclasses look their module up while defining
    module_spec.loader.exec_module(module)
    return module


def test_coverage_table_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    status = load_tool().main(["--check"])
    assert status == 0, capsys.readouterr().out


def test_every_row_is_a_spec_operation() -> None:
    tool = load_tool()
    rows = tool.spec_rows()
    assert len(rows) == 61
    assert len({r.operation_id for r in rows}) == 61
    assert all(r.tested for r in rows), [r.operation_id for r in rows if not r.tested]
