"""Matplotlib figures of a run or a comparison: wait distribution, load over time, occupancy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .compare import Comparison
    from .results import Results


def _wait_cdf(ax: Any, r: Results, label_prefix: str = "") -> None:
    groups = [(f.label, None if f.label == "all callers" else f.label.split("=", 1)[1])
              for f in [r.overall, *r.segments]]  # fmt: skip
    for label, segment in groups:
        waits = r.waits(segment)
        if waits:
            shares = [(i + 1) / len(waits) for i in range(len(waits))]
            ax.step(waits, shares, where="post", label=f"{label_prefix}{label}")
    ax.axvline(r.service_level_seconds, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("wait until answered (s)")
    ax.set_ylabel("share of answered callers")
    ax.set_title("wait-time distribution")
    ax.legend(fontsize="small")


def _over_time(ax: Any, r: Results) -> None:
    hours = [s["at"] / 3600 for s in r.samples]
    for status in ("pending", "assigned", "wrapping"):
        ax.plot(hours, [s["tasks_by_status"].get(status, 0) for s in r.samples], label=status)
    ax.set_xlabel("hour of the day")
    ax.set_ylabel("tasks (real-time statistics)")
    ax.set_title("tasks over time")
    ax.legend(fontsize="small")


def plot_results(r: Results, figsize: tuple[float, float] = (13, 3.6)) -> Any:
    import matplotlib.pyplot as plt

    fig, (a, b, c) = plt.subplots(1, 3, figsize=figsize)
    _wait_cdf(a, r)
    _over_time(b, r)
    names = list(r.occupancy)
    c.barh(names, [100 * v for v in r.occupancy.values()])
    c.set_xlabel("occupancy (%)")
    c.set_title("occupancy per agent")
    c.tick_params(axis="y", labelsize=6)
    fig.suptitle(f"{r.design} (seed {r.seed})", usetex=False)
    fig.tight_layout()
    return fig


def plot_comparison(c: Comparison, figsize: tuple[float, float] = (12, 3.8)) -> Any:
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=figsize)
    labels = c.labels()
    width = 0.8 / len(c.results)
    for i, r in enumerate(c.results):
        levels = [next((100 * f.service_level for f in r.rows() if f.label == lab), 0.0)
                  for lab in labels]  # fmt: skip
        a.bar([x + i * width for x in range(len(labels))], levels, width, label=r.design)
        for f in [r.overall, *r.segments]:
            segment = None if f.label == "all callers" else f.label.split("=", 1)[1]
            waits = r.waits(segment)
            if waits:
                b.step(waits, [(k + 1) / len(waits) for k in range(len(waits))], where="post",
                       label=f"{r.design}: {f.label}")  # fmt: skip
    a.set_xticks([x + 0.4 - width / 2 for x in range(len(labels))], labels, rotation=20,
                 fontsize="small")  # fmt: skip
    a.set_ylabel(f"service level (% within {c.results[0].service_level_seconds} s)")
    a.legend(fontsize="small")
    b.set_xlabel("wait until answered (s)")
    b.set_ylabel("share of answered callers")
    b.legend(fontsize="x-small")
    fig.tight_layout()
    return fig
