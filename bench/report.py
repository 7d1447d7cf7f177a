"""``docs/benchmarks.md``: the tables of one run, its targets met or missed, and the figures.

Generated, never edited by hand: ``python -m bench`` writes it from ``results.json``, and
``python -m bench --report-only`` redraws it from that file. The hand-written part (profiling
findings and the before/after figures of fixes) lives in ``bench/findings.md`` and is appended.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import plots, targets
from .sdk_latency import CALLS, LIST_1

FINDINGS = Path(__file__).with_name("findings.md")
SECTIONS = (
    "## 1. Assignment latency",
    "## 2. SDK call latency",
    "## 3. Scale",
    "## 4. Notebooks and start-up",
    "## 5. A simulated day on the sandbox's clock",
    "## 6. Profiling and fixes",
)


def num(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def cell(figure: dict[str, float] | None, digits: int = 2, scale: float = 1.0) -> str:
    """``median (min–max)`` of repeated runs."""
    if not figure or figure.get("runs", 1) == 0:
        return "–"
    median, low, high = (figure[k] * scale for k in ("median", "min", "max"))
    if figure.get("runs", 1) == 1:
        return num(median, digits)
    return f"{num(median, digits)} ({num(low, digits)}–{num(high, digits)})"


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def failed(section: dict[str, Any] | None) -> list[str] | None:
    if section is None:
        return ["Not run in this invocation."]
    if "error" in section:
        return [f"**Failed:** `{section['error']}`"]
    return None


def assignment(r: dict[str, Any]) -> list[str]:
    rows = []
    for label, key in (("flip to `assigned` (end to end)", "assigned"),
                       ("  of which: worker update returned", "update_returned"),
                       ("  of which: callback answered (logged)", "callback_logged"),
                       ("floor: update + callback POST + fetch", "floor")):  # fmt: skip
        f = r[key]
        rows.append([label, num(f["p50"]), num(f["p95"]), num(f["p99"]), num(f["min"])])
    lines = table(["ms", "p50", "p95", "p99", "min"], rows)
    lines += ["", *table(["per round (median, min–max of rounds)", "value"], [
        ["p50, sandbox (ms)", cell(r["p50_per_round"])],
        ["p50, floor (ms)", cell(r["floor_p50_per_round"])],
        ["p50 sandbox / p50 floor (same round)", cell(r["ratio_p50"])],
        ["fetches per iteration (mean / max)", f"{num(r['fetches_mean'])} / {r['fetches_max']}"],
    ])]  # fmt: skip
    return [f"{r['rounds']} rounds x {r['iterations']} iterations = "
            f"{r['rounds'] * r['iterations']} timed flips.", "", *lines]  # fmt: skip


def sdk(r: dict[str, Any]) -> list[str]:
    names = list(r["targets"])
    head = ["median ms (min–max of rounds)", *names, "p95 sandbox", *r["ratios"]]
    rows = []
    for call in CALLS:  # .get: results saved before a call was added show a dash
        row = [call, *(cell(r["targets"][t].get(call)) for t in names)]
        row.append(num(r["targets"]["sandbox"].get(call, {}).get("p95")))
        row += [cell(r["ratios"][name].get(call)) for name in r["ratios"]]
        rows.append(row)
    notes = [f"{r['rounds']} rounds x {r['iterations']} calls per server and call. "
             f"Prism: {r['prism_note']}."]  # fmt: skip
    floor_one = r["targets"].get("floor", {}).get(LIST_1)
    if floor_one:
        notes.append(f"Floor replaying the list cut to one record: {cell(floor_one)} ms.")
    if r.get("fair_list_ratio"):
        notes.append("List 50, Prism + the SDK's cost of 49 more records, over the sandbox: "
                     f"{cell(r['fair_list_ratio'])}x.")  # fmt: skip
    if r.get("prism_startup_s"):
        notes.append(f"Prism took {num(r['prism_startup_s'])} s to listen.")
    return [" ".join(notes), "", *table(head, rows)]


def scale(r: dict[str, Any]) -> list[str]:
    lines = []
    if r.get("http"):
        head = ["tasks", "workers", "callbacks", "create/s (run)", "create/s slices"]
        head += ["assign/s (run)", "assign/s slices", "CPU ms per create: sandbox / bench"]
        head += ["CPU ms per assignment: sandbox / bench", "RSS MB setup / loaded / routed"]
        rows = []
        for x in r["http"]:
            cpu_c, cpu_a = x["create_cpu_ms"], x["assign_cpu_ms"]
            rows.append([f"{x['tasks']:,}", f"{x['workers']:,}", x["callbacks"],
                         num(x["create_per_s"], 0), cell(x["create_windows"], 0),
                         num(x["assign_per_s"], 0), cell(x["assign_windows"], 0),
                         f"{num(cpu_c[0])} / {num(cpu_c[1])}", f"{num(cpu_a[0])} / {num(cpu_a[1])}",
                         f"{num(x['rss_setup_mb'], 0)} / {num(x['rss_loaded_mb'], 0)} / "
                         f"{num(x['rss_routed_mb'], 0)}"])  # fmt: skip
        threads = r["http"][0]["threads"]
        intro = (f"Over HTTP with the SDK, {threads} client threads. *slices*: median (min–max) "
                 "of ten equal slices of the run. *callbacks* `kit` = the real CallbackServer; "
                 "`floor` = `bench/floor.py` answering accept (keep-alive, no signature check), "
                 "completion polled every 0.25 s: the sandbox's own capacity. *CPU*: user + "
                 "system time of the sandbox process and of the bench process (SDK clients and "
                 "the CallbackServer) divided by the tasks.")  # fmt: skip
        lines += [intro, "", *table(head, rows), ""]
    if r.get("per_event"):
        head, rows = ["workers", "waiting tasks", "task arrives µs", "worker frees up µs"], []
        for workers, data in r["per_event"].items():
            for size, keys in sorted(data["sizes"].items(), key=lambda kv: int(kv[0])):
                rows.append([str(workers), f"{int(size):,}", cell(keys["task arrives (us)"], 0),
                             cell(keys["worker frees up (us)"], 0)])  # fmt: skip
            rows.append([str(workers), "**largest / smallest**",
                         cell(data["ratio"]["task arrives (us)"]),
                         cell(data["ratio"]["worker frees up (us)"])])  # fmt: skip
        intro = (f"Per-event routing cost in process (median of {r['events']} events per "
                 f"run; median (min–max) of {r['rounds']} rounds):")  # fmt: skip
        lines += [intro, "", *table(head, rows)]
    return lines


def startup(r: dict[str, Any]) -> list[str]:
    rows = [["sandbox cold start to first 200", cell(r["cold_start_s"], 3)],
            ["`helpers.connect()` auto-start + first list", cell(r["connect_s"], 3)]]  # fmt: skip
    for name, figure in r["notebooks_s"].items():
        label = f"**all {len(r['notebooks'])} notebooks**" if name == "total" else f"`{name}`"
        rows.append([label, cell(figure, 2)])
    return [f"Start-up: {r['rounds']} runs each; notebooks: {r['notebook_rounds']} full passes.",
            "", *table(["seconds", "median (min–max)"], rows)]  # fmt: skip


def experiment(r: dict[str, Any]) -> list[str]:
    rows = [
        ["simulated day", f"{num(r['hours'], 1)} h, {r['tasks']:,} tasks, {r['agents']} agents"],
        ["wall time of the day (s)", num(r["day_s"], 1)],
        ["tasks per second of wall time", num(r["tasks_per_s"], 1)],
        ["API requests (SDK + clock) / ms each", f"{r['requests']:,} / {num(r['ms_per_request'])}"],
        ["CPU s: sandbox / driver (its share)",
         f"{num(r['sandbox_cpu_s'], 1)} / {num(r['bench_cpu_s'], 1)} "
         f"({num(100 * r['sandbox_share'], 0)} % sandbox)"],
        ["reading the results back (s)", num(r["read_s"], 1)],
        ["answered / abandoned / service level 20 s",
         f"{r['answered']:,} / {r['abandoned']:,} / {num(100 * r['service_level'], 1)} %"],
    ]  # fmt: skip
    return ["One run (a day is long to repeat).", "", *table(["figure", "value"], rows)]


def render(results: dict[str, Any], out_dir: Path, text: dict[str, str]) -> Path:
    """Write ``benchmarks.md`` and ``img/bench-*.png`` into ``out_dir``; returns the report."""
    img = out_dir / "img"
    meta = results.get("meta", {})
    figures: dict[str, Path | None] = {}
    drawers: dict[str, Callable[[], Path | None]] = {
        "assignment": lambda: plots.assignment(results["assignment"], img / "bench-assignment.png"),
        "sdk": lambda: plots.sdk(results["sdk"], CALLS, img / "bench-sdk.png"),
        "scale": lambda: plots.scale(results["scale"], img / "bench-scale.png"),
        "startup": lambda: plots.startup(results["startup"], img / "bench-startup.png"),
    }
    for name, draw in drawers.items():
        figures[name] = draw() if failed(results.get(name)) is None else None
    lines = [text["intro"].format(**meta), "", "## Targets", "",
             *table(["target", "measured", "verdict"], targets.evaluate(results)), ""]  # fmt: skip
    builders = {"assignment": assignment, "sdk": sdk, "scale": scale, "startup": startup,
                "experiment": experiment}  # fmt: skip
    for heading, (name, build) in zip(SECTIONS, builders.items(), strict=False):
        lines += [heading, "", text[name], ""]
        lines += failed(results.get(name)) or build(results[name])
        if figures.get(name) is not None:
            lines += ["", f"![{name}](img/{figures[name].name})"]  # type: ignore[union-attr]
        lines.append("")
    lines += [SECTIONS[-1], ""]
    if FINDINGS.exists():
        lines += [FINDINGS.read_text().strip(), ""]
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "benchmarks.md"
    report.write_text("\n".join(lines).rstrip() + "\n")
    return report
