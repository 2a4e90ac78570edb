import json
import shutil

import pytest

from tests.conftest import cli_error
from toolkit.bench import bench
from toolkit.cli import main
from toolkit.config import BenchConfig
from toolkit.bench.latency import latency_row, percentiles


def quick(bundle, tmp_path, **extra):
    options = dict(bundle=bundle, batch_sizes=[1, 2], seq_lens=[8, 16], warmup=1, runs=3,
                   output=tmp_path / "report.json")
    options.update(extra)
    return BenchConfig(**options)


def test_percentiles_on_known_timings():
    stats = percentiles([float(i) for i in range(1, 101)])  # 1..100 ms
    assert stats["p50_ms"] == pytest.approx(50.5)
    assert stats["p90_ms"] == pytest.approx(90.1)
    assert stats["p99_ms"] == pytest.approx(99.01)
    assert latency_row(8, 128, [40.0, 40.0, 40.0])["throughput"] == pytest.approx(200.0)


def test_report_schema_has_every_variant(tmp_path, ner_bundle, capsys):
    main(["bench", str(ner_bundle), "--batch-sizes", "1,2", "--seq-lens", "8,16", "--warmup", "1", "--runs", "3",
          "--output", str(tmp_path / "report.json")])
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "report.json").read_text())
    assert (tmp_path / "report.md").read_text().startswith("# Benchmark")
    assert (tmp_path / "report.png").read_bytes()[:4] == b"\x89PNG"
    assert {"cpu", "cores", "threads", "versions", "providers"} <= set(report["environment"])
    variants = [r["variant"] for r in report["results"]]
    assert variants == ["pytorch", "fp32", "optimized", "int8-dynamic"]
    for entry in report["results"]:
        assert set(entry["metrics"]) >= {"f1", "accuracy"}
        assert entry["end_to_end"]["examples_per_s"] > 0
        assert [(c["batch_size"], c["seq_len"]) for c in entry["latency"]] == [(1, 8), (2, 8), (1, 16), (2, 16)]
        for cell in entry["latency"]:
            assert set(cell) >= {"p50_ms", "p90_ms", "p99_ms", "throughput"}
            assert cell["p50_ms"] <= cell["p90_ms"] <= cell["p99_ms"]
    assert report["environment"]["providers"]["fp32"] == ["CPUExecutionProvider"]
    assert "int8-dynamic" in out and "p50_ms" in out


def test_pytorch_metrics_equal_the_training_evaluation(tmp_path, ner_bundle, ner_checkpoint):
    # Same 40 examples, same model: the bench must reproduce what `toolkit train` measured.
    trained = json.loads((ner_checkpoint / "metrics.json").read_text())
    result = bench(quick(ner_bundle, tmp_path, variants=["fp32"]))
    pytorch, fp32 = result.results
    assert pytorch["metrics"]["f1"] == pytest.approx(trained["f1"])
    assert pytorch["metrics"]["accuracy"] == pytest.approx(trained["accuracy"])
    assert fp32["metrics"]["drop_points"] == pytest.approx(0.0, abs=1e-9)
    assert fp32["metrics"]["drop_interval"] == [0.0, 0.0]  # identical answers: no resample can differ


def test_sequence_lengths_past_the_model_are_skipped_with_a_note(tmp_path, sentiment_bundle):
    result = bench(quick(sentiment_bundle, tmp_path, seq_lens=[8, 4096], variants=["optimized"]))
    assert {c["seq_len"] for c in result.results[0]["latency"]} == {8}
    assert any("4096 skipped" in n for n in result.notes)


def test_tampered_model_is_never_benchmarked(capsys, tmp_path, ner_bundle):
    bundle = tmp_path / "b"
    shutil.copytree(ner_bundle, bundle)
    with open(bundle / "model_int8_dynamic.onnx", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    err = cli_error(capsys, "bench", str(bundle), "--output", str(tmp_path / "r.json"))
    assert "model_int8_dynamic.onnx: sha256" in err and "altered or truncated" in err
    assert not (tmp_path / "r.json").exists()


def test_not_a_bundle(capsys, tmp_path):
    assert "is not a bundle" in cli_error(capsys, "bench", str(tmp_path))


def test_dataset_of_another_task(capsys, tmp_path, ner_bundle, sentiment_data):
    err = cli_error(capsys, "bench", str(ner_bundle), "--dataset", str(sentiment_data),
                    "--output", str(tmp_path / "r.json"))
    assert "does not fit the ner task" in err


def test_cuda_without_gpu(capsys, tmp_path, ner_bundle):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this machine has CUDA; the error path needs one without")
    assert "--device cuda" in cli_error(capsys, "bench", str(ner_bundle), "--device", "cuda")


def test_bench_reads_a_directory_holding_only_an_evaluation_file(tmp_path, ner_bundle, ner_data):
    only_eval = tmp_path / "eval-only"
    only_eval.mkdir()
    shutil.copy(ner_data / "validation.txt", only_eval / "validation.txt")
    result = bench(quick(ner_bundle, tmp_path, dataset=str(only_eval), variants=["fp32"], batch_sizes=[1],
                         seq_lens=[8]))
    assert result.environment["evaluation"]["split"] == "validation"
    assert all(entry["metrics"] is not None for entry in result.results)


def test_ctrl_c_keeps_what_was_measured(tmp_path, ner_bundle):
    import signal
    import subprocess
    import sys
    import time

    report = tmp_path / "report.json"
    process = subprocess.Popen([sys.executable, "-m", "toolkit", "bench", str(ner_bundle), "--batch-sizes", "1",
                                "--seq-lens", "8", "--warmup", "1", "--runs", "1000000", "--output", str(report)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    line = ""
    while not line.startswith("bench:") and time.monotonic() < deadline:
        line = process.stderr.readline()  # the plan comes before anything is measured
    assert line.startswith("bench: 4 models (pytorch, fp32, optimized, int8-dynamic)")
    time.sleep(3)  # PyTorch's accuracy is measured by now; its latency cell runs for far longer
    assert time.monotonic() < deadline
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "partial reports:" in out and "Traceback" not in err
    saved = json.loads(report.read_text())
    assert saved["partial"] is True and "interrupted" in " ".join(saved["notes"])
    assert (tmp_path / "report.md").read_text().startswith("# Benchmark") and "PARTIAL" in out
