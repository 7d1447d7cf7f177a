"""The same seeded day against several designs, side by side, with the configuration diff."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._html import escape
from .design import Design, diff
from .report import COLUMNS, comparison_rows, html_table
from .results import Results


@dataclass
class Comparison:
    designs: list[Design]
    results: list[Results]

    def labels(self) -> list[str]:
        seen: list[str] = []
        for r in self.results:
            seen += [f.label for f in r.rows() if f.label not in seen]
        return seen

    def diffs(self) -> list[tuple[str, str]]:
        first = self.designs[0]
        return [(f"{first.name} → {d.name}", diff(first, d)) for d in self.designs[1:]]

    def figure(self, label: str, design: str) -> Any:
        result = next(r for r in self.results if r.design == design)
        return next(f for f in result.rows() if f.label == label)

    def _repr_html_(self) -> str:
        parts = [html_table(["", "design", *COLUMNS], comparison_rows(self))]
        for title, text in self.diffs():
            parts.append(f"<p><b>{escape(title)}</b></p><pre>{escape(text)}</pre>")
        return "".join(parts)

    def plot(self, **kwargs: Any) -> Any:
        from .plots import plot_comparison

        return plot_comparison(self, **kwargs)


def compare(designs: Sequence[Design], run: Any) -> Comparison:
    """``run(design) -> Results`` for each design (the same scenario and seed each time)."""
    designs = list(designs)
    return Comparison(designs, [run(d) for d in designs])
