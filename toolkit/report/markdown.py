"""Markdown building blocks: text from the data shown as itself, code spans, tables."""

from __future__ import annotations

from toolkit.report import format_cell


def md_text(text) -> str:
    """Text from the data, shown as itself in Markdown (punctuation that Markdown reads is escaped)."""
    return "".join("\\" + c if c in "\\`*_[]<>|#" else c for c in str(text)).replace("\n", " ")


def md_code(text) -> str:
    """A name or path as Markdown code (a backtick inside it would end the span, so it is dropped)."""
    return "`" + str(text).replace("`", "") + "`"


def md_table(header: list[str], rows: list[list]) -> list[str]:
    """The lines of a Markdown table, every cell escaped."""
    return ["| " + " | ".join(md_text(h) for h in header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(md_text(format_cell(c)) for c in row) + " |" for row in rows)]
