"""The Markdown report the benchmarks write: sections printed as they come, tables, durations."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field


@dataclass
class Report:
    """Markdown sections collected while the benchmarks run."""

    quick: bool
    sections: list[str] = field(default_factory=list)
    figures: dict[str, t.Any] = field(default_factory=dict)

    def add(self, title: str, body: str) -> None:
        """Add a section and print it at once."""
        text = f"## {title}\n\n{body.strip()}\n"
        self.sections.append(text)
        print(text, flush=True)


def table(header: list[str], rows: list[list[t.Any]]) -> str:
    """A markdown table (a ``|`` inside a cell, as in "tap | target-postgres", is escaped)."""

    def cell(value: t.Any) -> str:
        return str(value).replace("|", "\\|")

    lines = [
        "| " + " | ".join(map(cell, header)) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def human(seconds: float) -> str:
    """``1 h 05 min``, ``12 min``, ``40 s``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{int(minutes // 60)} h {int(minutes % 60):02d} min"
