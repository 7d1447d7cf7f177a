"""Table rows of results, as HTML (through the kit's one escaping path) or plain text."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .._html import escape

if TYPE_CHECKING:
    from .compare import Comparison
    from .results import Figures, Results

COLUMNS = ("offered", "answered", "abandoned", "service level", "mean wait s", "p90 wait s",
           "longest wait s", "waited")  # fmt: skip


def cells(f: Figures) -> list[str]:
    def num(value: float, digits: int = 1) -> str:
        return "–" if math.isnan(value) else f"{value:,.{digits}f}"

    def pct(value: float) -> str:
        return "–" if math.isnan(value) else f"{100 * value:.1f} %"

    return [str(f.offered), str(f.answered), f"{f.abandoned} ({pct(f.abandon_rate)})",
            pct(f.service_level), num(f.mean_wait), num(f.p90_wait), num(f.longest_wait, 0),
            pct(f.waited_share)]  # fmt: skip


def html_table(head: list[str], rows: list[list[str]]) -> str:
    """A plain HTML table; every cell escaped."""
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)  # fmt: skip
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def results_rows(r: Results) -> list[list[str]]:
    return [[f.label, *cells(f)] for f in r.rows()]


def results_text(r: Results) -> str:
    rows = [["", *COLUMNS], *results_rows(r)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
                     for row in rows)  # fmt: skip


def comparison_rows(c: Comparison) -> list[list[str]]:
    rows = []
    for label in c.labels():
        for r in c.results:
            f = next((f for f in r.rows() if f.label == label), None)
            if f is not None:
                rows.append([label, r.design, *cells(f)])
    return rows
