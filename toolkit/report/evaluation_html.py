"""Draw `toolkit evaluate`'s report as one self-contained HTML page: no scripts, no external assets, every
text from the data escaped. What differs by kind of answer (highlighted entities, label badges) comes from
`evaluation_sections.SECTIONS`."""

from __future__ import annotations

from html import escape

from toolkit.report.evaluation_rows import DIFFERENCES_NOTE, difference_rows, evaluated_line, score_rows
from toolkit.report.evaluation_sections import sections_of
from toolkit.report.html import PALETTE_STYLE, column, html_table

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


def differences_html(report: dict) -> list[str]:
    """A bundle's variants against PyTorch: counts, score changes, the first differing examples."""
    if not report["differences"]:
        return []
    kind = sections_of(report).html
    sections = ["<h2>Variants against PyTorch</h2>", f"<p>{DIFFERENCES_NOTE}</p>", html_table(*difference_rows(report))]
    for difference in report["differences"]:
        if not difference["shown"]:
            continue
        sections.append(f"<h3>{escape(difference['variant'])}: the first {len(difference['shown'])} differences</h3>")
        for item in difference["shown"]:
            sections.append(
                f'<section class="card difference"><h3>example {item["index"]}</h3>{kind.example(report, item)}'
                '<div class="pair three">' + column("gold", kind.gold(report, item))
                + column("pytorch", kind.answer(report, item, item["pytorch"]))
                + column(difference["variant"], kind.answer(report, item, item["variant"])) + "</div></section>")
    return sections


def evaluation_html(report: dict) -> str:
    """The report as a page a person reads: scores, the kind's tables, highlighted examples."""
    kind = sections_of(report).html
    header, rows = score_rows(report)
    row_classes = ["subject" if r[0].rstrip(" *") == report["subject"] else "" for r in rows[:-1]] + ["baseline"]
    evaluation = report["evaluation"]
    body = [f"<h1>Evaluation: {escape(report['model_dir'])}</h1>",
            f'<p class="meta">{escape(evaluated_line(report))}</p>',
            f'<p class="meta">rows fingerprint {escape(str(evaluation.get("fingerprint")))}</p>',
            *kind.preface(report), "<h2>Scores</h2>", html_table(header, rows, row_classes)]
    body += kind.sections(report)
    body += differences_html(report)
    if report["notes"]:
        body += ["<h2>Notes</h2>", "<ul>" + "".join(f"<li>{escape(n)}</li>" for n in report["notes"]) + "</ul>"]
    return "\n".join([
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Evaluation: {escape(report['model_dir'])}</title>", f"<style>{STYLE}{PALETTE_STYLE}\n</style>",
        "</head>", "<body><main>", *[part for part in body if part], "</main></body>", "</html>", ""])
