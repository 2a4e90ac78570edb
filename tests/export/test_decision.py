"""The default decision: more rows where an interval straddles --max-drop, looks planned up front,
each at 1 - 0.05 / looks, and the verdict recorded in the manifest."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toolkit.export import choose_default
from toolkit.export.decision import KEEPS, LOSES, NOT_SHOWN, Evidence, gather_evidence, planned_looks
from toolkit.runtime.manifest import VariantChecks, VariantEntry
from toolkit.tasks import TASKS

ROWS = 4000


def test_looks_are_planned_from_the_split_and_the_limit():
    assert planned_looks(500, 3250, None) == [500, 1000, 2000, 3250]
    assert planned_looks(500, 25000, 2000) == [500, 1000, 2000]
    assert planned_looks(500, 300, None) == [300]


def one_hot(answers):
    return [np.array([0.0, 1.0]) if a else np.array([1.0, 0.0]) for a in answers]


def synthetic_evidence(wrong_every: dict[str, int], scored: list):
    """Sentiment rows all answered right by PyTorch; each candidate misses every n-th row."""
    gold = [i % 2 for i in range(ROWS)]
    answers = {name: [g if i % n else 1 - g for i, g in enumerate(gold)] for name, n in wrong_every.items()}
    answers["pytorch"] = gold
    features = [{"labels": g} for g in gold]

    def more_rows(start, end):
        scored.append((start, end))
        return [dict(f, row=i) for i, f in enumerate(features[start:end], start)]

    def logits_of(name, rows):
        return one_hot([answers[name][f["row"]] for f in rows])

    first = [dict(f, row=i) for i, f in enumerate(features[:500])]
    return Evidence(task=TASKS["sentiment"], labels=("neg", "pos"), decoding="argmax", features=first,
                    reference=logits_of("pytorch", first),
                    candidates={name: logits_of(name, first) for name in wrong_every},
                    more_rows=more_rows, logits_of=logits_of)


def test_a_straddling_interval_gathers_more_rows_until_it_is_shown():
    scored = []
    sizes = planned_looks(500, ROWS, None)
    decisions = gather_evidence(synthetic_evidence({"int8-dynamic": 500}, scored), sizes, max_drop=0.5)
    decision = decisions["int8-dynamic"]  # loses 0.2 points: 1 row in 500
    assert decision["verdict"] == KEEPS and decision["looks"] > 1
    assert decision["rows"] == sizes[decision["looks"] - 1] and decision["planned_looks"] == len(sizes) == 4
    assert decision["confidence"] == pytest.approx(1 - 0.05 / 4)
    assert decision["drop_interval"][1] <= 0.5 and decision["drop_points"] == pytest.approx(0.2)
    assert scored == list(zip(sizes[:decision["looks"] - 1], sizes[1:decision["looks"]]))  # each row scored once


def test_on_500_rows_alone_the_same_variant_is_not_shown_to_keep_accuracy():
    decisions = gather_evidence(synthetic_evidence({"int8-dynamic": 500}, []), [500], max_drop=0.5)
    assert decisions["int8-dynamic"]["verdict"] == NOT_SHOWN and decisions["int8-dynamic"]["rows"] == 500


def test_a_clear_loss_stops_at_the_first_look():
    scored = []
    decisions = gather_evidence(synthetic_evidence({"int8-static": 20}, scored), planned_looks(500, ROWS, None), 0.5)
    assert decisions["int8-static"]["verdict"] == LOSES and decisions["int8-static"]["looks"] == 1 and not scored


def test_every_candidate_is_scored_on_the_rows_of_the_last_look():
    decisions = gather_evidence(synthetic_evidence({"int8-dynamic": 500, "int8-static": 20}, []),
                                planned_looks(500, ROWS, None), 0.5)
    assert decisions["int8-dynamic"]["rows"] == decisions["int8-static"]["rows"] > 500


def test_a_held_back_variant_is_explained_in_one_sentence_with_the_command_that_opts_in():
    not_shown = {"rows": 3250, "drop_interval": [-0.4, 0.7], "verdict": NOT_SHOWN}
    variants = {"optimized": VariantEntry(file="o.onnx"),
                "int8-dynamic": VariantEntry(file="i.onnx", checks=VariantChecks(
                    drop_points=0.1, drop_interval=(-0.4, 0.7), decision=not_shown))}
    warnings = []
    assert choose_default(variants, 0.5, warnings, opt_in=lambda name: f"toolkit export CKPT --default-variant {name}") \
        == "optimized"
    assert warnings == ["int8-dynamic is kept but not the default: on 3,250 rows it may lose up to 0.70 points, and a "
                        "loss within --max-drop 0.5 could not be shown. To use it anyway: toolkit export CKPT "
                        "--default-variant int8-dynamic"]
    variants["int8-dynamic"].checks.decision = dict(not_shown, verdict=KEEPS)
    assert choose_default(variants, 0.5, []) == "int8-dynamic"


def test_the_bundle_records_the_decision_and_the_cpu_it_was_made_on(ner_bundle):
    manifest = json.loads((ner_bundle / "manifest.json").read_text())
    decision = manifest["variants"]["int8-dynamic"]["decision"]
    assert {"rows", "looks", "planned_looks", "confidence", "drop_interval", "verdict", "cpu", "cpu_flags"} <= set(
        decision)
    assert decision["rows"] <= manifest["evaluation"]["available"]
    assert (manifest["default_variant"] == "int8-dynamic") == (decision["verdict"] == KEEPS)


def test_max_eval_size_below_the_first_look_is_refused_and_never_shrinks_it():
    from toolkit.config import ExportConfig
    from toolkit.errors import ToolkitError

    with pytest.raises(ToolkitError, match="--max-eval-size 300 is below --eval-size 500"):
        ExportConfig(checkpoint="x", eval_size="500", max_eval_size="300").check()
    assert planned_looks(500, 3250, 300) == [500]  # the checkpoint's own first look, whatever the limit


def test_bench_re_takes_the_decision_only_on_exports_first_look_rows(ner_bundle):
    from types import SimpleNamespace

    from toolkit.bench.decision_check import same_first_look
    from toolkit.runtime import load_bundle

    bundle = load_bundle(ner_bundle)
    recorded = bundle.manifest.evaluation
    same = SimpleNamespace(description={"examples": recorded["examples"], "fingerprint": recorded["fingerprint"]})
    assert same_first_look(bundle, same, [recorded["examples"]]) is None
    more = SimpleNamespace(description={"examples": recorded["examples"] + 1, "fingerprint": "other"})
    assert "--eval-size" in same_first_look(bundle, more, [recorded["examples"]])
    other = SimpleNamespace(description={"examples": recorded["examples"], "fingerprint": "other"})
    assert "not the ones export scored" in same_first_look(bundle, other, [recorded["examples"]])


def test_info_says_a_default_named_by_the_user_was_not_shown_to_keep_accuracy():
    from toolkit.report.info import default_reason

    decision = {"verdict": NOT_SHOWN, "rows": 500, "looks": 1, "planned_looks": 4, "drop_points": 0.1,
                "drop_interval": [-0.4, 0.7], "confidence": 0.9875}
    facts = {"default_variant": "int8-dynamic", "variants": {"int8-dynamic": {"decision": decision}}}
    assert default_reason(facts).startswith("named with --default-variant")
    facts["variants"]["int8-dynamic"]["decision"] = dict(decision, verdict=KEEPS)
    assert default_reason(facts).startswith("shown to keep accuracy")


def test_info_explains_a_float_default_whose_variant_needed_no_decision():
    from toolkit.report.info import default_reason

    facts = {"default_variant": "optimized", "variants": {"optimized": {"decision": None}}}
    assert default_reason(facts) == "no quantized variant was decided on: the fastest float variant"
