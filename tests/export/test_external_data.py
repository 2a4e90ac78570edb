"""A graph whose weights sit in external data files (ONNX's format for models over 2 GB, which
Optimum's exporter writes for large models): export pins every file a variant runs."""

import dataclasses
import json

import onnx
import pytest

from tests.conftest import export_bundle
from toolkit.export import variants as variants_module
from toolkit.runtime import load
from toolkit.runtime.bundle import sha256_of
from toolkit.runtime.errors import BundleError

TEXT = "Angela Merkel met John Smith in Paris ."


def fp32_with_external_data(build, source, target):
    """fp32 as a model over 2 GB comes out of the exporter: the graph and its weights in model.onnx_data."""
    recipe = variants_module.export_fp32(build, source, target)
    onnx.save(onnx.load(str(target)), str(target), save_as_external_data=True, location="model.onnx_data",
              size_threshold=0)
    return recipe


def test_export_records_the_external_data_of_a_variant_and_its_sha256(ner_checkpoint, tmp_path, monkeypatch):
    large = dataclasses.replace(variants_module.VARIANTS["fp32"], make=fp32_with_external_data)
    monkeypatch.setitem(variants_module.VARIANTS, "fp32", large)
    bundle = export_bundle(ner_checkpoint, tmp_path / "bundle", variants=["fp32", "optimized"])
    manifest = json.loads((bundle / "manifest.json").read_text())
    fp32, optimized = manifest["variants"]["fp32"], manifest["variants"]["optimized"]
    assert fp32["data_files"] == {"model.onnx_data": sha256_of(bundle / "model.onnx_data")}
    assert fp32["sha256"] == sha256_of(bundle / "model.onnx") and "data_files" not in optimized
    ours, fused = load(bundle, variant="fp32")(TEXT), load(bundle, variant="optimized")(TEXT)
    assert [(e["entity"], e["start"], e["end"]) for e in ours] == [(e["entity"], e["start"], e["end"]) for e in fused]
    assert [e["score"] for e in ours] == pytest.approx([e["score"] for e in fused], abs=1e-5)  # fusions: float rounding
    (bundle / "model.onnx_data").write_bytes(bytes((bundle / "model.onnx_data").stat().st_size))
    with pytest.raises(BundleError, match="model.onnx_data: sha256 .* does not match the manifest's"):
        load(bundle, variant="fp32")
