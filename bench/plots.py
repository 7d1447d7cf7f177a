"""The report's figures, ``docs/img/bench-*.png``, drawn from the results of one run.

Matplotlib (already a runtime dependency, for the timeline) on the Agg backend: no display
needed, so the suite runs headless in CI. Each function returns the file it wrote, or None when
its section has no data (skipped or failed), and never raises for missing figures.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

COLORS = {"sandbox": "#1f77b4", "floor": "#7f7f7f", "prism": "#d62728"}


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def assignment(result: dict[str, Any], path: Path) -> Path | None:
    samples, floor = result.get("samples"), result.get("floor_samples")
    if not samples or not floor:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for name, data in (("sandbox: flip to assigned", samples), ("floor: the 3 round trips", floor)):
        ordered = sorted(data)
        ys = [(i + 1) / len(ordered) for i in range(len(ordered))]
        color = COLORS["sandbox"] if name.startswith("sandbox") else COLORS["floor"]
        ax.step(ordered, ys, where="post", label=name, color=color)
    ax.axvline(10, color="#2ca02c", linestyle="--", label="target p50 <= 10 ms")
    ax.axhline(0.5, color="#bbbbbb", linewidth=0.8)
    ax.set_xlabel("milliseconds")
    ax.set_ylabel("fraction of iterations")
    ax.set_title(f"Assignment latency, {len(samples)} iterations (CDF)")
    ax.legend(loc="lower right")
    return _save(fig, path)


def sdk(result: dict[str, Any], calls: tuple[str, ...], path: Path) -> Path | None:
    targets = result.get("targets")
    calls = tuple(c for c in calls if all(c in f for f in (targets or {}).values()))
    if not targets or not calls:
        return None
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / len(targets)
    for index, (target, figures) in enumerate(targets.items()):
        xs = [i + (index - (len(targets) - 1) / 2) * width for i in range(len(calls))]
        medians = [figures[c]["median"] for c in calls]
        low = [figures[c]["median"] - figures[c]["min"] for c in calls]
        high = [figures[c]["max"] - figures[c]["median"] for c in calls]
        ax.bar(xs, medians, width, yerr=[low, high], capsize=3, label=target,
               color=COLORS.get(target))  # fmt: skip
    ax.set_xticks(range(len(calls)), calls)
    ax.set_ylabel("median ms per call (bars: min-max of rounds)")
    ax.set_title("twilio SDK call latency")
    ax.legend()
    return _save(fig, path)


def scale(result: dict[str, Any], path: Path) -> Path | None:
    http, per_event = result.get("http") or [], result.get("per_event") or {}
    if not http and not per_event:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    kit = [r for r in http if r.get("callbacks", "kit") == "kit"]
    for row in (r for r in http if r.get("callbacks") == "floor"):
        axes[0].plot([row["tasks"]], [row["assign_per_s"]], "k*", markersize=9,
                     label=f"assign, floor callbacks, {row['workers']} w")  # fmt: skip
    for workers in sorted({row["workers"] for row in kit}):
        rows = sorted((r for r in kit if r["workers"] == workers), key=lambda r: r["tasks"])
        xs = [r["tasks"] for r in rows]
        axes[0].plot(xs, [r["create_per_s"] for r in rows], "o--", label=f"create, {workers} w")
        axes[0].plot(xs, [r["assign_per_s"] for r in rows], "s-", label=f"assign, {workers} w")
        axes[2].plot(xs, [r["rss_routed_mb"] for r in rows], "o-", label=f"{workers} workers")
    axes[0].axhline(500, color="#2ca02c", linestyle="--", label="target 500/s")
    axes[0].set(xscale="log", xlabel="tasks", ylabel="per second", title="Throughput over HTTP")
    axes[0].set_ylim(bottom=0)
    for workers, data in per_event.items():
        sizes = sorted(data["sizes"], key=int)
        for key, style in (("task arrives (us)", "o-"), ("worker frees up (us)", "s--")):
            ys = [data["sizes"][s][key]["median"] for s in sizes]
            axes[1].plot([int(s) for s in sizes], ys, style, label=f"{key[:-5]}, {workers} w")
    axes[1].set(xscale="log", xlabel="waiting tasks", ylabel="µs per event",
                title="Per-event routing cost (in process)")  # fmt: skip
    axes[1].set_ylim(bottom=0)
    axes[2].axhline(300, color="#2ca02c", linestyle="--", label="target 300 MB")
    axes[2].set(xscale="log", xlabel="tasks", ylabel="MB", title="Sandbox RSS after routing")
    axes[2].set_ylim(bottom=0)
    for ax in axes:
        ax.legend(fontsize=7)
    return _save(fig, path)


def startup(result: dict[str, Any], path: Path) -> Path | None:
    labels, values, errors = [], [], []
    for label, key in (
        ("sandbox cold start", "cold_start_s"),
        ("connect() auto-start", "connect_s"),
    ):
        figure = result.get(key)
        if figure and not math.isnan(figure["median"]):
            labels.append(label)
            values.append(figure["median"])
            errors.append((figure["median"] - figure["min"], figure["max"] - figure["median"]))
    for name, figure in (result.get("notebooks_s") or {}).items():
        labels.append("all notebooks" if name == "total" else name.removesuffix(".ipynb"))
        values.append(figure["median"])
        errors.append((figure["median"] - figure["min"], figure["max"] - figure["median"]))
    if not values:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(values) + 1.2))
    ax.barh(labels, values, xerr=list(zip(*errors, strict=True)), capsize=3, color="#1f77b4")
    ax.invert_yaxis()
    ax.set_xlabel("seconds (median, bars: min-max)")
    ax.set_title("What a learner waits for")
    return _save(fig, path)
