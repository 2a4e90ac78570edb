"""Render results for people: terminal tables, Markdown, HTML, a PNG plot, and the bundle's model card.

One module per stage (`train`, `export`, `bench`, `evaluation` and its page `evaluation_html`); this
module holds the table and cell helpers they share, nothing of one task or one stage.
"""

from __future__ import annotations

NOT_MEASURED = "not measured"


def format_table(header: list[str], rows: list[list]) -> str:
    """A plain aligned text table."""
    cells = [[str(c) for c in header]] + [[format_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_cell(value) -> str:
    """A table cell: "-" for nothing, floats to 4 decimals (1 from 10 up)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def one_decimal(value) -> str | None:
    """Milliseconds and rates with one decimal, whatever their size (5.9 beside 32.3, not 5.8939)."""
    return None if value is None else f"{value:.1f}"
