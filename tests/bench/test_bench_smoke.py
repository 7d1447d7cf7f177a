"""The benchmark suite in quick mode, as a smoke test: it runs and writes a complete report.

No timing assertions (CI machines are noisy): only that every section ran without error and
the report has every section, its targets table and its figures. Prism is used only when it is
already installed in bench/.prism (quick mode never installs it).
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main
from bench.report import SECTIONS


def test_quick_suite_writes_the_full_report(tmp_path: Path) -> None:
    status = main(["--quick", "--out", str(tmp_path)])
    results = json.loads((tmp_path / "results.json").read_text())
    errors = {k: v["error"] for k, v in results.items() if isinstance(v, dict) and "error" in v}
    assert status == 0 and not errors, errors
    report = (tmp_path / "benchmarks.md").read_text()
    for heading in ("## Targets", *SECTIONS):
        assert heading in report, heading
    for name in ("assignment", "sdk", "scale", "startup"):
        assert (tmp_path / "img" / f"bench-{name}.png").stat().st_size > 1000, name
        assert f"img/bench-{name}.png" in report
    assert results["assignment"]["assigned"]["n"] > 0
    assert results["scale"]["http"][0]["assign_per_s"] > 0
    assert results["experiment"]["tasks"] > 0 and results["experiment"]["tasks_per_s"] > 0
