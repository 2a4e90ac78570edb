"""`toolkit evaluate`'s page: self-contained, escaped, entities highlighted in their sentence (also in a real
browser when one is here), labels as badges."""

import copy
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from tests.report.conftest import with_one_label_difference
from toolkit.report.evaluation_html import evaluation_html


class Marks(HTMLParser):
    """The highlighted entities of a page: (type, text) of every <mark class="ent ..."> in order."""

    def __init__(self):
        super().__init__()
        self.marks, self.open, self.scripts = [], None, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.scripts += tag in ("script", "link", "img", "iframe")
        if tag == "mark" and "ent" in attrs.get("class", "").split():
            self.open = [attrs["data-type"], ""]

    def handle_data(self, data):
        if self.open is not None:
            self.open[1] += data

    def handle_endtag(self, tag):
        if tag == "mark" and self.open is not None:
            self.marks.append(tuple(self.open))
            self.open = None


def marks_of(html: str) -> Marks:
    parser = Marks()
    parser.feed(html)
    return parser


def expected_marks(report: dict) -> list[tuple[str, str]]:
    """Every entity the worst sentences highlight: gold, then predicted, sentence by sentence."""
    def in_order(entities):
        return sorted(entities, key=lambda e: e["start"])

    return [(e["type"], e["text"]) for item in report["details"]["worst"]
            for e in in_order(item["gold"]) + in_order(item["predicted"])]


def test_the_page_is_self_contained_and_highlights_the_worst_sentences(ner_report):
    page = evaluation_html(ner_report)
    assert page.startswith("<!doctype html>") and "http" not in page  # self-contained: nothing fetched
    parsed = marks_of(page)
    assert parsed.scripts == 0
    worst = parsed.marks[:len(expected_marks(ner_report))]
    assert worst == expected_marks(ner_report) and worst
    assert 'class="legend meta"' in page


def test_text_from_the_data_is_escaped(ner_report):
    report = copy.deepcopy(ner_report)
    item = report["details"]["worst"][0]
    item["words"][0] = "<script>alert(1)</script>&"
    report["notes"].append("<img src=x>")
    page = evaluation_html(report)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;&amp;" in page
    assert "<img" not in page and marks_of(page).scripts == 0


def test_differing_answers_are_drawn_side_by_side(ner_report):
    report = copy.deepcopy(ner_report)
    item = report["details"]["worst"][0]
    variant = report["differences"][-1]
    variant["differing"], variant["shown"] = 1, [{"index": item["index"], "words": item["words"], "gold": item["gold"],
                                                  "pytorch": item["gold"], "variant": []}]
    gold = [(e["type"], e["text"]) for e in sorted(item["gold"], key=lambda e: e["start"])]
    marks = marks_of(evaluation_html(report)).marks
    assert marks[-2 * len(gold):] == gold + gold  # gold, then PyTorch's answer; the variant found nothing


def test_differing_labels_are_badges_under_their_text(sentiment_report):
    page = evaluation_html(with_one_label_difference(sentiment_report, "a <b>good</b> film"))
    assert ('<h3>example 7</h3><div class="review">a &lt;b&gt;good&lt;/b&gt; film</div>' in page
            and '<span class="badge">neg</span> 0.610' in page)
    assert "<h2>Confusion matrix</h2>" in page and "legend" not in page and not marks_of(page).marks


def chromium() -> str | None:
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


@pytest.mark.e2e
def test_the_page_renders_its_entities_in_a_real_browser(ner_report, tmp_path):
    browser = chromium()
    if browser is None:
        pytest.skip("no chromium binary here (apt-get install chromium): the page is checked with html.parser only")
    page = tmp_path / "report.html"
    page.write_text(evaluation_html(ner_report))
    run = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                          page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    rendered = marks_of(run.stdout)
    assert rendered.marks == marks_of(page.read_text()).marks
    assert set(expected_marks(ner_report)) <= set(rendered.marks)
