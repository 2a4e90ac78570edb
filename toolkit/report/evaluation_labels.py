"""The report sections and answers of a model that gives a text one label (`AnswerKind` LABEL), in Markdown
and in HTML, drawn from the same rows: the confusion matrix, the most confidently wrong texts."""

from __future__ import annotations

from html import escape

from toolkit.report.html import badge, html_table
from toolkit.report.markdown import md_table, md_text

TEXT_SHOWN = 400  # characters of a long text in the Markdown report


def confusion_rows(details: dict) -> tuple[list[str], list[list]]:
    """Header and rows of the confusion matrix: one row per gold label, one column per predicted label."""
    labels, matrix = details["confusion"]["labels"], details["confusion"]["matrix"]
    return ["gold \\ predicted", *labels], [[label, *row] for label, row in zip(labels, matrix)]


def wrong_title(details: dict) -> str:
    """The heading of the most confidently wrong texts, with how many are wrong."""
    return f"The {len(details['confidently_wrong'])} most confidently wrong texts ({details['wrong']} wrong)"


def short(text: str, limit: int = TEXT_SHOWN) -> str:
    """The start of a long text, marked as cut."""
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def terminal_lines(report: dict) -> list[str]:
    """Nothing under the terminal's scores: the confusion matrix is in the files."""
    return []


def markdown_sections(report: dict) -> list[str]:
    """Markdown: the confusion matrix, the most confidently wrong texts."""
    details = report["details"]
    lines = ["## Confusion matrix (rows: gold, columns: predicted)", "", *md_table(*confusion_rows(details)), "",
             f"## {wrong_title(details)}", ""]
    if not details["wrong"]:
        lines.append("None: every text was answered right.")
    for item in details["confidently_wrong"]:
        lines += [f"- text {item['index']}: gold {md_text(item['gold'])}, predicted "
                  f"{markdown_answer(report, item, item['predicted'])}: {md_text(short(item['text']))}"]
    return lines + [""]


def markdown_text(report: dict, item: dict) -> str:
    """The start of an example's text, shown once above its answers."""
    return md_text(short(item["text"]))


def markdown_gold(report: dict, item: dict) -> str:
    """An example's gold label."""
    return md_text(item["gold"])


def markdown_answer(report: dict, item: dict, answer: dict) -> str:
    """A model's answer: its label and score."""
    return f"{md_text(answer['label'])} ({answer['score']:.3f})"


def html_sections(report: dict) -> list[str]:
    """HTML: the confusion matrix, the most confidently wrong texts."""
    details = report["details"]
    sections = ["<h2>Confusion matrix</h2>", '<p class="note">Rows: gold label; columns: predicted label.</p>',
                html_table(*confusion_rows(details)), f"<h2>{wrong_title(details)}</h2>",
                "" if details["wrong"] else "<p>None: every text was answered right.</p>"]
    for item in details["confidently_wrong"]:
        answer = item["predicted"]
        sections.append(
            f'<section class="card wrong-text"><h3>text {item["index"]}: gold {badge(item["gold"])}, predicted '
            f'{badge(answer["label"], "badge bad")} ({answer["score"]:.3f})</h3>{html_text(report, item)}</section>')
    return sections


def html_text(report: dict, item: dict) -> str:
    """An example's whole text, in a box that scrolls, shown once above its answers."""
    return f'<div class="review">{escape(item["text"])}</div>'


def html_gold(report: dict, item: dict) -> str:
    """An example's gold label, as a badge."""
    return badge(item["gold"])


def html_answer(report: dict, item: dict, answer: dict) -> str:
    """A model's answer: its label and score."""
    return f'{badge(answer["label"])} {answer["score"]:.3f}'
