import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest

from tests.conftest import cli_error, export_bundle
from toolkit.cli import main
from toolkit.errors import ToolkitError
from toolkit.export.variants import count_weight_matmuls
from toolkit.runtime.bundle import sha256_of

BUNDLE_FILES = {"manifest.json", "README.md", "config.json", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "vocab.txt", "model.onnx", "model_optimized.onnx",
                "model_int8_dynamic.onnx"}


def manifest_of(bundle):
    return json.loads((bundle / "manifest.json").read_text())


def test_bundle_has_exactly_the_expected_files(ner_bundle):
    assert {p.name for p in ner_bundle.iterdir()} == BUNDLE_FILES


def test_manifest_fields_and_sha256(ner_bundle):
    manifest = manifest_of(ner_bundle)
    assert manifest["format_version"] == 1 and manifest["task"] == "ner"
    assert manifest["labels"][0] == "O" and manifest["inputs"] == ["input_ids", "attention_mask", "token_type_ids"]
    assert set(manifest["versions"]) == {"toolkit", "transformers", "optimum", "onnx", "onnxruntime"}
    assert set(manifest["variants"]) == {"fp32", "optimized", "int8-dynamic"}
    assert manifest["default_variant"] in manifest["variants"]
    assert manifest["evaluation"]["examples"] == 40 and manifest["evaluation"]["pytorch"]["f1"] >= 0
    for variant in manifest["variants"].values():
        path = ner_bundle / variant["file"]
        assert variant["sha256"] == sha256_of(path) and variant["size_bytes"] == path.stat().st_size
        assert "f1" in variant["accuracy"] and "recipe" in variant


def test_fp32_and_optimized_match_pytorch_within_atol(ner_bundle):
    for name in ("fp32", "optimized"):
        assert manifest_of(ner_bundle)["variants"][name]["parity"]["max_abs_diff"] <= 1e-4


def test_a_rewritten_graph_may_round_up_to_twice_the_plain_graphs_difference():
    """A deep model's plain graph is already ~1e-4 from PyTorch (MPNet: 7.4e-5); its fusions round again."""
    from types import SimpleNamespace

    from toolkit.errors import ParityError
    from toolkit.export import check_variant, parity_tolerance
    from toolkit.export.variants import VARIANTS

    cfg = SimpleNamespace(atol=1e-4)
    features = [{"input_ids": [1, 2, 3]}]  # no labels: parity alone
    reference = [np.zeros((3, 2), dtype=np.float32)]

    def check(name, difference, plain):
        logits = [reference[0] + np.float32(difference)]
        variant = VARIANTS[name]
        return check_variant(variant, logits, reference, features, None, cfg, None, parity_tolerance(variant, cfg, plain))

    assert check("optimized", 1.3e-4, plain=7.4e-5).parity["tolerance"] == pytest.approx(1.48e-4)
    with pytest.raises(ParityError, match=r"is 0\.00013 > 0\.00012 \(2x the plain fp32 graph's own difference\)"):
        check("optimized", 1.3e-4, plain=6e-5)
    with pytest.raises(ParityError, match="> --atol 0.0001"):
        check("optimized", 1.3e-4, plain=1e-7)  # a shallow model's plain graph leaves --atol as it is
    assert parity_tolerance(VARIANTS["fp32"], cfg, 7.4e-5) == 1e-4  # the plain graph answers to --atol alone
    with pytest.raises(ParityError, match="> --atol 0.0001"):
        check("fp32", 1.3e-4, plain=7.4e-5)


def test_optimized_variant_has_fused_attention(ner_bundle):
    ops = {n.op_type for n in onnx.load(str(ner_bundle / "model_optimized.onnx")).graph.node}
    assert "Attention" in ops or "MultiHeadAttention" in ops
    assert "SkipLayerNormalization" in ops


def test_int8_agrees_with_pytorch_labels(ner_bundle, sentiment_bundle):
    for bundle in (ner_bundle, sentiment_bundle):
        assert manifest_of(bundle)["variants"]["int8-dynamic"]["parity"]["label_agreement"] >= 0.9


def test_int8_quantizes_exactly_the_weight_matmuls(ner_bundle):
    recipe = manifest_of(ner_bundle)["variants"]["int8-dynamic"]["recipe"]
    expected = count_weight_matmuls(ner_bundle / "model.onnx")
    # per layer: q, k, v, attention output, two feed-forward; plus the classifier head
    assert expected == 2 * 6 + 1 == recipe["quantized_matmuls"]
    graph = onnx.load(str(ner_bundle / "model_int8_dynamic.onnx")).graph
    quantized = [n for n in graph.node if n.op_type in ("MatMulInteger", "DynamicQuantizeMatMul", "MatMulIntegerToFloat")]
    assert len(quantized) == expected
    # every quantized input takes a scale per token (toolkit/export/per_token.py), none per tensor
    assert not [n for n in graph.node if n.op_type == "DynamicQuantizeLinear"]
    assert len([n for n in graph.node if n.op_type == "QuantizeLinear"]) == recipe["requantized_inputs"] > 0
    assert not [n for n in graph.node if n.op_type == "MatMul" and n.input[1] in {i.name for i in graph.initializer}]


def test_optimum_ortmodel_loads_the_bundle_and_gives_the_same_logits(ner_bundle, ner_checkpoint):
    import torch
    from optimum.onnxruntime import ORTModelForTokenClassification
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(ner_bundle)
    inputs = tokenizer(["Angela Merkel met John Smith in Paris .", "Hi"], padding=True, return_tensors="pt")
    reference = AutoModelForTokenClassification.from_pretrained(ner_checkpoint).eval()
    with torch.no_grad():
        expected = reference(**inputs).logits.numpy()
    for name in ("model.onnx", "model_optimized.onnx"):
        model = ORTModelForTokenClassification.from_pretrained(ner_bundle, file_name=name)
        np.testing.assert_allclose(model(**inputs).logits.numpy(), expected, atol=1e-4)


def test_static_quantization_is_calibrated_on_training_data(tmp_path, ner_checkpoint):
    bundle = export_bundle(ner_checkpoint, tmp_path / "b", quantize=True, static=True, calibration_size=16)
    variant = manifest_of(bundle)["variants"]["int8-static"]
    assert variant["recipe"]["calibration_examples"] == 16
    assert variant["parity"]["label_agreement"] >= 0.8
    ops = {n.op_type for n in onnx.load(str(bundle / variant["file"])).graph.node}
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops


def replace_maker(monkeypatch, name, make):
    """Make the variant `name` with `make` instead of its own maker, for this test only."""
    from toolkit.export.variants import VARIANTS

    monkeypatch.setitem(VARIANTS, name, dataclasses.replace(VARIANTS[name], make=make))


@pytest.mark.e2e
def test_compact_int8_stores_the_embedding_tables_in_int8_per_row(full_ner_bundle):
    from toolkit.runtime import load

    manifest = manifest_of(full_ner_bundle)
    compact, dynamic = manifest["variants"]["int8-compact"], manifest["variants"]["int8-dynamic"]
    assert compact["recipe"]["embedding_tables"] == sorted(
        f"bert.embeddings.{t}_embeddings.weight" for t in ("position", "token_type", "word"))
    tables = {init.name: init for init in onnx.load(full_ner_bundle / compact["file"]).graph.initializer}
    word = onnx.numpy_helper.to_array(tables["bert.embeddings.word_embeddings.weight"])
    scale = onnx.numpy_helper.to_array(tables["bert.embeddings.word_embeddings.weight_scale"])
    assert word.dtype == np.int8 and scale.shape == (word.shape[0], 1)
    assert compact["size_bytes"] < dynamic["size_bytes"] - 3 * word.size  # fp32 -> int8 tables, plus a scale per row
    # its cost is measured and recorded like any variant's, and it is never chosen as the default
    assert compact["parity"]["label_agreement"] >= 0.95 and compact["drop_points"] is not None
    assert manifest["default_variant"] != "int8-compact"
    ner = load(full_ner_bundle, variant="int8-compact", decoding="argmax")
    reference = load(full_ner_bundle, variant="int8-dynamic", decoding="argmax")
    texts = ["Angela Merkel met John Smith in Paris .", "Shares of Barclays fell after Maria Garcia resigned ."]
    # The tiny model's weaker entity types sit near ties, where the two int8 recipes may round apart
    # (the agreement above measures that on every evaluation row); its people are learned firmly.
    def people(answers):
        return [[(e["start"], e["end"]) for e in a if e["entity"] == "PER"] for a in answers]

    assert people(ner(texts)) == people(reference(texts)) and any(people(reference(texts)))


def test_failure_mid_export_leaves_no_bundle_and_no_stray_files(tmp_path, ner_checkpoint, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated crash while quantizing")

    replace_maker(monkeypatch, "int8-dynamic", broken)
    with pytest.raises(RuntimeError, match="simulated"):
        export_bundle(ner_checkpoint, tmp_path / "bundle", quantize=True)
    assert list(tmp_path.iterdir()) == []


def test_failed_reexport_keeps_the_existing_bundle(tmp_path, ner_bundle, ner_checkpoint, monkeypatch):
    target = tmp_path / "bundle"
    shutil.copytree(ner_bundle, target)
    before = (target / "manifest.json").read_text()
    replace_maker(monkeypatch, "optimized", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        export_bundle(ner_checkpoint, target, quantize=True, overwrite=True)
    assert (target / "manifest.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]


def test_reexport_replaces_a_bundle_when_complete(tmp_path, ner_bundle, ner_checkpoint):
    target = tmp_path / "bundle"
    shutil.copytree(ner_bundle, target)
    export_bundle(ner_checkpoint, target, overwrite=True)
    assert set(manifest_of(target)["variants"]) == {"fp32", "optimized"}
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]


def test_parity_failure_names_the_variant_and_keeps_the_others(tmp_path, ner_checkpoint, capsys, monkeypatch):
    from onnx import numpy_helper

    from toolkit.export.variants import optimize

    def optimize_with_a_bug(build, source, target):
        recipe = optimize(build, source, target)
        model = onnx.load(str(target))
        bias = next(i for i in model.graph.initializer if i.name == "classifier.bias")
        bias.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(bias) + 0.5, bias.name))
        onnx.save(model, str(target))
        return recipe

    replace_maker(monkeypatch, "optimized", optimize_with_a_bug)
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(ner_checkpoint), "--quantize", "--output-dir", str(tmp_path / "b")])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "variant 'optimized' failed parity" in err and "is 0.5 > --atol 0.0001" in err
    manifest = manifest_of(tmp_path / "b")
    assert set(manifest["variants"]) == {"fp32", "int8-dynamic"}
    assert not (tmp_path / "b" / "model_optimized.onnx").exists()
    assert "optimized" in manifest["rejected"][0]


def test_not_a_checkpoint(capsys, tmp_path):
    assert "is not a checkpoint" in cli_error(capsys, "export", str(tmp_path))


def test_unsupported_architecture(capsys, tmp_path, tiny_base):
    err = cli_error(capsys, "export", str(tiny_base), "--output-dir", str(tmp_path / "b"))
    assert "is not supported" in err and "token- or sequence-classification" in err


def test_checkpoint_without_tokenizer(capsys, tmp_path, ner_checkpoint):
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(ner_checkpoint / name, bare / name)
    assert "no tokenizer files" in cli_error(capsys, "export", str(bare))


def test_fp16_without_cuda_says_why(capsys, tmp_path, ner_checkpoint):
    err = cli_error(capsys, "export", str(ner_checkpoint), "--fp16", "--output-dir", str(tmp_path / "b"))
    assert "CUDA execution provider" in err
    assert not (tmp_path / "b").exists()


def test_calibration_dataset_of_another_task(capsys, tmp_path, ner_checkpoint, sentiment_data):
    err = cli_error(capsys, "export", str(ner_checkpoint), "--quantize", "--static",
                    "--calibration-dataset", str(sentiment_data), "--output-dir", str(tmp_path / "b"))
    assert "does not match the ner task" in err
    assert list(tmp_path.iterdir()) == []


def test_bad_calibration_data_is_refused_before_anything_is_exported(tmp_path, ner_checkpoint, monkeypatch):
    from toolkit.errors import DataError
    from toolkit.export.variants import VARIANTS

    made = []
    real = VARIANTS["fp32"].make
    replace_maker(monkeypatch, "fp32", lambda *args: made.append(args) or real(*args))
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "train.jsonl").write_text('{"sentence": "no tokens column"}\n')
    with pytest.raises(DataError, match="expected a 'tokens' column"):
        export_bundle(ner_checkpoint, tmp_path / "bundle", quantize=True, static=True,
                      calibration_dataset=str(wrong))
    assert made == [] and not (tmp_path / "bundle").exists()


def snapshot(directory):
    return {p.relative_to(directory): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("where", ["checkpoint", "inside", "parent", "file", "cwd"])
def test_export_never_replaces_what_is_not_a_bundle(tmp_path, ner_checkpoint, capsys, monkeypatch, where):
    home = tmp_path / "project"
    checkpoint = home / "ner"
    shutil.copytree(ner_checkpoint, checkpoint)
    (home / "notes.txt").write_text("my notes")
    target = {"checkpoint": checkpoint, "inside": checkpoint / "bundle", "parent": home,
              "file": home / "notes.txt", "cwd": Path(".")}[where]
    monkeypatch.chdir(home)
    before = snapshot(home)
    err = cli_error(capsys, "export", str(checkpoint), "--output-dir", str(target))
    assert ("checkpoint" in err or "not a bundle" in err or "not a directory" in err) and str(target) in err
    assert snapshot(home) == before


def test_an_existing_bundle_is_replaced_only_with_overwrite(tmp_path, ner_bundle, ner_checkpoint, capsys):
    target = tmp_path / "bundle"
    shutil.copytree(ner_bundle, target)
    before = snapshot(target)
    err = cli_error(capsys, "export", str(ner_checkpoint), "--output-dir", str(target))
    assert "already holds a bundle" in err and "--overwrite" in err
    assert snapshot(target) == before


def test_a_killed_export_leaves_nothing_the_next_run_does_not_clean(tmp_path, ner_bundle, ner_checkpoint):
    target = tmp_path / "bundle"
    shutil.copytree(ner_bundle, target)
    before = snapshot(target)
    process = subprocess.Popen([sys.executable, "-m", "toolkit", "export", str(ner_checkpoint), "--output-dir",
                                str(target), "--overwrite"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".bundle.tmp-*/model.onnx")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # mid-export: the staging folder holds a partial bundle
    process.wait()
    assert list(tmp_path.glob(".bundle.tmp-*")) and snapshot(target) == before
    # A kill between the swap's two renames: the old bundle moved aside, the new one not yet in place.
    aside = tmp_path / ".bundle.old-killed"
    aside.mkdir()
    os.replace(target, aside / "bundle")
    with pytest.raises(ToolkitError, match="already holds a bundle"):
        export_bundle(ner_checkpoint, target)
    assert snapshot(target) == before and [p.name for p in tmp_path.iterdir()] == ["bundle"]


def test_int8_is_made_for_the_named_cpu_target_and_the_runtime_warns_elsewhere(tmp_path, ner_checkpoint, ner_bundle,
                                                                                monkeypatch):
    import warnings

    from toolkit.runtime import cpu, load

    vnni = export_bundle(ner_checkpoint, tmp_path / "vnni", quantize=True, quantize_for="avx512_vnni")
    recipe = manifest_of(vnni)["variants"]["int8-dynamic"]["recipe"]
    assert recipe["target"] == "avx512_vnni" and recipe["reduce_range"] is False
    portable = manifest_of(ner_bundle)["variants"]["int8-dynamic"]["recipe"]
    assert portable["target"] == "portable" and portable["reduce_range"] is True

    def loaded_with(flags, bundle):
        monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset(flags))
        cpu.warn_if_not_built_for_this_cpu.cache_clear()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load(bundle, variant="int8-dynamic")
        return [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]

    avx2_only = {"avx", "avx2", "fma"}
    assert any("quantized for avx512_vnni" in m for m in loaded_with(avx2_only, vnni))
    assert loaded_with(avx2_only | {"avx512_vnni"}, vnni) == []
    assert loaded_with(avx2_only, ner_bundle) == []
