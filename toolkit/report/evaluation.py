"""`toolkit evaluate`'s terminal summary and Markdown report, and writing report.json, report.md and
report.html (the page is drawn in `evaluation_html.py`). What differs by kind of answer comes from
`evaluation_sections.SECTIONS`."""

from __future__ import annotations

import json
from pathlib import Path

from toolkit.config import EVALUATION_REPORTS
from toolkit.report import format_table
from toolkit.report.evaluation_html import evaluation_html
from toolkit.report.evaluation_rows import DIFFERENCES_NOTE, difference_rows, evaluated_line, score_rows
from toolkit.report.evaluation_sections import sections_of
from toolkit.report.markdown import md_code, md_table, md_text
from toolkit.options import report_paths
from toolkit.staging import write_file


def evaluation_table(report: dict) -> str:
    """The terminal summary of `toolkit evaluate`: scores, then the notes."""
    lines = [evaluated_line(report), format_table(*score_rows(report)), *sections_of(report).terminal(report)]
    lines += [f"note: {n}" for n in report["notes"]]
    return "\n".join(lines)


def differences_markdown(report: dict) -> list[str]:
    """The section of a bundle's variants against PyTorch (none without a PyTorch reference)."""
    if not report["differences"]:
        return []
    kind = sections_of(report).markdown
    lines = ["## Variants against PyTorch", "", DIFFERENCES_NOTE, "", *md_table(*difference_rows(report)), ""]
    for difference in report["differences"]:
        if not difference["shown"]:
            continue
        lines += [f"### {difference['variant']}: the first {len(difference['shown'])} differences", ""]
        for item in difference["shown"]:
            text = kind.example(report, item)
            lines += [f"- example {item['index']}" + (f": {text}" if text else ""),
                      f"  - gold: {kind.gold(report, item)}",
                      f"  - pytorch: {kind.answer(report, item, item['pytorch'])}",
                      f"  - {difference['variant']}: {kind.answer(report, item, item['variant'])}"]
        lines.append("")
    return lines


def evaluation_markdown(report: dict) -> str:
    """The Markdown report: what was evaluated, scores, the kind's tables, variants against PyTorch."""
    kind = sections_of(report).markdown
    evaluation = report["evaluation"]
    lines = [f"# Evaluation: {md_text(report['model_dir'])}", "", f"- {evaluated_line(report, md_code)}",
             f"- rows fingerprint: {evaluation.get('fingerprint')}", "", *kind.preface(report),
             "## Scores", "", *md_table(*score_rows(report)), ""]
    lines += kind.sections(report)
    lines += differences_markdown(report)
    lines += [f"- note: {md_text(n)}" for n in report["notes"]]
    return "\n".join(lines).rstrip() + "\n"


def write_evaluation_reports(report, json_path) -> list[Path]:
    """Write report.json, and report.md and report.html next to it, each atomically; return the paths."""
    data = report.as_dict() if hasattr(report, "as_dict") else report
    json_path = Path(json_path)
    paths = report_paths(json_path, EVALUATION_REPORTS)  # .md, then .html
    texts = [json.dumps(data, indent=2, ensure_ascii=False) + "\n", evaluation_markdown(data), evaluation_html(data)]
    for path, text in zip(paths, texts):  # rendered first: a renderer's failure leaves no file changed
        write_file(path, text)
    return paths
