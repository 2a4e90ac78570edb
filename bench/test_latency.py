"""pytest-benchmark suites: PyTorch against every ONNX variant, and the runtime against transformers.

    pytest bench/test_latency.py --benchmark-autosave          # run and save under .benchmarks/
    pytest-benchmark compare                                   # compare saved runs over time

TOOLKIT_BENCH_BUNDLE=exports/ner-minilm picks a bundle (its source checkpoint must exist); by
default a randomly initialised MiniLM-shaped NER model is made and exported on the fly.
TOOLKIT_BENCH_THREADS sets the thread count of both PyTorch and ONNX Runtime (default 2).
Timings live here and in `toolkit bench`, never in the test suite's assertions.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from toolkit.backends import OrtBackend, TorchBackend
from toolkit.bench.latency import synthetic_inputs
from toolkit.runtime.bundle import load_bundle
from toolkit.runtime.manifest import Manifest

THREADS = int(os.environ.get("TOOLKIT_BENCH_THREADS", "2"))
SHAPES = [(1, 128), (8, 128)]
CONLL_VALIDATION = Path(__file__).resolve().parents[2] / "shared" / "data" / "conll2003" / "validation.parquet"


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory) -> Path:
    if os.environ.get("TOOLKIT_BENCH_BUNDLE"):
        return Path(os.environ["TOOLKIT_BENCH_BUNDLE"])
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from make_random_model import make

    from toolkit.config import ExportConfig
    from toolkit.export import export

    checkpoint = make(tmp_path_factory.mktemp("ckpt") / "minilm-random", "ner", "minilm")
    target = tmp_path_factory.mktemp("bundle") / "ner"
    export(ExportConfig(checkpoint=checkpoint, output_dir=target, quantize=True))
    return target


@pytest.fixture(scope="session")
def manifest(bundle_dir) -> Manifest:
    return load_bundle(bundle_dir).manifest


def backend_for(name: str, bundle_dir: Path, manifest: Manifest):
    if name == "pytorch":
        from toolkit.tasks import TASKS

        model_class = TASKS[manifest.task].model_class
        return TorchBackend(Path(manifest.source_checkpoint), model_class, "cpu", THREADS)
    return OrtBackend(name, bundle_dir / manifest.variants[name].file, "cpu", THREADS)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"b{s[0]}-s{s[1]}")
@pytest.mark.parametrize("variant", ["pytorch", "fp32", "optimized", "int8-dynamic"])
def test_model_latency(benchmark, bundle_dir, manifest, variant, shape):
    if variant != "pytorch" and variant not in manifest.variants:
        pytest.skip(f"bundle has no {variant}")
    backend = backend_for(variant, bundle_dir, manifest)
    arrays = synthetic_inputs(shape[0], shape[1], 30522, backend.input_names)
    benchmark.group = f"model batch={shape[0]} seq={shape[1]}"
    benchmark.extra_info.update(variant=variant, threads=THREADS, providers=backend.providers)
    benchmark(backend.timed_call(arrays))


def evaluation_texts(limit: int = 500) -> list[str]:
    if CONLL_VALIDATION.is_file():
        import pyarrow.parquet as pq

        rows = pq.read_table(CONLL_VALIDATION, columns=["tokens"]).to_pylist()
        import random

        random.Random(42).shuffle(rows)
        return [" ".join(r["tokens"]) for r in rows[:limit]]
    from toolkit.data.synthetic import make_sentence

    rng = __import__("random").Random(0)
    return [" ".join(make_sentence(rng)[0]) for _ in range(limit)]


def test_end_to_end_runtime(benchmark, bundle_dir, manifest):
    from toolkit.runtime import load

    texts = evaluation_texts()
    predictor = load(bundle_dir, threads=THREADS)
    benchmark.group = "end-to-end: texts in, entities out"
    benchmark.extra_info.update(variant=predictor.variant, texts=len(texts))
    benchmark.pedantic(predictor, args=(texts,), rounds=3, warmup_rounds=1)


def test_end_to_end_transformers_pipeline(benchmark, manifest):
    import torch
    from transformers import pipeline

    torch.set_num_threads(THREADS)
    texts = evaluation_texts()
    task = "token-classification" if manifest.task == "ner" else "text-classification"
    options = {"aggregation_strategy": "first"} if task == "token-classification" else {}
    reference = pipeline(task, model=manifest.source_checkpoint, device="cpu", **options)
    benchmark.group = "end-to-end: texts in, entities out"
    benchmark.extra_info.update(variant="pytorch pipeline", texts=len(texts))
    benchmark.pedantic(lambda: reference(texts, batch_size=32), rounds=3, warmup_rounds=1)
