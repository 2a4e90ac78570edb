"""The report sections and answers of a model that finds entities in a text (`AnswerKind` ENTITIES), in
Markdown and in HTML, drawn from the same rows: per type, entity mistakes, the worst sentences."""

from __future__ import annotations

from html import escape

from toolkit.report.html import colour_class, column, html_table
from toolkit.report.markdown import md_table, md_text

CATEGORY_NAMES = {"wrong_type": "right span, wrong type", "boundary": "boundary", "missed": "missed",
                  "spurious": "spurious"}


def per_type_rows(details: dict) -> tuple[list[str], list[list]]:
    """Header and rows of the scores per entity type (words), with the sub-word F1 beside them."""
    rows = [[kind, v["precision"], v["recall"], v["f1"], v["support"], v.get("subword_f1")]
            for kind, v in details["per_type"].items()]
    return ["type", "precision", "recall", "F1", "support", "F1 on sub-word tags"], rows


def mistake_rows(errors: dict) -> tuple[list[str], list[list]]:
    """Header and rows of the mistakes per category and entity type; the last row is the total."""
    categories = errors["categories"]
    rows = [[kind, *(counts[c] for c in categories)] for kind, counts in errors["by_type"].items()]
    rows.append(["all", *(errors["counts"][c] for c in categories)])
    return ["type", *(CATEGORY_NAMES[c] for c in categories)], rows


def mistakes_summary(errors: dict) -> str:
    """How many entities were found, and how mistakes are counted."""
    return (f"{errors['correct']} of {errors['gold']} gold entities found exactly; {errors['predicted']} predicted. "
            "A mistake is counted under its gold type (spurious ones under the predicted type); overlapping "
            "entities with wrong edges are one boundary mistake.")


def confusions_text(errors: dict) -> str:
    """Which types were taken for which ("" when none was)."""
    return ", ".join(f"{pair} {n}" for pair, n in errors["confusions"].items())


def worst_title(details: dict) -> str:
    """The heading of the worst sentences, with how many have a mistake."""
    return f"The {len(details['worst'])} worst sentences ({details['sentences_with_errors']} have a mistake)"


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


def describe_error(error: dict) -> str:
    """A mistake in words, e.g. `missed PER "Angela Merkel"`."""
    def named(entities):
        return ", ".join(f"{e['type']} \"{e['text']}\"" for e in entities)

    if error["category"] == "missed":
        return f"missed {named(error['gold'])}"
    if error["category"] == "spurious":
        return f"spurious {named(error['predicted'])}"
    return f"{CATEGORY_NAMES[error['category']]}: gold {named(error['gold'])}, predicted {named(error['predicted'])}"


def terminal_lines(report: dict) -> list[str]:
    """The line under the terminal's scores: the subject's mistakes by category."""
    counts = ", ".join(f"{CATEGORY_NAMES[c]} {n}" for c, n in report["details"]["errors"]["counts"].items())
    return [f"entity mistakes of {report['subject']} (words): {counts}"]


def markdown_sentence(words: list[str], entities: list[dict]) -> str:
    """The sentence with each entity in bold, its type after it in italics."""
    text = " ".join(f"**{md_text(text)}** _{md_text(entity['type'])}_" if entity else md_text(text)
                    for text, entity in segments(words, entities))
    return text + ("" if entities else " _(no entities)_")


def markdown_sections(report: dict) -> list[str]:
    """Markdown: per type, entity mistakes, the worst sentences."""
    details = report["details"]
    errors = details["errors"]
    lines = ["## Per entity type (words)", "", *md_table(*per_type_rows(details)), "",
             "## Entity mistakes (words)", "", mistakes_summary(errors), "", *md_table(*mistake_rows(errors)), ""]
    if errors["confusions"]:
        lines += ["Taken for another type: " + confusions_text(errors), ""]
    lines += [f"## {worst_title(details)}", ""]
    if not details["sentences_with_errors"]:
        lines += ["None: every entity of every sentence was found exactly.", ""]
    for rank, item in enumerate(details["worst"], start=1):
        lines += [f"### {rank}. sentence {item['index']} ({len(item['errors'])} mistakes)", "",
                  f"- gold: {markdown_sentence(item['words'], item['gold'])}",
                  f"- predicted: {markdown_sentence(item['words'], item['predicted'])}",
                  *(f"- {md_text(describe_error(e))}" for e in item["errors"]), ""]
    return lines


def markdown_answer(report: dict, item: dict, answer: list[dict]) -> str:
    """A model's answer to an example: its sentence with the entities found."""
    return markdown_sentence(item["words"], answer)


def markdown_gold(report: dict, item: dict) -> str:
    """An example's gold entities in their sentence."""
    return markdown_sentence(item["words"], item["gold"])


def colour_classes(labels: list[str]) -> dict[str, str]:
    """Entity type -> CSS class, in the order of the label set."""
    types = []
    for label in labels:
        kind = label[2:] if label[:2] in ("B-", "I-") else label
        if kind != "O" and kind not in types:
            types.append(kind)
    return {kind: colour_class(i) for i, kind in enumerate(types)}


def marked_sentence(words: list[str], entities: list[dict], classes: dict[str, str], others: list[dict]) -> str:
    """The sentence with its entities highlighted; those not in `others` (exactly) are marked wrong."""
    exact = {(e["type"], e["start"], e["end"]) for e in others}
    parts = []
    for text, entity in segments(words, entities):
        if entity is None:
            parts.append(escape(text))
            continue
        wrong = " wrong" if (entity["type"], entity["start"], entity["end"]) not in exact else ""
        parts.append(f'<mark class="ent {classes.get(entity["type"], colour_class(0))}{wrong}" '
                     f'data-type="{escape(entity["type"])}">{escape(text)}</mark>')
    return '<div class="sentence">' + " ".join(parts) + "</div>"


def html_legend(report: dict) -> list[str]:
    """The colour of each entity type, shown above the scores."""
    legend = " ".join(f'<span class="swatch {css}">{escape(kind)}</span>'
                      for kind, css in colour_classes(report["labels"]).items())
    return [f'<p class="legend meta">entity types: {legend}</p>'] if legend else []


def html_sections(report: dict) -> list[str]:
    """HTML: per type, entity mistakes, the worst sentences with gold and predicted side by side."""
    classes = colour_classes(report["labels"])
    details = report["details"]
    errors = details["errors"]
    mistakes_header, mistakes = mistake_rows(errors)
    confusions = confusions_text(errors)
    sections = [
        "<h2>Per entity type (words)</h2>", html_table(*per_type_rows(details)),
        "<h2>Entity mistakes (words)</h2>", f"<p>{mistakes_summary(errors)}</p>",
        html_table(mistakes_header, mistakes, [""] * (len(mistakes) - 1) + ["total"]),
        f"<p>Taken for another type: {escape(confusions)}</p>" if confusions else "",
        f"<h2>{worst_title(details)}</h2>",
        '<p class="note">Dashed: an entity the other side does not have exactly.</p>' if details["worst"] else
        "<p>None: every entity of every sentence was found exactly.</p>",
    ]
    for rank, item in enumerate(details["worst"], start=1):
        mistakes_list = "".join(f"<li>{escape(describe_error(e))}</li>" for e in item["errors"])
        sections.append(
            f'<section class="card worst"><h3>{rank}. sentence {item["index"]} ({len(item["errors"])} mistakes)</h3>'
            '<div class="pair">'
            + column("gold", marked_sentence(item["words"], item["gold"], classes, item["predicted"]))
            + column("predicted", marked_sentence(item["words"], item["predicted"], classes, item["gold"]))
            + f'</div><ul class="mistakes">{mistakes_list}</ul></section>')
    return sections


def html_answer(report: dict, item: dict, answer: list[dict]) -> str:
    """A model's answer to an example: its sentence, the entities gold does not have marked wrong."""
    return marked_sentence(item["words"], answer, colour_classes(report["labels"]), item["gold"])


def html_gold(report: dict, item: dict) -> str:
    """An example's gold entities highlighted in their sentence."""
    return html_answer(report, item, item["gold"])


def no_text(report: dict, item: dict) -> str:
    """Nothing above an example's answers: each of them shows the sentence."""
    return ""

