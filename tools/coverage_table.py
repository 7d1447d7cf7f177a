"""Write docs/sandbox-coverage.md: which TaskRouter v1 operations the sandbox serves and tests.

A moto-style table, one row per operation of ``spec/twilio_taskrouter_v1.json``:
*implemented* means the sandbox's route table has a handler for its method and path,
*tested* means the conformance suite's call table (tests/conformance/test_operations.py)
exercises it. Generated, never hand-edited, so it cannot drift from the code: ``--check``
exits 1 when the committed file differs from what this script would write.

    python tools/coverage_table.py           # regenerate
    python tools/coverage_table.py --check   # verify (the test suite runs this)
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script from anywhere: helpers/ and tests/ import

OUTPUT = ROOT / "docs" / "sandbox-coverage.md"
PLACEHOLDER = re.compile(r"\{\w+\}")
TAG_PREFIX = "TaskrouterV1"


@dataclass(frozen=True)
class Row:
    group: str
    operation_id: str
    method: str
    path: str
    implemented: bool
    tested: bool


def shape(path: str) -> str:
    """A path template with placeholder names erased: the router and spec may name them apart."""
    return PLACEHOLDER.sub("{}", path.rstrip("/"))


def sandbox_routes() -> dict[tuple[str, str], str]:
    """(METHOD, template shape) -> template, for every handler the sandbox registers."""
    from taskrouter_sandbox import control_plane
    from taskrouter_sandbox.resources import ROUTES

    return {
        (method.upper(), shape(template)): template
        for routes in (*ROUTES, control_plane.routes)
        for method, template, _handler in routes.table
    }


def tested_operations() -> set[str]:
    """Operation ids the conformance suite's call table exercises."""
    from tests.conformance.test_operations import OPERATIONS

    return set(OPERATIONS)


def spec_rows() -> list[Row]:
    from tests.conformance import spec

    routes, tested = sandbox_routes(), tested_operations()
    rows = []
    for path, item in spec.document()["paths"].items():
        for method in spec.METHODS:
            if method not in item:
                continue
            op = item[method]
            tags = op.get("tags") or [TAG_PREFIX + "Other"]
            rows.append(
                Row(
                    group=tags[0].removeprefix(TAG_PREFIX),
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    implemented=(method.upper(), shape(path)) in routes,
                    tested=op["operationId"] in tested,
                )
            )
    order = {"POST": 0, "GET": 1, "DELETE": 2}
    return sorted(rows, key=lambda r: (r.group, r.path.count("/"), r.path, order[r.method]))


def extra_routes(rows: Iterable[Row]) -> list[tuple[str, str]]:
    """Sandbox handlers no spec operation accounts for (the ``/_sandbox`` control plane)."""
    known = {(r.method, shape(r.path)) for r in rows}
    extras = [
        (method, path)
        for (method, key), path in sandbox_routes().items()
        if (method, key) not in known
    ]
    return sorted(extras, key=lambda route: (route[1], route[0]))


def voice_section() -> list[str]:
    """The 2010 API's Calls and IncomingPhoneNumbers the voice side serves (notebook 05)."""
    from taskrouter_sandbox.voice import resources
    from tests.conformance import spec
    from tests.conformance.test_voice_resources import EXPECTED, NOT_SIMULATED

    served = {(m.upper(), shape(t + ".json")) for m, t, _ in resources.routes.table}
    lines = [
        "",
        "## Voice side: Calls and IncomingPhoneNumbers (2010 API)",
        "",
        "One row per operation of `spec/twilio_api_v2010_calls_numbers.json`, served by",
        "`taskrouter_sandbox/voice/resources.py`. **Tested**: `tests/conformance/"
        "test_voice_resources.py` validates the SDK's raw responses against that spec.",
        "",
        "| Operation | Method | Path | Implemented | Tested |",
        "|---|---|---|---|---|",
    ]
    for operation_id, method, path in spec.voice_operations():
        if operation_id in NOT_SIMULATED:
            done = "refused: not simulated"
        else:
            done = _mark((method, shape(path)) in served)
        tested = _mark(operation_id in EXPECTED or operation_id in NOT_SIMULATED)
        lines.append(f"| {operation_id} | {method} | `{path}` | {done} | {tested} |")
    return lines


def _percent(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part // whole if whole else 0}%)"


def _mark(flag: bool) -> str:
    return "yes" if flag else "**no**"


def render(rows: Sequence[Row]) -> str:
    implemented = sum(r.implemented for r in rows)
    tested = sum(r.tested for r in rows)
    lines = [
        "# Sandbox coverage of the TaskRouter v1 API",
        "",
        "<!-- Generated by `python tools/coverage_table.py` (`make coverage-table`); do not edit."
        " The test suite runs `--check` and fails when this file is stale. -->",
        "",
        "One row per operation of `spec/twilio_taskrouter_v1.json`. **Implemented**: the sandbox",
        "route table (`taskrouter_sandbox/resources`, `taskrouter_sandbox/control_plane.py`) has a",
        "handler for the method and path. **Tested**: `tests/conformance/test_operations.py` calls",
        "it through the real `twilio` SDK and validates the raw response against the spec.",
        "",
        f"**Implemented: {_percent(implemented, len(rows))} · "
        f"Tested: {_percent(tested, len(rows))}**",
        "",
        "## By resource",
        "",
        "| Resource | Operations | Implemented | Tested |",
        "|---|---:|---:|---:|",
    ]
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)
    for group, members in groups.items():
        done = sum(r.implemented for r in members)
        checked = sum(r.tested for r in members)
        lines.append(f"| {group} | {len(members)} | {done} | {checked} |")
    lines.append(f"| **Total** | **{len(rows)}** | **{implemented}** | **{tested}** |")
    lines += [
        "",
        "## Operations",
        "",
        "| Resource | Operation | Method | Path | Implemented | Tested |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.group} | {r.operation_id} | {r.method} | `{r.path}` | "
            f"{_mark(r.implemented)} | {_mark(r.tested)} |"
        )
    lines += voice_section()
    extras = extra_routes(rows)
    if extras:
        lines += [
            "",
            "## Sandbox-only endpoints",
            "",
            "Not part of Twilio's API: the sandbox's control plane.",
            "",
            "| Method | Path |",
            "|---|---|",
        ]
        lines += [f"| {method} | `{path}` |" for method, path in extras]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the committed file is out of date"
    )
    args = parser.parse_args(argv)
    text = render(spec_rows())
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current == text:
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            str(OUTPUT.relative_to(ROOT)) + " (committed)",
            str(OUTPUT.relative_to(ROOT)) + " (generated)",
        )
        sys.stdout.write("".join(diff))
        print(f"{OUTPUT.relative_to(ROOT)} is stale: run `python tools/coverage_table.py`")
        return 1
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
