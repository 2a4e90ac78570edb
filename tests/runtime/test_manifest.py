"""The manifest as a type: what export writes reads back equal, older bundles still read, and the
devices it records decide what runs on a GPU."""

import json
import shutil
from types import SimpleNamespace

import pytest

from toolkit.runtime import load_bundle
from toolkit.runtime.answers import ENTITIES
from toolkit.runtime.errors import BundleError
from toolkit.runtime.manifest import Manifest, VariantChecks, VariantEntry
from toolkit.runtime.predict import choose_variant


def manifest_of(variants: dict, default: str) -> Manifest:
    return Manifest(task="ner", kind=ENTITIES, labels=("O", "B-PER", "I-PER"), max_length=32, variants=variants,
                    default_variant=default, engine_defaults={"onnxruntime": default})


def entry(name: str, devices: tuple[str, ...], **recipe) -> VariantEntry:
    return VariantEntry(file=f"{name}.onnx", sha256="0" * 64, size_bytes=10, devices=devices, recipe=recipe,
                        checks=VariantChecks(parity={"max_abs_diff": 0.0}, drop_points=0.1, drop_interval=(-0.2, 0.4)))


def test_a_manifest_reads_back_equal_from_its_dict():
    manifest = manifest_of({"fp32": entry("fp32", ("cpu", "cuda")),
                            "int8-dynamic": entry("int8-dynamic", ("cpu",), target="portable")}, "int8-dynamic")
    manifest.extra["written_by_a_newer_toolkit"] = {"kept": True}
    data = json.loads(json.dumps(manifest.to_dict()))
    assert Manifest.from_dict(data) == manifest
    assert data["decode"] == "entities" and data["variants"]["fp32"]["devices"] == ["cpu", "cuda"]
    assert data["variants"]["int8-dynamic"]["drop_interval"] == [-0.2, 0.4]
    assert manifest.variants["int8-dynamic"].target == "portable"


def test_the_bundles_manifest_reads_back_equal(ner_bundle):
    data = json.loads((ner_bundle / "manifest.json").read_text())
    manifest = load_bundle(ner_bundle).manifest
    assert manifest.to_dict() == data
    assert "quantize_for" not in data["options"]  # the int8 target is written once, in each recipe
    assert manifest.variants["int8-dynamic"].target == data["variants"]["int8-dynamic"]["recipe"]["target"]
    assert manifest.variants["int8-dynamic"].devices == ("cpu",)
    assert manifest.variants["fp32"].devices == ("cpu", "cuda")


def test_a_manifest_written_before_devices_reads_with_the_old_rule(tmp_path, ner_bundle):
    bundle = tmp_path / "older"
    shutil.copytree(ner_bundle, bundle)
    data = json.loads((bundle / "manifest.json").read_text())
    for name, variant in data["variants"].items():
        variant.pop("devices")
        if variant["engine"] == "onnxruntime":
            variant.pop("engine")  # older exports wrote it only for OpenVINO's variant
    data["options"]["quantize_for"] = "portable"
    data["variants"]["fp16"] = {**data["variants"]["fp32"], "file": "model_fp16.onnx"}
    (bundle / "manifest.json").write_text(json.dumps(data))
    manifest = load_bundle(bundle).manifest
    assert manifest.format_version == 1
    assert {name: v.devices for name, v in manifest.variants.items()} == {
        "fp32": ("cpu", "cuda"), "optimized": ("cpu", "cuda"), "int8-dynamic": ("cpu",), "fp16": ("cuda",)}
    assert manifest.variants["fp32"].engine == "onnxruntime"
    assert manifest.options["quantize_for"] == "portable"  # kept as it was, read by nobody
    assert manifest.variants["int8-dynamic"].target == "portable"  # from the recipe, as ever


def test_cuda_prefers_what_the_manifest_says_is_meant_for_it():
    def bundle(variants, default):
        manifest = manifest_of(variants, default)
        return SimpleNamespace(manifest=manifest, variants=manifest.variants, default_variant=default,
                               default_for=manifest.default_for)

    fp32, optimized = entry("fp32", ("cpu", "cuda")), entry("optimized", ("cpu", "cuda"))
    int8, fp16 = entry("int8-dynamic", ("cpu",)), entry("fp16", ("cuda",))
    full = bundle({"fp32": fp32, "optimized": optimized, "int8-dynamic": int8, "fp16": fp16}, "int8-dynamic")
    assert full.manifest.variants_for("cuda") == ["fp16", "optimized", "fp32"]
    assert choose_variant(full, None, "cuda") == "fp16"
    assert choose_variant(full, None, "cpu") == "int8-dynamic"
    assert choose_variant(full, "fp32", "cuda") == "fp32"  # a named variant is always the one loaded
    assert choose_variant(bundle({"fp32": fp32, "optimized": optimized, "int8-dynamic": int8}, "int8-dynamic"),
                          None, "cuda") == "optimized"
    assert choose_variant(bundle({"int8-dynamic": int8}, "int8-dynamic"), None, "cuda") == "int8-dynamic"
    # a variant the manifest says runs on a GPU is chosen whatever its name
    assert choose_variant(bundle({"int8-dynamic": int8, "gpu-special": entry("x", ("cuda",))}, "int8-dynamic"),
                          None, "cuda") == "gpu-special"


@pytest.mark.parametrize("change, message", [
    ({"devices": ["tpu"]}, "devices must be a list of cpu, cuda"),
    ({"engine": "tensorrt"}, "engine must be one of onnxruntime, openvino"),
    ({"drop_interval": 3}, "drop_interval must be two numbers"),
])
def test_a_variant_entry_is_checked(change, message):
    data = manifest_of({"fp32": entry("fp32", ("cpu",))}, "fp32").to_dict()
    data["variants"]["fp32"].update(change)
    with pytest.raises(BundleError, match=message):
        Manifest.from_dict(data)

