"""Tables, statistics and targets shared by every section."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


def median(values: Sequence[float]) -> float:
    """The median."""
    return statistics.median(values)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank on the sorted values)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass
class Check:
    """A target: the measured ratio against the limit."""

    name: str
    ratio: float
    limit: float

    @property
    def met(self) -> bool:
        """Whether the measured ratio is within the limit."""
        return self.ratio <= self.limit

    def line(self) -> str:
        """One line for the terminal."""
        verdict = "met" if self.met else "NOT met"
        return f"target {self.name}: {self.ratio:.2f}x (limit {self.limit:.2f}x) -> {verdict}"


@dataclass
class Table:
    """One printed table: a title, a method note, rows of cells, and the targets it checks."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def render(self) -> str:
        """The table as aligned text."""
        widths = [max(len(str(c)) for c in column) for column in zip(self.columns, *self.rows, strict=False)]
        rule = "  ".join("-" * w for w in widths)

        def line(cells: Sequence[str]) -> str:
            return "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=False))
            )

        out = [f"== {self.title}", line(self.columns), rule, *(line(r) for r in self.rows)]
        out += [f"   {n}" for n in self.notes]
        out += [f"   {c.line()}" for c in self.checks]
        return "\n".join(out)

    def as_json(self) -> dict[str, Any]:
        """The table for --json: cells, notes, targets and raw figures."""
        return {
            "title": self.title,
            "columns": self.columns,
            "rows": self.rows,
            "notes": self.notes,
            "checks": [{**asdict(c), "met": c.met} for c in self.checks],
            "data": self.data,
        }


def ms(value: float) -> str:
    """Milliseconds, one decimal."""
    return f"{value:.1f}"


def us(value: float) -> str:
    """Microseconds, no decimal."""
    return f"{value:.0f}"


def ratio(value: float) -> str:
    """A ratio such as 1.07x."""
    return f"{value:.2f}x"


@dataclass(frozen=True)
class Options:
    """How hard each section works (`--quick` divides the effort for a smoke run)."""

    cold_repetitions: int = 21
    #: (rounds, requests per round, warm-up requests) per side and operation
    warm_stubbed: tuple[int, int, int] = (3, 2000, 300)
    warm_moto: tuple[int, int, int] = (6, 50, 30)

    @classmethod
    def quick(cls) -> Options:
        """A fast smoke run: figures too noisy to quote."""
        return cls(cold_repetitions=3, warm_stubbed=(2, 100, 50), warm_moto=(2, 10, 5))
