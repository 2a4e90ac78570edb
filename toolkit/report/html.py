"""HTML building blocks: tables, side-by-side columns, badges and highlight colours, every text escaped."""

from __future__ import annotations

from html import escape

from toolkit.report import format_cell

# Light backgrounds that stay readable with dark text, and apart from each other.
PALETTE = ("#ffd8a8", "#a5d8ff", "#b2f2bb", "#eebefa", "#ffec99", "#99e9f2", "#ffc9c9", "#d0bfff", "#c0eb75",
           "#fcc2d7")
# CSS classes, not colours inline: a class name never comes from the data.
PALETTE_STYLE = "\n".join(f".t{i} {{ background: {colour}; }}" for i, colour in enumerate(PALETTE))


def colour_class(index: int) -> str:
    """The CSS class of the `index`-th highlight colour (colours repeat past the palette's end)."""
    return f"t{index % len(PALETTE)}"


def html_table(header: list[str], rows: list[list], row_classes: list[str] | None = None) -> str:
    """A table, every cell escaped; `row_classes` style rows (the subject, the baseline, a total)."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        css = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{escape(format_cell(c))}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def column(label: str, content: str) -> str:
    """One side of a side-by-side comparison, under its label."""
    return f'<div><div class="label">{escape(label)}</div>{content}</div>'


def badge(text: str, css: str = "badge") -> str:
    """A short text (a label) set off from the prose around it."""
    return f'<span class="{css}">{escape(text)}</span>'
