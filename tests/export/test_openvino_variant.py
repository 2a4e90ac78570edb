"""int8-openvino: made by NNCF, checked on OpenVINO at export, loaded on OpenVINO by the runtime."""

import json

import numpy as np
import onnx
import pytest

from tests.conftest import cli_error
from toolkit.backends import OpenVinoBackend
from toolkit.errors import OptionError
from toolkit.export import choose_openvino_default
from toolkit.runtime import load
from toolkit.runtime.windows import make_windows, pad_batch, tokenize

TEXTS = ["Angela Merkel met John Smith in Paris on Monday .",
         "Shares of Barclays fell 3 percent after Maria Garcia resigned ."]


def manifest_of(bundle):
    return json.loads((bundle / "manifest.json").read_text())


@pytest.mark.e2e
def test_int8_openvino_is_nncf_int8_checked_on_openvino(full_ner_bundle):
    manifest = manifest_of(full_ner_bundle)
    variant = manifest["variants"]["int8-openvino"]
    assert variant["engine"] == "openvino" and variant["provider_checked"] == "openvino-CPU"
    assert variant["recipe"]["tool"] == "nncf.quantize" and variant["recipe"]["overflow_fix"] == "enable"
    assert variant["recipe"]["calibration_examples"] == 8
    # measured like every variant: agreement and points lost against PyTorch on the evaluation rows
    assert variant["parity"]["label_agreement"] >= 0.9 and variant["drop_interval"] is not None
    nodes = onnx.load(str(full_ner_bundle / variant["file"])).graph.node
    made_by = {output: node.op_type for node in nodes for output in node.output}
    matmuls = [n for n in nodes if n.op_type == "MatMul"]
    in_float = [n for n in matmuls if not all(made_by.get(i) == "DequantizeLinear" for i in n.input)]
    # every matrix product is fed int8, attention's scores (Q x K) included, but softmax x V: NNCF's
    # transformer rules keep the probabilities in float (one per layer, two layers here)
    assert len(matmuls) == 17 and len(in_float) == 2
    assert all(made_by[n.input[0]] == "Softmax" for n in in_float)
    # ONNX Runtime's default is never it; OpenVINO's is it, or a float variant when it lost accuracy
    assert manifest["default_variant"] != "int8-openvino"
    assert manifest["engine_defaults"]["onnxruntime"] == manifest["default_variant"]
    assert manifest["engine_defaults"]["openvino"] in ("int8-openvino", "optimized")
    # OpenVINO runs every matrix product it keeps (it fuses some) with int8 kernels
    products = OpenVinoBackend("int8-openvino", full_ner_bundle / variant["file"]).session.matrix_products()
    assert set(products) == {"int8"} and products["int8"] >= 12


@pytest.mark.e2e
def test_the_runtime_loads_it_on_openvino(full_ner_bundle):
    predictor = load(full_ner_bundle, variant="int8-openvino", threads=1)
    assert predictor.engine == "openvino" and predictor.session.get_providers() == ["openvino-CPU"]
    default = load(full_ner_bundle, engine="openvino")
    assert default.variant == manifest_of(full_ner_bundle)["engine_defaults"]["openvino"]
    assert load(full_ner_bundle).engine == "onnxruntime"
    with pytest.raises(OptionError, match="was made and checked for openvino"):
        load(full_ner_bundle, variant="int8-openvino", engine="onnxruntime")
    # what it answers is what export checked: the logits export scored, within OpenVINO's int8 rounding
    windows = make_windows(tokenize(predictor.tokenizer, TEXTS), predictor.max_length, 16, predictor.prefix,
                           predictor.suffix)
    batch = pad_batch(windows, predictor.input_names, predictor.pad_id)
    fp32 = load(full_ner_bundle, variant="fp32").session.run(["logits"], batch)[0]
    int8 = predictor.session.run(["logits"], batch)[0]
    assert int8.shape == fp32.shape and np.abs(int8 - fp32).max() < 1.0
    assert (int8.argmax(-1) == fp32.argmax(-1)).mean() >= 0.9


def test_openvino_default_needs_accuracy_shown():
    from toolkit.runtime.manifest import VariantChecks, VariantEntry

    def entry(engine="onnxruntime", **checks):
        return VariantEntry(file="x.onnx", engine=engine, checks=VariantChecks(**checks))

    kept = entry("openvino", drop_points=0.1, drop_interval=(-0.3, 0.4))
    lost = entry("openvino", drop_points=1.2, drop_interval=(0.4, 2.0))
    floats = {"fp32": entry(), "optimized": entry()}
    warnings = []
    assert choose_openvino_default({**floats, "int8-openvino": kept}, 0.5, warnings) == "int8-openvino"
    assert not warnings
    assert choose_openvino_default({**floats, "int8-openvino": lost}, 0.5, warnings) == "optimized"
    assert "int8-openvino is kept but not OpenVINO's default" in warnings[0]
    assert choose_openvino_default({"fp32": entry()}, 0.5, []) == "fp32"


@pytest.mark.e2e
def test_bench_times_it_as_a_variant_on_openvino(tmp_path, full_ner_bundle):
    from toolkit.bench import bench
    from toolkit.config import BenchConfig

    result = bench(BenchConfig(bundle=full_ner_bundle, variants=["int8-dynamic", "int8-openvino"], batch_sizes=[2],
                               seq_lens=[8], warmup=1, runs=3, output=tmp_path / "report.json"))
    row = {r["variant"]: r for r in result.results}["int8-openvino"]
    assert row["peer"] is False and row["providers"] == ["openvino-CPU"]
    assert row["metrics"]["drop_interval"] is not None and row["latency"][0]["p50_ms"] > 0


def test_export_option_mistakes_are_one_line(capsys, ner_checkpoint, tmp_path):
    error = cli_error(capsys, "export", str(ner_checkpoint), "--openvino", "--output-dir", str(tmp_path / "b"))
    assert "--openvino needs --quantize" in error
    error = cli_error(capsys, "export", str(ner_checkpoint), "--default-variant", "int8-openvino",
                      "--variants", "int8-dynamic,int8-openvino", "--output-dir", str(tmp_path / "b"))
    assert "the default runs on ONNX Runtime" in error


def test_export_without_nncf_names_the_extra(ner_checkpoint, tmp_path):
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import sys
        sys.modules["nncf"] = None  # as if the [openvino] extra were not installed
        from toolkit.cli import main
        main(["export", {str(ner_checkpoint)!r}, "--quantize", "--openvino", "--output-dir", {str(tmp_path / "b")!r}])
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "nncf is not installed: pip install 'onnxbert-toolkit[openvino]'" in run.stderr
    assert not (tmp_path / "b").exists()


@pytest.mark.e2e
def test_a_packaged_openvino_variant_requires_openvino(full_ner_bundle, tmp_path):
    import zipfile

    from toolkit.config import PackageConfig
    from toolkit.package import package

    wheels = {}
    for variant in ("int8-dynamic", "int8-openvino"):
        result = package(PackageConfig(bundle=full_ner_bundle, name=f"ner_{variant.replace('-', '_')}",
                                       variant=variant, output_dir=tmp_path))
        with zipfile.ZipFile(result.wheel_path) as wheel:
            metadata = next(wheel.read(n).decode() for n in wheel.namelist() if n.endswith("METADATA"))
            manifest = json.loads(next(wheel.read(n) for n in wheel.namelist() if n.endswith("manifest.json")))
        wheels[variant] = [line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist")]
        assert manifest["engine_defaults"] == {"onnxruntime": variant, "openvino": variant}
    assert not any(r.startswith("openvino") for r in wheels["int8-dynamic"])
    assert wheels["int8-openvino"] == wheels["int8-dynamic"] + ["openvino>=2026.4"]
