"""Peers in `toolkit bench`: other runtimes scored and timed as the variants are."""

import dataclasses
import json

import pytest

from tests.conftest import cli_error
from toolkit.bench import bench
from toolkit.bench.peers import PEERS
from toolkit.cli import main
from toolkit.config import BenchConfig

QUICK = ["--batch-sizes", "2", "--seq-lens", "8", "--warmup", "1", "--runs", "3"]


def quick(bundle, tmp_path, **extra):
    options = dict(bundle=bundle, batch_sizes=[2], seq_lens=[8], warmup=1, runs=3, output=tmp_path / "report.json")
    options.update(extra)
    return BenchConfig(**options)


def check_row(entry: dict) -> None:
    """A peer's row has a variant's metric, latency and end-to-end keys, and its set-up time apart."""
    assert entry["peer"] is True
    assert set(entry["metrics"]) >= {"f1", "accuracy", "drop_points", "drop_interval"}
    assert entry["end_to_end"]["examples_per_s"] > 0
    assert [(c["batch_size"], c["seq_len"]) for c in entry["latency"]] == [(2, 8)]
    assert set(entry["latency"][0]) >= {"p50_ms", "p90_ms", "p99_ms", "throughput", "runs"}
    assert entry["setup_s"] > 0 and entry["recipe"]["tool"]


@pytest.mark.e2e
def test_torch_peers_are_rows_of_the_report(tmp_path, ner_bundle, capsys):
    main(["bench", str(ner_bundle), *QUICK, "--variants", "fp32", "--peers", "torch-int8,torch-compile",
          "--output", str(tmp_path / "report.json")])
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "report.json").read_text())
    pytorch, fp32, int8, compiled = report["results"]
    assert [r["variant"] for r in report["results"]] == ["pytorch", "fp32", "torch-int8", "torch-compile"]
    assert pytorch["peer"] is False and fp32["peer"] is False
    for entry in (int8, compiled):
        check_row(entry)
    # the compiled model computes what the eager one does; one dynamic graph served every shape (no batch of 1)
    assert compiled["metrics"]["f1"] == pytest.approx(pytorch["metrics"]["f1"])
    assert compiled["metrics"]["drop_points"] == pytest.approx(0.0, abs=1e-9)
    assert compiled["recipe"]["dynamic"] is True and compiled["recipe"]["graphs"] == 1
    markdown = (tmp_path / "report.md").read_text()
    for shown in (out, markdown):
        assert "torch-int8 (peer)" in shown and "torch-compile (peer)" in shown and "fp32 (peer)" not in shown
        assert "not in its latency" in shown
    assert (tmp_path / "report.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.e2e
def test_openvino_peers_read_the_bundle_files(tmp_path, full_ner_bundle):
    pytest.importorskip("openvino")
    result = bench(quick(full_ner_bundle, tmp_path, variants=["fp32", "int8-static"],
                         peers=["openvino-fp32", "openvino-int8"]))
    by_name = {r["variant"]: r for r in result.results}
    fp32, int8 = by_name["openvino-fp32"], by_name["openvino-int8"]
    for entry in (fp32, int8):
        check_row(entry)
        assert entry["providers"] == ["openvino-CPU"]
        assert entry["recipe"]["config"]["INFERENCE_NUM_THREADS"] == "2"  # --threads' default, as the others get
    assert fp32["metrics"]["f1"] == pytest.approx(by_name["fp32"]["metrics"]["f1"])
    assert fp32["recipe"]["file"] == "model.onnx" and "int8" not in fp32["recipe"]["matrix_products"]
    # the QDQ graph's matrix products run in int8, not dequantized to f32
    assert int8["recipe"]["file"] == "model_int8_static.onnx" and int8["recipe"]["matrix_products"]["int8"] > 0
    assert "openvino" in result.environment["versions"]


def test_a_peer_the_bundle_cannot_feed_is_skipped_with_a_note(tmp_path, ner_bundle):
    pytest.importorskip("openvino")
    result = bench(quick(ner_bundle, tmp_path, variants=["fp32"], peers=["openvino-int8"]))
    assert [r["variant"] for r in result.results] == ["pytorch", "fp32"]
    assert any("openvino-int8 skipped" in n and "--quantize --static" in n for n in result.notes)


def test_unknown_peer(capsys, tmp_path, ner_bundle):
    err = cli_error(capsys, "bench", str(ner_bundle), "--peers", "tvm", "--output", str(tmp_path / "r.json"))
    assert "--peers tvm: unknown" in err and "torch-int8" in err


def test_missing_extra_names_the_install_command(capsys, tmp_path, ner_bundle, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "openvino", None)  # as if not installed
    err = cli_error(capsys, "bench", str(ner_bundle), "--peers", "all", "--output", str(tmp_path / "r.json"))
    assert "pip install 'onnxbert-toolkit[peers]'" in err and "openvino" in err
    assert not (tmp_path / "r.json").exists()


def test_help_names_every_peer():
    # config.py cannot import the peer table (a cycle through toolkit.bench), so its help lists the names
    help_line = next(f for f in dataclasses.fields(BenchConfig) if f.name == "peers").metadata["help"]
    assert all(name in help_line for name in PEERS)
