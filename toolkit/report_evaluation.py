"""Render `toolkit evaluate`'s report: the terminal table, Markdown, and writing report.json, report.md
and report.html (the page is drawn in `report_html.py`)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from toolkit.report import format_cell, format_table

# Headline columns per task: (key in the metrics, what a reader calls it).
HEADLINE = {
    "ner": [("f1", "entity F1 (sub-word tags)"), ("precision", "P (sub-word)"), ("recall", "R (sub-word)"),
            ("word_f1", "entity F1 (words, CoNLL)"), ("word_precision", "P (words)"), ("word_recall", "R (words)")],
    "sentiment": [("accuracy", "accuracy"), ("f1", "macro F1")],
}
CATEGORY_NAMES = {"wrong_type": "right span, wrong type", "boundary": "boundary", "missed": "missed",
                  "spurious": "spurious"}
TEXT_SHOWN = 400  # characters of a long text in the Markdown report


def has_entities(report: dict) -> bool:
    """Whether the report's answers are entities (NER) rather than one label per text."""
    return "per_type" in report["details"]


def headline(report: dict) -> list[tuple[str, str]]:
    """The (key, name) columns of the report's task, or every number it has."""
    return HEADLINE.get(report["task"]) or [(k, k) for k, v in report["metrics"].items() if isinstance(v, float)]


def score_rows(report: dict) -> tuple[list[str], list[list]]:
    """Header and rows of the scores table: every model evaluated, then the majority baseline."""
    columns = headline(report)
    differing = {d["variant"]: f"{d['differing']}/{d['examples']}" for d in report["differences"]}
    header = ["model", *(name for _, name in columns)] + (["answers differing from PyTorch"] if differing else [])
    rows = []
    for entry in report["models"]:
        name = entry["model"] + (" *" if entry["model"] == report["subject"] and len(report["models"]) > 1 else "")
        rows.append([name, *(entry["metrics"].get(key) for key, _ in columns)]
                    + ([differing.get(entry["model"], "-")] if differing else []))
    baseline = report["baseline"] or {}
    rows.append([f"always {baseline.get('answer')!r}", *(baseline.get(key) for key, _ in columns)]
                + (["-"] if differing else []))
    return header, rows


def evaluated_line(report: dict, code=str) -> str:
    """What was evaluated, on which rows, in one sentence (`code` marks names and paths)."""
    evaluation = report["evaluation"]
    what = (f"the PyTorch checkpoint {code(report['model_dir'])}" if report["kind"] == "checkpoint" else
            f"variant {code(report['subject'])} of the bundle {code(report['model_dir'])}")
    return (f"{report['task']}: {what}, on {evaluation['examples']} examples of {code(evaluation['dataset'])} "
            f"({evaluation['split']}); decoding: {report['decoding']}")


def md_code(text) -> str:
    """A name or path as Markdown code (a backtick inside it would end the span, so it is dropped)."""
    return "`" + str(text).replace("`", "") + "`"


def evaluation_table(report: dict) -> str:
    """The terminal summary of `toolkit evaluate`: scores, then the notes."""
    header, rows = score_rows(report)
    lines = [evaluated_line(report), format_table(header, rows)]
    errors = report["details"].get("errors")
    if errors:
        counts = ", ".join(f"{CATEGORY_NAMES[c]} {n}" for c, n in errors["counts"].items())
        lines.append(f"entity mistakes of {report['subject']} (words): {counts}")
    lines += [f"note: {n}" for n in report["notes"]]
    return "\n".join(lines)


def md_text(text: str) -> str:
    """Text from the data, shown as itself in Markdown (punctuation that Markdown reads is escaped)."""
    return "".join("\\" + c if c in "\\`*_[]<>|#" else c for c in str(text)).replace("\n", " ")


def md_table(header: list[str], rows: list[list]) -> list[str]:
    """The lines of a Markdown table, every cell escaped."""
    return ["| " + " | ".join(md_text(h) for h in header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(md_text(format_cell(c)) for c in row) + " |" for row in rows)]


def segments(words: list[str], entities: list[dict]) -> list[tuple[str, dict | None]]:
    """A sentence cut into (text, entity or None) runs, for highlighting its entities."""
    runs, position = [], 0
    for entity in sorted(entities, key=lambda e: e["start"]):
        if entity["start"] > position:
            runs.append((" ".join(words[position:entity["start"]]), None))
        runs.append((" ".join(words[entity["start"]:entity["end"]]), entity))
        position = entity["end"]
    if position < len(words):
        runs.append((" ".join(words[position:]), None))
    return runs


def md_sentence(words: list[str], entities: list[dict]) -> str:
    """The sentence with each entity in bold, its type after it in italics."""
    text = " ".join(f"**{md_text(text)}** _{md_text(entity['type'])}_" if entity else md_text(text)
                    for text, entity in segments(words, entities))
    return text + ("" if entities else " _(no entities)_")


def describe_error(error: dict) -> str:
    """A mistake in words, e.g. `missed PER "Angela Merkel"`."""
    def named(entities):
        return ", ".join(f"{e['type']} \"{e['text']}\"" for e in entities)

    if error["category"] == "missed":
        return f"missed {named(error['gold'])}"
    if error["category"] == "spurious":
        return f"spurious {named(error['predicted'])}"
    return f"{CATEGORY_NAMES[error['category']]}: gold {named(error['gold'])}, predicted {named(error['predicted'])}"


def md_ner(report: dict) -> list[str]:
    """NER's Markdown sections: per type, entity mistakes, the worst sentences."""
    details = report["details"]
    rows = [[kind, v["precision"], v["recall"], v["f1"], v["support"], v.get("subword_f1")]
            for kind, v in details["per_type"].items()]
    lines = ["## Per entity type (words)", "",
             *md_table(["type", "precision", "recall", "F1", "support", "F1 on sub-word tags"], rows), ""]
    errors = details["errors"]
    categories = errors["categories"]
    by_type = [[kind, *(counts[c] for c in categories)] for kind, counts in errors["by_type"].items()]
    by_type.append(["all", *(errors["counts"][c] for c in categories)])
    lines += ["## Entity mistakes (words)", "",
              f"{errors['correct']} of {errors['gold']} gold entities found exactly; {errors['predicted']} predicted. "
              "A mistake is counted under its gold type (spurious ones under the predicted type); overlapping "
              "entities with wrong edges are one boundary mistake.", "",
              *md_table(["type", *(CATEGORY_NAMES[c] for c in categories)], by_type), ""]
    if errors["confusions"]:
        lines += ["Taken for another type: " + ", ".join(f"{pair} {n}" for pair, n in errors["confusions"].items()),
                  ""]
    worst = details["worst"]
    lines += [f"## The {len(worst)} worst sentences ({details['sentences_with_errors']} have a mistake)", ""]
    if not details["sentences_with_errors"]:
        lines += ["None: every entity of every sentence was found exactly.", ""]
    for rank, item in enumerate(worst, start=1):
        lines += [f"### {rank}. sentence {item['index']} ({len(item['errors'])} mistakes)", "",
                  f"- gold: {md_sentence(item['words'], item['gold'])}",
                  f"- predicted: {md_sentence(item['words'], item['predicted'])}",
                  *(f"- {md_text(describe_error(e))}" for e in item["errors"]), ""]
    return lines


def short(text: str, limit: int = TEXT_SHOWN) -> str:
    """The start of a long text, marked as cut."""
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def md_sentiment(report: dict) -> list[str]:
    """Sentiment's Markdown sections: the confusion matrix, the most confidently wrong texts."""
    details = report["details"]
    labels, matrix = details["confusion"]["labels"], details["confusion"]["matrix"]
    lines = ["## Confusion matrix (rows: gold, columns: predicted)", "",
             *md_table(["gold \\ predicted", *labels], [[label, *row] for label, row in zip(labels, matrix)]), "",
             f"## The {len(details['confidently_wrong'])} most confidently wrong texts ({details['wrong']} wrong)", ""]
    if not details["wrong"]:
        lines.append("None: every text was answered right.")
    for item in details["confidently_wrong"]:
        answer = item["predicted"]
        lines += [f"- text {item['index']}: gold {md_text(item['gold'])}, predicted {md_text(answer['label'])} "
                  f"({answer['score']:.3f}): {md_text(short(item['text']))}"]
    return lines + [""]


def md_answer(item: dict, answer) -> str:
    """A model's answer to one example: its sentence with the entities found, or its label and score."""
    if isinstance(answer, list):
        return md_sentence(item["words"], answer)
    return f"{md_text(answer['label'])} ({answer['score']:.3f})"


def md_differences(report: dict) -> list[str]:
    """The Markdown section of a bundle's variants against PyTorch (none without a PyTorch reference)."""
    if not report["differences"]:
        return []
    columns = headline(report)
    rows = [[d["variant"], f"{d['differing']}/{d['examples']}",
             *(f"{d['metric_deltas'][k]:+.4f}" if k in d["metric_deltas"] else "-" for k, _ in columns)]
            for d in report["differences"]]
    lines = ["## Variants against PyTorch", "",
             "Answers that differ from the PyTorch checkpoint's on the same rows (NER: the set of entities of a "
             "sentence; sentiment: the label), and the change of each score (+ = better than PyTorch).", "",
             *md_table(["variant", "examples answered differently", *(f"Δ {name}" for _, name in columns)], rows), ""]
    for difference in report["differences"]:
        if not difference["shown"]:
            continue
        lines += [f"### {difference['variant']}: the first {len(difference['shown'])} differences", ""]
        for item in difference["shown"]:
            gold = item["gold"]
            lines += [f"- example {item['index']}"
                      + (f": {md_text(short(item['text']))}" if "text" in item else ""),
                      f"  - gold: {md_sentence(item['words'], gold) if 'words' in item else md_text(gold)}",
                      f"  - pytorch: {md_answer(item, item['pytorch'])}",
                      f"  - {difference['variant']}: {md_answer(item, item['variant'])}"]
        lines.append("")
    return lines


def evaluation_markdown(report: dict) -> str:
    """The Markdown report: what was evaluated, scores, the task's tables, variants against PyTorch."""
    header, rows = score_rows(report)
    evaluation = report["evaluation"]
    lines = [f"# Evaluation: {md_text(report['model_dir'])}", "", f"- {evaluated_line(report, md_code)}",
             f"- rows fingerprint: {evaluation.get('fingerprint')}", "", "## Scores", "", *md_table(header, rows), ""]
    lines += md_ner(report) if has_entities(report) else md_sentiment(report)
    lines += md_differences(report)
    lines += [f"- note: {md_text(n)}" for n in report["notes"]]
    return "\n".join(lines).rstrip() + "\n"


def replace_file(path: Path, text: str) -> None:
    """Write `text` to a temporary file next to `path`, then move it into place: a reader never sees
    half a report."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_evaluation_reports(report, json_path) -> list[Path]:
    """Write report.json, and report.md and report.html next to it; return the paths."""
    from toolkit.report_html import evaluation_html

    data = report.as_dict() if hasattr(report, "as_dict") else report
    json_path = Path(json_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    paths = [json_path, json_path.with_suffix(".md"), json_path.with_suffix(".html")]
    texts = [json.dumps(data, indent=2, ensure_ascii=False) + "\n", evaluation_markdown(data), evaluation_html(data)]
    for path, text in zip(paths, texts):  # rendered first: a renderer's failure leaves no file changed
        replace_file(path, text)
    return paths
