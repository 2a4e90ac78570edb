"""One table from a kind of answer to how its report is drawn, in each format, as spaCy's displaCy maps a
style to its renderer. The pages (`evaluation.py`, `evaluation_html.py`) lay out what every report has and
ask this table for the rest: no renderer asks which task or which answer type it holds."""

from __future__ import annotations

from typing import Callable, NamedTuple

from toolkit.report import evaluation_entities as entities
from toolkit.report import evaluation_labels as labels
from toolkit.runtime.answers import ENTITIES, KINDS, LABEL, AnswerKind


def no_preface(report: dict) -> list[str]:
    """Nothing above the scores."""
    return []


class Format(NamedTuple):
    """How one kind of answer is drawn in one format (Markdown or HTML); each returns that format's text."""

    sections: Callable[[dict], list[str]]  # (report) -> the kind's own sections, after the scores
    example: Callable[[dict, dict], str]  # (report, item) -> an example's text above its answers, or ""
    gold: Callable[[dict, dict], str]  # (report, item) -> the example's gold answer
    answer: Callable[[dict, dict, object], str]  # (report, item, answer) -> a model's answer to it
    preface: Callable[[dict], list[str]] = no_preface  # (report) -> what goes above the scores (a legend)


class KindSections(NamedTuple):
    """Everything of a report that depends on its kind of answer, in each format."""

    terminal: Callable[[dict], list[str]]  # (report) -> lines under the terminal's scores table
    markdown: Format
    html: Format


SECTIONS: dict[AnswerKind, KindSections] = {
    ENTITIES: KindSections(
        terminal=entities.terminal_lines,
        markdown=Format(entities.markdown_sections, entities.no_text, entities.markdown_gold,
                        entities.markdown_answer),
        html=Format(entities.html_sections, entities.no_text, entities.html_gold, entities.html_answer,
                    preface=entities.html_legend)),
    LABEL: KindSections(
        terminal=labels.terminal_lines,
        markdown=Format(labels.markdown_sections, labels.markdown_text, labels.markdown_gold, labels.markdown_answer),
        html=Format(labels.html_sections, labels.html_text, labels.html_gold, labels.html_answer)),
}


def sections_of(report: dict) -> KindSections:
    """How a report is drawn, by the kind of answer its model gives."""
    return SECTIONS[KINDS[report["answer_kind"]]]
