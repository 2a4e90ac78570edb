"""The 'verified' promise holds wherever a bundle is made: evaluation data found from anywhere, no
unmeasured number, defaults chosen on evidence."""

import json
import shutil

import numpy as np
import pytest

from tests.conftest import export_bundle
from toolkit.export import choose_default
from toolkit.runtime.manifest import VariantChecks, VariantEntry
from toolkit.scoring import drop_interval
from toolkit.tasks import TASKS


def manifest_of(bundle):
    return json.loads((bundle / "manifest.json").read_text())


def test_export_from_another_directory_still_measures(tmp_path, ner_checkpoint, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    manifest = manifest_of(export_bundle(ner_checkpoint, tmp_path / "b", quantize=True))
    assert manifest["evaluation"]["measured"] and manifest["evaluation"]["examples"] == 40
    assert manifest["evaluation"]["fingerprint_matches_training"]
    assert manifest["variants"]["int8-dynamic"]["drop_interval"] is not None


def test_an_older_checkpoint_with_a_relative_dataset_path_is_found_from_anywhere(tmp_path, ner_checkpoint, ner_data,
                                                                               monkeypatch):
    project = tmp_path / "project"
    shutil.copytree(ner_data, project / "data")
    shutil.copytree(ner_checkpoint, project / "runs" / "ner")
    metrics_path = project / "runs" / "ner" / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics["options"]["dataset"] = "data"  # as typed on the command line in project/
    metrics_path.write_text(json.dumps(metrics))
    monkeypatch.chdir(tmp_path)
    manifest = manifest_of(export_bundle(project / "runs" / "ner", tmp_path / "b"))
    assert manifest["evaluation"]["measured"]  # the path is recorded relative to the bundle
    assert (tmp_path / "b" / manifest["evaluation"]["dataset"]).resolve() == (project / "data").resolve()


def test_without_evaluation_data_nothing_unmeasured_is_printed_or_made_default(tmp_path, ner_checkpoint, capsys):
    from toolkit.cli import main

    checkpoint = tmp_path / "ck"
    shutil.copytree(ner_checkpoint, checkpoint)
    (checkpoint / "metrics.json").unlink()  # a checkpoint not trained by the toolkit: no record of its data
    main(["export", str(checkpoint), "--quantize", "--output-dir", str(tmp_path / "b")])
    captured = capsys.readouterr()
    manifest = manifest_of(tmp_path / "b")
    assert manifest["evaluation"]["measured"] is False
    assert manifest["variants"]["int8-dynamic"]["drop_points"] is None
    assert manifest["default_variant"] == "optimized"
    assert "not measured" in captured.out and "0.0000" not in captured.out
    assert "accuracy was not measured" in captured.err
    assert "not measured" in (tmp_path / "b" / "README.md").read_text()


def test_export_takes_evaluation_data_for_any_checkpoint(tmp_path, ner_checkpoint, ner_data):
    checkpoint = tmp_path / "ck"
    shutil.copytree(ner_checkpoint, checkpoint)
    (checkpoint / "metrics.json").unlink()
    manifest = manifest_of(export_bundle(checkpoint, tmp_path / "b", quantize=True, dataset=str(ner_data),
                                         eval_size="20"))
    assert manifest["evaluation"]["measured"] and manifest["evaluation"]["examples"] == 20


def sentiment_logits(answers):
    return [np.array([0.0, 1.0]) if a else np.array([1.0, 0.0]) for a in answers]


def test_one_example_on_a_tiny_set_does_not_flip_the_default():
    task = TASKS["sentiment"]
    gold = [1] * 50 + [0] * 50
    features = [{"labels": g} for g in gold]
    reference = sentiment_logits(gold)
    candidate = sentiment_logits([0] + gold[1:])  # one review of 100 answered differently: 1 point
    low, high = drop_interval(task, reference, candidate, features, ("neg", "pos"))
    assert low <= 0 < 0.5 < high
    def entry(drop_points, drop_interval):
        return VariantEntry(file="x.onnx", checks=VariantChecks(drop_points=drop_points, drop_interval=drop_interval))

    variants = {"optimized": entry(0.0, (0.0, 0.0)), "int8-dynamic": entry(1.0, (low, high))}
    warnings = []
    assert choose_default(variants, max_drop=2.0, warnings=warnings) == "optimized"  # 1 pt, interval up to 3
    assert "could not be shown" in warnings[0] and "To use it anyway" in warnings[0]
    variants["int8-dynamic"] = entry(0.0, (0.0, 0.0))
    assert choose_default(variants, max_drop=0.5, warnings=[]) == "int8-dynamic"


def test_entity_counts_reproduce_seqeval_f1(ner_checkpoint):
    from toolkit.tasks.ner import f1_of_counts, score_examples

    task = TASKS["ner"]
    labels = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")
    rng = np.random.default_rng(0)
    features = [{"labels": rng.integers(0, 5, size=n)} for n in rng.integers(3, 12, size=30)]
    logits = [rng.normal(size=(len(f["labels"]), 5)) for f in features]
    counts = task.example_counts(logits, features, labels, "argmax")
    assert float(f1_of_counts(counts.sum(0))) == pytest.approx(score_examples(logits, features, labels)["f1"])


def test_export_variants_builds_a_slim_bundle_that_the_runtime_loads(tmp_path, ner_checkpoint, ner_bundle):
    from toolkit.runtime import load

    bundle = export_bundle(ner_checkpoint, tmp_path / "slim", variants=["int8-dynamic"])
    manifest = manifest_of(bundle)
    assert set(manifest["variants"]) == {"int8-dynamic"} and manifest["default_variant"] == "int8-dynamic"
    assert not (bundle / "model.onnx").exists() and (bundle / "model_int8_dynamic.onnx").is_file()
    text = "Angela Merkel met John Smith in Paris ."
    assert load(bundle)(text) and load(bundle)(text) == load(ner_bundle, variant="int8-dynamic")(text)
