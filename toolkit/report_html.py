"""Draw `toolkit evaluate`'s report as one self-contained HTML page: no scripts, no external assets, every
text from the data escaped. Entities are highlighted in their sentence, one colour per type."""

from __future__ import annotations

from html import escape

from toolkit.report import format_cell
from toolkit.report_evaluation import (
    CATEGORY_NAMES,
    describe_error,
    evaluated_line,
    has_entities,
    headline,
    score_rows,
    segments,
)

# Light backgrounds that stay readable with dark text, and apart from each other.
PALETTE = ("#ffd8a8", "#a5d8ff", "#b2f2bb", "#eebefa", "#ffec99", "#99e9f2", "#ffc9c9", "#d0bfff", "#c0eb75",
           "#fcc2d7")

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #212529; margin: 0;
       background: #f8f9fa; }
main { max-width: 1150px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
p.meta { color: #495057; margin: 2px 0; }
table { border-collapse: collapse; background: #fff; margin: 8px 0; }
th, td { border: 1px solid #dee2e6; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f1f3f5; font-weight: 600; }
tr.subject td, tr.total td { font-weight: 600; } tr.baseline td { color: #868e96; }
.swatch { padding: 1px 6px; border-radius: 4px; margin-right: 4px; font-weight: 600; font-size: 13px; }
mark.ent { padding: 1px 3px; margin: 0 1px; border-radius: 4px; color: #212529; box-decoration-break: clone; }
mark.ent::after { content: attr(data-type); font-size: 10px; font-weight: 700; margin-left: 4px;
                  color: #495057; vertical-align: 1px; }
mark.wrong { outline: 2px dashed #e03131; outline-offset: 1px; }
.card { background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
.card h3 { font-size: 14px; margin: 0 0 6px; color: #495057; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.pair.three { grid-template-columns: 1fr 1fr 1fr; }
.pair > div > .label { font-size: 12px; font-weight: 600; color: #868e96; text-transform: uppercase; }
.sentence { line-height: 2.1; }
ul.mistakes { margin: 6px 0 0; padding-left: 20px; color: #495057; font-size: 13px; }
.review { max-height: 11em; overflow: auto; white-space: pre-wrap; background: #f8f9fa; padding: 6px 8px;
          border-radius: 4px; margin-top: 6px; }
.badge { display: inline-block; padding: 0 6px; border-radius: 4px; background: #e9ecef; font-weight: 600; }
.badge.bad { background: #ffc9c9; }
.note { color: #868e96; }
@media (max-width: 800px) { .pair, .pair.three { grid-template-columns: 1fr; } }
"""


def colour_classes(labels: list[str]) -> dict[str, str]:
    """Entity type -> CSS class, in the order of the label set (classes, not names: names come from data)."""
    types = []
    for label in labels:
        kind = label[2:] if label[:2] in ("B-", "I-") else label
        if kind != "O" and kind not in types:
            types.append(kind)
    return {kind: f"t{i % len(PALETTE)}" for i, kind in enumerate(types)}


def marked_sentence(words: list[str], entities: list[dict], classes: dict[str, str], others: list[dict]) -> str:
    """The sentence with its entities highlighted; those not in `others` (exactly) are marked wrong."""
    exact = {(e["type"], e["start"], e["end"]) for e in others}
    parts = []
    for text, entity in segments(words, entities):
        if entity is None:
            parts.append(escape(text))
            continue
        wrong = " wrong" if (entity["type"], entity["start"], entity["end"]) not in exact else ""
        parts.append(f'<mark class="ent {classes.get(entity["type"], "t0")}{wrong}" '
                     f'data-type="{escape(entity["type"])}">{escape(text)}</mark>')
    return '<div class="sentence">' + " ".join(parts) + "</div>"


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


def ner_sections(report: dict, classes: dict[str, str]) -> list[str]:
    """NER's sections: per type, entity mistakes, the worst sentences with gold and predicted side by side."""
    details = report["details"]
    errors = details["errors"]
    categories = errors["categories"]
    per_type = [[k, v["precision"], v["recall"], v["f1"], v["support"], v.get("subword_f1")]
                for k, v in details["per_type"].items()]
    by_type = [[kind, *(counts[c] for c in categories)] for kind, counts in errors["by_type"].items()]
    by_type.append(["all", *(errors["counts"][c] for c in categories)])
    confusions = ", ".join(f"{pair} {n}" for pair, n in errors["confusions"].items())
    sections = [
        "<h2>Per entity type (words)</h2>",
        html_table(["type", "precision", "recall", "F1", "support", "F1 on sub-word tags"], per_type),
        "<h2>Entity mistakes (words)</h2>",
        f"<p>{errors['correct']} of {errors['gold']} gold entities found exactly; {errors['predicted']} predicted. "
        "A mistake is counted under its gold type (spurious ones under the predicted type); overlapping entities "
        "with wrong edges are one boundary mistake.</p>",
        html_table(["type", *(CATEGORY_NAMES[c] for c in categories)], by_type, [""] * (len(by_type) - 1) + ["total"]),
        f"<p>Taken for another type: {escape(confusions)}</p>" if confusions else "",
        f"<h2>The {len(details['worst'])} worst sentences ({details['sentences_with_errors']} have a mistake)</h2>",
        '<p class="note">Dashed: an entity the other side does not have exactly.</p>' if details["worst"] else
        "<p>None: every entity of every sentence was found exactly.</p>",
    ]
    for rank, item in enumerate(details["worst"], start=1):
        mistakes = "".join(f"<li>{escape(describe_error(e))}</li>" for e in item["errors"])
        sections.append(
            f'<section class="card worst"><h3>{rank}. sentence {item["index"]} ({len(item["errors"])} mistakes)</h3>'
            '<div class="pair">'
            + column("gold", marked_sentence(item["words"], item["gold"], classes, item["predicted"]))
            + column("predicted", marked_sentence(item["words"], item["predicted"], classes, item["gold"]))
            + f'</div><ul class="mistakes">{mistakes}</ul></section>')
    return sections


def sentiment_sections(report: dict) -> list[str]:
    """Sentiment's sections: the confusion matrix, the most confidently wrong texts."""
    details = report["details"]
    labels, matrix = details["confusion"]["labels"], details["confusion"]["matrix"]
    sections = ["<h2>Confusion matrix</h2>", '<p class="note">Rows: gold label; columns: predicted label.</p>',
                html_table(["gold \\ predicted", *labels], [[label, *row] for label, row in zip(labels, matrix)]),
                f"<h2>The {len(details['confidently_wrong'])} most confidently wrong texts ({details['wrong']} "
                "wrong)</h2>", "" if details["wrong"] else "<p>None: every text was answered right.</p>"]
    for item in details["confidently_wrong"]:
        answer = item["predicted"]
        sections.append(
            f'<section class="card wrong-text"><h3>text {item["index"]}: gold <span class="badge">'
            f'{escape(item["gold"])}</span>, predicted <span class="badge bad">{escape(answer["label"])}</span> '
            f'({answer["score"]:.3f})</h3><div class="review">{escape(item["text"])}</div></section>')
    return sections


def answer_html(item: dict, answer, classes: dict[str, str]) -> str:
    """A model's answer to one example: its sentence with the entities found, or its label and score."""
    if isinstance(answer, list):
        return marked_sentence(item["words"], answer, classes, item["gold"])
    return f'<span class="badge">{escape(answer["label"])}</span> {answer["score"]:.3f}'


def difference_sections(report: dict, classes: dict[str, str]) -> list[str]:
    """A bundle's variants against PyTorch: counts, score changes, the first differing examples."""
    if not report["differences"]:
        return []
    columns = headline(report)
    rows = [[d["variant"], f"{d['differing']}/{d['examples']}",
             *(f"{d['metric_deltas'][k]:+.4f}" if k in d["metric_deltas"] else "-" for k, _ in columns)]
            for d in report["differences"]]
    sections = ["<h2>Variants against PyTorch</h2>",
                "<p>Answers that differ from the PyTorch checkpoint's on the same rows (NER: the set of entities of "
                "a sentence; sentiment: the label), and the change of each score (+ = better than PyTorch).</p>",
                html_table(["variant", "examples answered differently", *(f"Δ {name}" for _, name in columns)], rows)]
    for difference in report["differences"]:
        if not difference["shown"]:
            continue
        sections.append(f"<h3>{escape(difference['variant'])}: the first {len(difference['shown'])} differences</h3>")
        for item in difference["shown"]:
            gold = (marked_sentence(item["words"], item["gold"], classes, item["gold"]) if "words" in item
                    else f'<span class="badge">{escape(item["gold"])}</span>')
            text = f'<div class="review">{escape(item["text"])}</div>' if "text" in item else ""
            sections.append(
                f'<section class="card difference"><h3>example {item["index"]}</h3>{text}<div class="pair three">'
                + column("gold", gold) + column("pytorch", answer_html(item, item["pytorch"], classes))
                + column(difference["variant"], answer_html(item, item["variant"], classes)) + "</div></section>")
    return sections


def evaluation_html(report: dict) -> str:
    """The report as a page a person reads: scores, the task's tables, highlighted examples."""
    classes = colour_classes(report["labels"])
    header, rows = score_rows(report)
    row_classes = ["subject" if r[0].rstrip(" *") == report["subject"] else "" for r in rows[:-1]] + ["baseline"]
    colours = "\n".join(f".{css} {{ background: {PALETTE[int(css[1:])]}; }}" for css in sorted(set(classes.values())))
    legend = " ".join(f'<span class="swatch {css}">{escape(kind)}</span>' for kind, css in classes.items())
    evaluation = report["evaluation"]
    body = [f"<h1>Evaluation: {escape(report['model_dir'])}</h1>",
            f'<p class="meta">{escape(evaluated_line(report))}</p>',
            f'<p class="meta">rows fingerprint {escape(str(evaluation.get("fingerprint")))}</p>',
            f'<p class="legend meta">entity types: {legend}</p>' if legend and has_entities(report) else "",
            "<h2>Scores</h2>", html_table(header, rows, row_classes)]
    body += ner_sections(report, classes) if has_entities(report) else sentiment_sections(report)
    body += difference_sections(report, classes)
    if report["notes"]:
        body += ["<h2>Notes</h2>", "<ul>" + "".join(f"<li>{escape(n)}</li>" for n in report["notes"]) + "</ul>"]
    return "\n".join([
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Evaluation: {escape(report['model_dir'])}</title>", f"<style>{STYLE}{colours}\n</style>", "</head>",
        "<body><main>", *[part for part in body if part], "</main></body>", "</html>", ""])
