"""`toolkit evaluate`: scores equal training's, word-level F1 and entity mistakes on hand-made sentences,
variants against PyTorch, and the three reports written (their rendering: tests/report/)."""

import json
import shutil
from types import SimpleNamespace

import numpy as np
import pytest

from tests.conftest import NER_LABELS, cli_error
from toolkit.checkpoint import inspect_checkpoint
from toolkit.cli import main
from toolkit.config import EvaluateConfig
from toolkit.evaluation import evaluate
from toolkit.evaluation.analysis import Analysis
from toolkit.evaluation.differences import compare
from toolkit.evaluation.entity_errors import classify_errors, summarize_errors
from toolkit.evaluation.ner import analyse
from toolkit.report.evaluation import evaluation_markdown, write_evaluation_reports
from toolkit.report.evaluation_html import evaluation_html
from toolkit.tasks import TASKS

LABELS = tuple(NER_LABELS)


def one_hot(tags: list[str | None]) -> np.ndarray:
    """Logits that pick each tag (None: a special token, given O)."""
    logits = np.zeros((len(tags), len(LABELS)), dtype=np.float32)
    for row, tag in enumerate(tags):
        logits[row, LABELS.index(tag or "O")] = 5.0
    return logits


def test_each_kind_of_entity_mistake_is_classified():
    gold = [("PER", 0, 2), ("ORG", 3, 4), ("LOC", 5, 7), ("MISC", 8, 9), ("ORG", 10, 13)]
    predicted = [("PER", 0, 2),                    # correct: not a mistake
                 ("LOC", 3, 4),                    # right span, wrong type
                 ("LOC", 6, 7),                    # overlaps gold LOC 5-7 with a wrong left edge
                 ("ORG", 10, 11), ("ORG", 12, 13),  # gold ORG 10-13 split in two: one boundary mistake
                 ("PER", 14, 15)]                  # nothing there in gold
    errors = classify_errors(gold, predicted)
    assert errors == [
        {"category": "wrong_type", "gold": [("ORG", 3, 4)], "predicted": [("LOC", 3, 4)]},
        {"category": "boundary", "gold": [("LOC", 5, 7)], "predicted": [("LOC", 6, 7)]},
        {"category": "missed", "gold": [("MISC", 8, 9)], "predicted": []},
        {"category": "boundary", "gold": [("ORG", 10, 13)], "predicted": [("ORG", 10, 11), ("ORG", 12, 13)]},
        {"category": "spurious", "gold": [], "predicted": [("PER", 14, 15)]},
    ]
    summary = summarize_errors(errors)
    assert summary["counts"] == {"wrong_type": 1, "boundary": 2, "missed": 1, "spurious": 1}
    assert summary["by_type"]["ORG"] == {"wrong_type": 1, "boundary": 1, "missed": 0, "spurious": 0}
    assert summary["by_type"]["PER"]["spurious"] == 1  # a spurious entity counts under its predicted type
    assert summary["confusions"] == {"ORG -> LOC": 1}
    # Two gold entities merged into one prediction are one boundary mistake, not a mistake and a miss.
    merged = classify_errors([("LOC", 0, 1), ("LOC", 2, 3)], [("LOC", 0, 3)])
    assert [e["category"] for e in merged] == ["boundary"] and len(merged[0]["gold"]) == 2
    assert classify_errors([("PER", 0, 1)], [("PER", 0, 1)]) == []


def test_word_level_f1_reads_the_first_piece_of_each_word():
    # [CLS] Angela Merk ##el visited New York [SEP] + "Oslo", cut off by the maximum length.
    words = ["Angela", "Merkel", "visited", "New", "York", "Oslo"]
    gold = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "B-LOC"]
    word_ids = [None, 0, 1, 1, 2, 3, 4, None]
    labels = [-100, 1, 2, 2, 0, 5, 6, -100]  # label_all_tokens: ##el gets I-PER
    # The model tags Merk O and ##el I-PER. Sub-word tags: PER(Angela), PER(##el), LOC(New York) against
    # PER(Angela Merk ##el), LOC(New York): P 1/3, R 1/2, F1 0.4. One tag per word (first pieces): PER(Angela),
    # LOC(New York) and Oslo answered O, against PER(Angela Merkel), LOC(New York), LOC(Oslo): P 1/2, R 1/3, F1 0.4.
    logits = one_hot([None, "B-PER", "O", "I-PER", "O", "B-LOC", "I-LOC", None])
    evaluation = SimpleNamespace(
        rows={"tokens": [words], "ner_tags": [[LABELS.index(t) for t in gold]]},
        features=[{"input_ids": list(range(8)), "labels": labels, "word_ids": word_ids}],
        texts=[" ".join(words)], description={"text_column": "tokens", "label_column": "ner_tags"})
    result = analyse(TASKS["ner"], [logits], evaluation, LABELS, "argmax", worst=5)
    assert result.metrics["precision"] == pytest.approx(1 / 3) and result.metrics["recall"] == pytest.approx(1 / 2)
    assert result.metrics["f1"] == pytest.approx(0.4)
    assert result.metrics["word_precision"] == pytest.approx(1 / 2)
    assert result.metrics["word_recall"] == pytest.approx(1 / 3)
    assert result.metrics["word_f1"] == pytest.approx(0.4)
    assert result.details["unread_words"] == 1
    [worst] = result.details["worst"]
    assert [(e["category"], [g["text"] for g in e["gold"]]) for e in worst["errors"]] == [
        ("boundary", ["Angela Merkel"]), ("missed", ["Oslo"])]
    assert result.answers[0] == [{"type": "PER", "start": 0, "end": 1, "text": "Angela"},
                                 {"type": "LOC", "start": 3, "end": 5, "text": "New York"}]


def test_differences_count_and_show_the_differing_examples():
    def analysis(keys):
        return Analysis(metrics={"accuracy": 0.5, "f1": 0.4}, keys=keys, answers=[{"label": k, "score": 0.9}
                        for k in keys], examples=[{"index": i, "text": f"t{i}", "gold": "pos"} for i in range(4)])

    result = compare(analysis(["pos", "neg", "pos", "neg"]), analysis(["pos", "pos", "pos", "pos"]), "int8", shown=1)
    assert result["differing"] == 2 and result["examples"] == 4
    assert result["shown"] == [{"index": 1, "text": "t1", "gold": "pos", "pytorch": {"label": "neg", "score": 0.9},
                                "variant": {"label": "pos", "score": 0.9}}]
    assert result["metric_deltas"] == {"accuracy": 0.0, "f1": 0.0}


def test_checkpoint_scores_equal_what_training_reported(ner_checkpoint, tmp_path):
    trained = json.loads((ner_checkpoint / "metrics.json").read_text())
    report = evaluate(EvaluateConfig(model_dir=ner_checkpoint, output=tmp_path / "report.json"))
    for key in ("f1", "precision", "recall", "accuracy"):  # sub-word tags, the same 40 sentences
        assert report.metrics[key] == pytest.approx(trained[key]), key
    assert {k: report.baseline[k] for k in trained["baseline"]} == pytest.approx(trained["baseline"])
    assert report.baseline["word_f1"] == 0.0  # always O finds no entity, counted by words too
    assert report.kind == "checkpoint" and report.subject == "pytorch" and report.differences == []
    assert report.evaluation["examples"] == trained["eval_examples"]
    errors = report.details["errors"]
    found = errors["correct"] + errors["counts"]["wrong_type"] + errors["counts"]["missed"] + sum(
        len(e["gold"]) for item in report.details["worst"] for e in item["errors"] if e["category"] == "boundary")
    assert errors["correct"] <= errors["gold"] and found <= errors["gold"]
    per_type_support = sum(v["support"] for v in report.details["per_type"].values())
    assert per_type_support == errors["gold"]  # every gold entity, counted at word level
    assert 0 <= report.metrics["word_f1"] <= 1
    assert len(report.details["worst"]) == min(10, report.details["sentences_with_errors"])


def test_sentiment_scores_confusion_and_confidently_wrong(sentiment_checkpoint, sentiment_data, tmp_path):
    trained = json.loads((sentiment_checkpoint / "metrics.json").read_text())
    report = evaluate(EvaluateConfig(model_dir=sentiment_checkpoint, output=tmp_path / "r.json"))
    assert report.metrics["accuracy"] == pytest.approx(trained["accuracy"])
    assert report.metrics["f1"] == pytest.approx(trained["f1"])
    assert report.baseline == pytest.approx(trained["baseline"])
    # The same texts with every label flipped: what was right is now wrong, with the same confidence.
    flipped = tmp_path / "flipped"
    flipped.mkdir()
    rows = [json.loads(line) for line in (sentiment_data / "test.jsonl").read_text().splitlines()]
    (flipped / "test.jsonl").write_text("".join(json.dumps({"text": r["text"], "label": {"neg": "pos", "pos": "neg"}[
        r["label"]]}) + "\n" for r in rows))
    report = evaluate(EvaluateConfig(model_dir=sentiment_checkpoint, dataset=str(flipped), worst=3,
                                     output=tmp_path / "r.json"))
    assert report.metrics["accuracy"] == pytest.approx(1 - trained["accuracy"])
    matrix = np.asarray(report.details["confusion"]["matrix"])
    assert matrix.sum() == len(rows) and np.trace(matrix) / matrix.sum() == pytest.approx(report.metrics["accuracy"])
    wrong = report.details["confidently_wrong"]
    assert len(wrong) == min(3, report.details["wrong"]) and wrong
    assert all(w["gold"] != w["predicted"]["label"] for w in wrong)
    assert [w["predicted"]["score"] for w in wrong] == sorted((w["predicted"]["score"] for w in wrong), reverse=True)
    write_evaluation_reports(report, tmp_path / "r.json")
    assert "## Confusion matrix" in (tmp_path / "r.md").read_text()
    assert (tmp_path / "r.html").read_text().count('class="card wrong-text"') == len(wrong)


def test_bundle_variants_against_pytorch(ner_bundle, ner_checkpoint, tmp_path):
    report = evaluate(EvaluateConfig(model_dir=ner_bundle, output=tmp_path / "report.json", variant="int8-dynamic"))
    assert report.kind == "bundle" and report.subject == "int8-dynamic"
    assert [m["model"] for m in report.models] == ["pytorch", "fp32", "optimized", "int8-dynamic"]
    assert report.reference == str(ner_checkpoint.resolve())
    differences = {d["variant"]: d for d in report.differences}
    for exact in ("fp32", "optimized"):  # within float rounding of PyTorch: the same answers
        assert differences[exact]["differing"] == 0 and differences[exact]["shown"] == []
        assert all(abs(v) < 1e-9 for v in differences[exact]["metric_deltas"].values())
    int8 = differences["int8-dynamic"]
    assert int8["examples"] == report.evaluation["examples"]
    assert len(int8["shown"]) == min(5, int8["differing"])
    for item in int8["shown"]:
        assert item["pytorch"] != item["variant"] and {"words", "gold"} <= set(item)
    pytorch = report.models[0]["metrics"]
    assert int8["metric_deltas"]["f1"] == pytest.approx(report.metrics["f1"] - pytorch["f1"], abs=1e-6)


def test_a_bundle_without_its_checkpoint_is_evaluated_on_its_recorded_rows(sentiment_bundle, tmp_path):
    moved = tmp_path / "bundle"
    shutil.copytree(sentiment_bundle, moved)
    manifest = json.loads((moved / "manifest.json").read_text())
    manifest["source_checkpoint"] = str(tmp_path / "gone")
    (moved / "manifest.json").write_text(json.dumps(manifest))
    report = evaluate(EvaluateConfig(model_dir=moved, output=tmp_path / "report.json", variant="fp32"))
    assert [m["model"] for m in report.models] == ["fp32", "optimized", "int8-dynamic"]
    assert report.differences == [] and any("no PyTorch reference" in n for n in report.notes)
    assert report.evaluation["fingerprint"] == manifest["evaluation"]["fingerprint"]  # the rows export checked
    assert report.evaluation["fingerprint_matches_training"]  # compared with the manifest's, not a metrics.json
    assert report.metrics["accuracy"] == pytest.approx(manifest["variants"][report.subject]["accuracy"]["accuracy"])


def test_json_markdown_and_html_are_written(ner_bundle, tmp_path):
    written = tmp_path / "out" / "report.json"
    main(["evaluate", str(ner_bundle), "--output", str(written), "--worst", "4"])
    report = json.loads(written.read_text())
    assert {"metrics", "baseline", "details", "differences", "models", "evaluation"} <= set(report)
    assert report["answer_kind"] == "entities"
    assert written.with_suffix(".md").read_text() == evaluation_markdown(report)
    assert written.with_suffix(".html").read_text() == evaluation_html(report)
    assert sorted(p.name for p in written.parent.iterdir()) == ["report.html", "report.json", "report.md"]


def two_type_data(tmp_path, text: str):
    data = tmp_path / "two-types"
    data.mkdir()
    for split in ("train", "validation"):
        (data / f"{split}.txt").write_text(text)
    return data


def test_rows_holding_a_subset_of_the_models_labels_are_evaluated(ner_checkpoint, tmp_path):
    data = two_type_data(tmp_path, "Angela B-PER\nMerkel I-PER\nin O\nParis B-LOC\n\nRome B-LOC\nwins O\n\n")
    report = evaluate(EvaluateConfig(model_dir=ner_checkpoint, dataset=str(data), output=tmp_path / "r.json"))
    assert report.labels == list(inspect_checkpoint(ner_checkpoint).labels) and "I-ORG" in report.labels
    assert report.evaluation["examples"] == 2
    # The rows' tags became the model's ids by name: the gold entities are the file's.
    assert {name: row["support"] for name, row in report.details["per_type"].items()} == {"LOC": 2, "PER": 1}
    gold = [entity for row in report.details["worst"] for entity in row["gold"]]
    assert sorted((e["text"], e["type"]) for e in gold) == [("Angela Merkel", "PER"), ("Paris", "LOC"),
                                                             ("Rome", "LOC")]


def test_labels_the_model_does_not_know_are_one_line(ner_checkpoint, tmp_path, capsys):
    data = two_type_data(tmp_path, "Angela B-PER\nMerkel I-PER\nate O\npasta B-FOOD\n\n")
    err = cli_error(capsys, "evaluate", str(ner_checkpoint), "--dataset", str(data), "--output",
                    str(tmp_path / "r.json"))
    assert "holds labels the model does not know: ['B-FOOD']" in err and "the model knows ['O'" in err
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("extra, message", [
    (["--variant", "fp32"], "is a checkpoint, which has no variants"),
    (["--worst", "-1"], "--worst must be at least 0"),
    (["--eval-size", "0"], "--eval-size must be a positive whole number"),
])
def test_bad_options_are_one_line(ner_checkpoint, tmp_path, capsys, extra, message):
    assert message in cli_error(capsys, "evaluate", str(ner_checkpoint), "--output", str(tmp_path / "r.json"), *extra)


def test_a_directory_that_is_no_model_and_an_unknown_variant(ner_bundle, tmp_path, capsys):
    assert "is neither a checkpoint" in cli_error(capsys, "evaluate", str(tmp_path))
    assert "--variant int4: not in the bundle" in cli_error(capsys, "evaluate", str(ner_bundle), "--variant", "int4",
                                                            "--output", str(tmp_path / "r.json"))


def test_an_output_inside_the_model_or_already_there_is_refused(ner_checkpoint, tmp_path, capsys):
    checkpoint = tmp_path / "ck"
    shutil.copytree(ner_checkpoint, checkpoint)
    config = (checkpoint / "config.json").read_bytes()
    for extra in ([], ["--overwrite"]):
        err = cli_error(capsys, "evaluate", str(checkpoint), "--output", str(checkpoint / "config.json"), *extra)
        assert f"lies in {checkpoint}, which this command reads" in err
    assert (checkpoint / "config.json").read_bytes() == config
    assert sorted(p.name for p in checkpoint.iterdir()) == sorted(p.name for p in ner_checkpoint.iterdir())
    mine = tmp_path / "notes.md"
    mine.write_text("mine")
    err = cli_error(capsys, "evaluate", str(ner_checkpoint), "--output", str(tmp_path / "notes.json"))
    assert f"{mine} already exists; pass --overwrite" in err and mine.read_text() == "mine"
    main(["evaluate", str(ner_checkpoint), "--output", str(tmp_path / "notes.json"), "--overwrite"])
    assert mine.read_text().startswith("#") and json.loads((tmp_path / "notes.json").read_text())["metrics"]


def test_an_output_that_cannot_be_written_is_refused_before_any_work(ner_checkpoint, tmp_path, capsys, monkeypatch):
    import toolkit.evaluation

    opened = []
    monkeypatch.setattr(toolkit.evaluation, "open_target", lambda *args: opened.append(args))
    (tmp_path / "a-file").write_text("")
    err = cli_error(capsys, "evaluate", str(ner_checkpoint), "--output", str(tmp_path / "a-file" / "eval" / "r.json"))
    assert f"{tmp_path / 'a-file'} is a file, not a folder; choose a writable place" in err and not opened
