"""`toolkit evaluate`'s terminal summary and Markdown report, and the table from answer kind to sections."""

import copy

from tests.report.conftest import with_one_label_difference
from toolkit.report.evaluation import evaluation_markdown, evaluation_table
from toolkit.report.evaluation_rows import headline
from toolkit.report.evaluation_sections import SECTIONS
from toolkit.runtime.answers import KINDS
from toolkit.tasks import TASKS


def test_every_answer_kind_has_its_sections():
    assert set(SECTIONS) == set(KINDS.values())


def test_the_headline_columns_are_the_tasks():
    for task in TASKS.values():
        assert headline({"task": task.name}) == task.headline
        assert task.primary_metric in dict(task.headline)


def test_the_ner_markdown_has_its_sections_and_the_variants(ner_report):
    markdown = evaluation_markdown(ner_report)
    assert markdown.startswith("# Evaluation") and "## Per entity type (words)" in markdown
    assert "## Entity mistakes (words)" in markdown and "## Variants against PyTorch" in markdown
    assert "entity F1 (words, CoNLL)" in markdown and "## Confusion matrix" not in markdown
    assert "entity mistakes of" in evaluation_table(ner_report)


def test_differing_entities_are_listed_in_markdown(ner_report):
    report = copy.deepcopy(ner_report)
    item = report["details"]["worst"][0]
    variant = report["differences"][-1]
    variant["differing"], variant["shown"] = 1, [{"index": item["index"], "words": item["words"], "gold": item["gold"],
                                                  "pytorch": item["gold"], "variant": []}]
    markdown = evaluation_markdown(report)
    assert f"### {variant['variant']}: the first 1 differences" in markdown and "_(no entities)_" in markdown


def test_differing_labels_are_listed_with_their_text_and_scores(sentiment_report):
    report = with_one_label_difference(sentiment_report, "a *good* film")
    variant = report["differences"][-1]
    markdown = evaluation_markdown(report)
    assert "## Confusion matrix (rows: gold, columns: predicted)" in markdown and "Per entity type" not in markdown
    assert "- example 7: a \\*good\\* film\n  - gold: pos\n  - pytorch: pos (0.910)\n" in markdown
    assert f"  - {variant['variant']}: neg (0.610)" in markdown
    assert "entity mistakes" not in evaluation_table(report)
