"""Bundles often come from someone else: the runtime trusts nothing in them and never loops."""

import json
import os
import shutil

import pytest

from toolkit.runtime import load
from toolkit.runtime.errors import BundleError, OptionError
from toolkit.runtime.windows import TokenizedText, make_windows


def edited(tmp_path, bundle, **changes):
    copy = tmp_path / "edited"
    shutil.copytree(bundle, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    for key, value in changes.items():
        if key.startswith("variant_"):
            manifest["variants"][manifest["default_variant"]][key[len("variant_"):]] = value
        elif value is None:
            manifest.pop(key)
        else:
            manifest[key] = value
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


@pytest.mark.parametrize("name", ["../../../../etc/passwd", "/etc/passwd", "sub/../../x.onnx"])
def test_variant_paths_outside_the_bundle_are_refused(tmp_path, ner_bundle, name):
    with pytest.raises(BundleError, match="points outside the bundle"):
        load(edited(tmp_path, ner_bundle, variant_file=name), verify=False)


def test_tokenizer_path_outside_the_bundle_is_refused(tmp_path, ner_bundle):
    with pytest.raises(BundleError, match="points outside the bundle"):
        load(edited(tmp_path, ner_bundle, tokenizer="../tokenizer.json"))


def test_a_symlink_leading_out_of_the_bundle_is_refused(tmp_path, ner_bundle):
    bundle = edited(tmp_path, ner_bundle)
    outside = tmp_path / "elsewhere.json"
    shutil.copy(bundle / "tokenizer.json", outside)
    (bundle / "tokenizer.json").unlink()
    os.symlink(outside, bundle / "tokenizer.json")
    with pytest.raises(BundleError, match="outside the bundle"):
        load(bundle)


@pytest.mark.parametrize("changes, message", [
    ({"max_length": 2}, "max_length must be a whole number of at least"),
    ({"max_length": "128"}, "max_length must be a whole number"),
    ({"labels": ["O"]}, "labels must be a list"),
    ({"decode": "bogus"}, "decode must be one of"),
    ({"variants": None}, "variants must map"),
    ({"variant_file": None}, "has no file"),
    ({"default_variant": "int4"}, "is not among the variants"),
    ({"decode": ["entities"]}, "decode must be one of"),  # unhashable values are problems, not a TypeError
    ({"default_variant": ["fp32"]}, "is not among the variants"),
    ({"engine_defaults": {"openvino": ["fp32"]}}, "engine_defaults must name a variant"),
    ({"variant_size_bytes": "big"}, "size_bytes must be a whole number"),
    ({"evaluation": "x"}, "evaluation must be a JSON object"),
])
def test_malformed_manifests_are_one_clear_error(tmp_path, ner_bundle, changes, message):
    with pytest.raises(BundleError, match=message):
        load(edited(tmp_path, ner_bundle, **changes))


def test_expected_sha256_pins_the_model_file(ner_bundle):
    with pytest.raises(BundleError, match="does not match the expected"):
        load(ner_bundle, verify=False, expected_sha256="0" * 64)
    manifest = json.loads((ner_bundle / "manifest.json").read_text())
    load(ner_bundle, expected_sha256=manifest["variants"][manifest["default_variant"]]["sha256"])


@pytest.mark.parametrize("options, message", [
    ({"stride": -400}, "stride=-400"), ({"batch_size": -1}, "batch_size=-1"), ({"batch_size": 0}, "batch_size=0"),
    ({"threads": 1000}, "threads=1000"), ({"device": "tpu"}, "device='tpu'"),
    ({"decoding": "bogus"}, "decoding='bogus'"), ({"aggregation": "mean"}, "aggregation='mean'"),
])
def test_runtime_options_are_checked_where_they_enter(ner_bundle, options, message):
    with pytest.raises(OptionError, match=message):
        load(ner_bundle, **options)


def test_a_dict_is_not_read_as_its_keys(ner_bundle):
    with pytest.raises(TypeError, match="found dict"):
        load(ner_bundle)({"text": "Angela Merkel"})


def test_window_code_cannot_loop_without_progress():
    text = TokenizedText(list(range(50)), ["x"] * 50, [(i, i + 1) for i in range(50)])
    with pytest.raises(ValueError, match="cannot move forward"):
        make_windows([text], 2, 0, [101], [102])
    with pytest.raises(ValueError, match="cannot move forward"):
        make_windows([text], 16, -5, [101], [102])
    windows = make_windows([text], 3, 128, [101], [102])  # one content token per window: still ends
    assert len(windows) == 50


def test_a_slim_bundle_with_one_variant_loads(tmp_path, ner_bundle):
    bundle = tmp_path / "slim"
    shutil.copytree(ner_bundle, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    for name, variant in manifest["variants"].items():
        if name != manifest["default_variant"]:
            (bundle / variant["file"]).unlink()
    full, slim = load(ner_bundle), load(bundle)
    text = "Angela Merkel met John Smith in Paris ."
    assert full(text) and slim(text) == full(text)
    other = next(n for n in manifest["variants"] if n != manifest["default_variant"])
    with pytest.raises(BundleError, match=f"of variant '{other}' is missing"):
        load(bundle, variant=other)


def test_a_label_count_that_does_not_fit_the_model_is_refused(tmp_path, ner_bundle):
    manifest = json.loads((ner_bundle / "manifest.json").read_text())
    classes = len(manifest["labels"])
    with pytest.raises(BundleError, match=f"names 3 labels but the model answers {classes} classes"):
        load(edited(tmp_path, ner_bundle, labels=manifest["labels"][:3]))


def test_a_truncated_model_loaded_without_verification_is_one_clear_error(tmp_path, ner_bundle):
    bundle = edited(tmp_path, ner_bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    model = bundle / manifest["variants"]["fp32"]["file"]
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    with pytest.raises(BundleError, match="cannot be loaded by ONNX Runtime"):
        load(bundle, variant="fp32", verify=False)
