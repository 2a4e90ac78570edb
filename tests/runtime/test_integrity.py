"""What a bundle runs is what its manifest pinned: every file of a variant (its graph and the external
data the graph reads) is checked, and a manifest field the runtime cannot trust is one clear error."""

import json
import shutil

import pytest

from tests.conftest import cli_error
from toolkit.runtime import load
from toolkit.runtime.bundle import sha256_of
from toolkit.runtime.errors import BundleError, OptionError

TEXT = "Angela Merkel met John Smith in Paris ."


def read_manifest(bundle):
    return json.loads((bundle / "manifest.json").read_text())


def write_manifest(bundle, manifest):
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def save_with_external_data(bundle, variant: str, location: str) -> None:
    """Re-save a variant's graph with its weights in `location` (ONNX's format over 2 GB), and pin it."""
    import onnx

    manifest = read_manifest(bundle)
    entry = manifest["variants"][variant]
    path = bundle / entry["file"]
    onnx.save(onnx.load(str(path)), str(path), save_as_external_data=True, location=location, size_threshold=0)
    data = path.parent / location  # where ONNX Runtime looks: beside the graph
    entry["sha256"], entry["data_files"] = sha256_of(path), {data.relative_to(bundle).as_posix(): sha256_of(data)}
    write_manifest(bundle, manifest)


@pytest.fixture(scope="module")
def external_bundle(ner_bundle, tmp_path_factory):
    """The NER bundle with fp32's weights in model.onnx_data."""
    bundle = tmp_path_factory.mktemp("external") / "ner"
    shutil.copytree(ner_bundle, bundle)
    save_with_external_data(bundle, "fp32", "model.onnx_data")
    return bundle


@pytest.fixture
def copy_of(tmp_path):
    def copy(bundle):
        target = tmp_path / "copy"
        shutil.copytree(bundle, target)
        return target
    return copy


def test_external_data_is_pinned_and_answers_as_the_graph_that_held_its_weights(external_bundle, ner_bundle):
    entry = read_manifest(external_bundle)["variants"]["fp32"]
    assert list(entry["data_files"]) == ["model.onnx_data"]
    assert (external_bundle / "model.onnx").stat().st_size < (ner_bundle / "model.onnx").stat().st_size
    predictor = load(external_bundle, variant="fp32")
    assert predictor(TEXT) == load(ner_bundle, variant="fp32")(TEXT)


def test_replaced_external_weights_are_refused(external_bundle, copy_of):
    bundle = copy_of(external_bundle)
    data = bundle / "model.onnx_data"
    data.write_bytes(bytes(data.stat().st_size))  # same size, every weight zero
    with pytest.raises(BundleError, match="model.onnx_data: sha256 .* does not match the manifest's"):
        load(bundle, variant="fp32")


def test_expected_sha256_pins_the_external_data_with_the_graph(external_bundle, copy_of):
    entry = read_manifest(external_bundle)["variants"]["fp32"]
    digest = load(external_bundle, variant="fp32").bundle.variants["fp32"].digest
    assert digest not in (entry["sha256"], entry["data_files"]["model.onnx_data"])
    load(external_bundle, variant="fp32", verify=False, expected_sha256=digest)
    # the weights replaced and the manifest rewritten to match them: only the pin can tell
    bundle = copy_of(external_bundle)
    data = bundle / "model.onnx_data"
    data.write_bytes(bytes(data.stat().st_size))
    manifest = read_manifest(bundle)
    manifest["variants"]["fp32"]["data_files"] = {"model.onnx_data": sha256_of(data)}
    write_manifest(bundle, manifest)
    load(bundle, variant="fp32")  # consistent with its (rewritten) manifest
    with pytest.raises(BundleError, match="does not match the expected"):
        load(bundle, variant="fp32", verify=False, expected_sha256=digest)
    with pytest.raises(BundleError, match="does not match the expected"):  # the graph's hash alone pins too little
        load(external_bundle, variant="fp32", expected_sha256=entry["sha256"])


def test_a_graph_reading_external_data_the_manifest_does_not_pin_is_refused(external_bundle, copy_of):
    bundle = copy_of(external_bundle)
    manifest = read_manifest(bundle)
    del manifest["variants"]["fp32"]["data_files"]
    write_manifest(bundle, manifest)
    with pytest.raises(BundleError, match="reads external data model.onnx_data that the manifest does not pin"):
        load(bundle, variant="fp32")


@pytest.mark.parametrize("data_files, message", [
    ({"../model.onnx_data": "0" * 64}, "points outside the bundle"),
    ({"model.onnx_data": "not a hash"}, "data_files must map each external data file to its sha256"),
])
def test_data_files_are_checked_like_every_path_of_the_manifest(external_bundle, copy_of, data_files, message):
    bundle = copy_of(external_bundle)
    manifest = read_manifest(bundle)
    manifest["variants"]["fp32"]["data_files"] = data_files
    write_manifest(bundle, manifest)
    with pytest.raises(BundleError, match=message):
        load(bundle, variant="fp32")


@pytest.mark.parametrize("sha256", [None, "absent", "", "0" * 63])
def test_a_variant_without_a_sha256_is_never_run(ner_bundle, copy_of, sha256):
    bundle = copy_of(ner_bundle)
    manifest = read_manifest(bundle)
    entry = manifest["variants"][manifest["default_variant"]]
    if sha256 == "absent":
        del entry["sha256"]
    else:
        entry["sha256"] = sha256
    write_manifest(bundle, manifest)
    for verify in (True, False):
        with pytest.raises(BundleError, match="sha256 must be the 64 hex digits"):
            load(bundle, verify=verify)


def test_predict_and_serve_refuse_a_variant_without_a_sha256(ner_bundle, copy_of, capsys):
    from toolkit.serve.app import create_app

    bundle = copy_of(ner_bundle)
    manifest = read_manifest(bundle)
    del manifest["variants"][manifest["default_variant"]]["sha256"]
    write_manifest(bundle, manifest)
    assert "sha256 must be the 64 hex digits" in cli_error(capsys, "predict", str(bundle), TEXT)
    with pytest.raises(BundleError, match="sha256 must be the 64 hex digits"):
        create_app(bundle)


def test_duplicate_labels_are_refused(ner_bundle, copy_of):
    bundle = copy_of(ner_bundle)
    manifest = read_manifest(bundle)
    manifest["labels"] = ["O"] * len(manifest["labels"])
    write_manifest(bundle, manifest)
    with pytest.raises(BundleError, match="labels must be distinct, found 'O' more than once"):
        load(bundle)


@pytest.mark.parametrize("pad_token_id, message", [
    (10**6, "pad_token_id 1000000 is not in the tokenizer's vocabulary"),
    (-1, "pad_token_id must be a token id"),
])
def test_a_pad_token_outside_the_vocabulary_is_refused_at_load(ner_bundle, copy_of, pad_token_id, message):
    bundle = copy_of(ner_bundle)
    manifest = read_manifest(bundle)
    manifest["pad_token_id"] = pad_token_id
    write_manifest(bundle, manifest)
    with pytest.raises(BundleError, match=message):
        load(bundle)


@pytest.mark.parametrize("text", ["[" * 200_000 + "]" * 200_000,
                                  '{"format_version": 1, "task": ' + "[" * 200_000 + "]" * 200_000 + "}"])
def test_a_deeply_nested_manifest_is_one_clear_error(ner_bundle, copy_of, text):
    bundle = copy_of(ner_bundle)
    (bundle / "manifest.json").write_text(text)
    with pytest.raises(BundleError, match="nests its arrays or objects too deeply"):
        load(bundle)


@pytest.mark.parametrize("providers", [["TensorrtExecutionProvider"],
                                       [("NoSuchExecutionProvider", {}), "CPUExecutionProvider"]])
def test_unknown_providers_are_refused_with_the_available_ones(ner_bundle, providers):
    with pytest.raises(OptionError, match=r"not in this onnxruntime, which has .*CPUExecutionProvider"):
        load(ner_bundle, providers=providers)


def test_known_providers_still_load(ner_bundle):
    predictor = load(ner_bundle, providers=[("CPUExecutionProvider", {})])
    assert predictor.session.get_providers() == ["CPUExecutionProvider"]
