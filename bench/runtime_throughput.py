"""Throughput and memory of serving a bundle with toolkit.runtime vs transformers' PyTorch pipeline.

    python bench/runtime_throughput.py exports/ner-minilm [--variant int8-dynamic] [--texts 3250]
    python bench/runtime_throughput.py exports/ner-minilm --profile   # where the runtime's time goes

Each side runs in its own fresh process (so peak memory is that side's alone): load the model,
answer the CoNLL-2003 validation sentences (../shared/data) in batches of 32, twice, report texts/s
of each pass (the first meets every batch shape anew; OpenVINO prepares kernels per new shape) and
peak resident memory. Both use the same thread count.

--profile answers the same sentences with the runtime alone and splits its wall time into stages
(tokenizing, windowing, padding, ONNX Runtime, merging windows, tag decoding, entity building),
timed by wrapping the functions the predictor calls: the wrappers cost about a microsecond a call,
so the stages add up to the wall time and "other" is the predictor's own Python between them.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

CONLL_VALIDATION = Path(__file__).resolve().parents[2] / "shared" / "data" / "conll2003" / "validation.parquet"


def texts(limit: int) -> list[str]:
    import pyarrow.parquet as pq

    rows = pq.read_table(CONLL_VALIDATION, columns=["tokens"]).to_pylist()
    return [" ".join(r["tokens"]) for r in rows[:limit]]


def serve(kind: str, path: str, variant: str | None, threads: int, limit: int) -> dict:
    started = time.perf_counter()
    if kind == "runtime":
        from toolkit.runtime import load

        predictor = load(path, variant=variant, threads=threads)
        answer = lambda batch: predictor(batch, batch_size=32)  # noqa: E731
    else:
        import torch
        from transformers import pipeline

        torch.set_num_threads(threads)
        reference = pipeline("token-classification", model=path, aggregation_strategy="first", device="cpu")
        answer = lambda batch: reference(batch, batch_size=32)  # noqa: E731
    load_s = time.perf_counter() - started
    inputs = texts(limit)
    answer(inputs[:64])  # warm-up
    passes = []
    for _ in range(2):  # the second pass meets batch shapes seen before, as a long-running service does
        started = time.perf_counter()
        answer(inputs)
        passes.append(len(inputs) / (time.perf_counter() - started))
    return {"kind": kind, "model": path, "variant": variant, "texts": len(inputs), "threads": threads,
            "load_s": round(load_s, 2), "texts_per_s": round(passes[0], 1),
            "texts_per_s_second_pass": round(passes[1], 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "modules_loaded": {m: m in sys.modules for m in ("torch", "transformers")}}


# The functions toolkit.runtime.predict calls, by stage; each is looked up in that module's namespace.
STAGES = {"tokenize": ["tokenize"], "windows": ["make_windows", "make_head_tail_windows"],
          "pad": ["pad_batch"], "merge windows": ["merge_token_scores", "average_probabilities"],
          "tag decoding (viterbi)": ["decode_tag_sequences"],
          "entities (softmax, pieces, grouping)": ["token_probabilities", "decode_entities"]}


def profile(path: str, variant: str | None, threads: int, limit: int, repeats: int = 3) -> dict:
    """Seconds per stage of answering `limit` sentences (the fastest of `repeats` passes)."""
    import toolkit.runtime.predict as predict
    from toolkit.runtime import load

    spent: dict[str, float] = {}

    def timed(stage, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - started
        return wrapper

    for stage, names in STAGES.items():
        for name in names:
            setattr(predict, name, timed(stage, getattr(predict, name)))
    predictor = load(path, variant=variant, threads=threads)
    if hasattr(predictor, "_pieces"):  # NER: one Piece per token, built in the predictor itself
        predictor._pieces = timed("entities (softmax, pieces, grouping)", predictor._pieces)
    predictor.session = SessionTimer(predictor.session, timed("model calls (session.run)", predictor.session.run))
    inputs = texts(limit)
    predictor(inputs[:64], batch_size=32)
    best: dict | None = None
    for _ in range(repeats):
        spent.clear()
        started = time.perf_counter()
        predictor(inputs, batch_size=32)
        wall = time.perf_counter() - started
        if best is None or wall < best["wall_s"]:
            best = {"wall_s": wall, "stages": dict(spent)}
    stages = best["stages"]
    stages["other (predictor's own Python)"] = best["wall_s"] - sum(stages.values())
    return {"kind": "runtime-profile", "model": path, "variant": predictor.variant, "texts": len(inputs),
            "threads": threads, "texts_per_s": round(len(inputs) / best["wall_s"], 1),
            "wall_s": round(best["wall_s"], 3),
            "stages": {k: {"s": round(v, 3), "share": round(v / best["wall_s"], 3)} for k, v in stages.items()}}


class SessionTimer:
    """An ONNX Runtime session whose run() is timed; everything else passes through."""

    def __init__(self, session, run):
        self._session, self.run = session, run

    def __getattr__(self, name):
        return getattr(self._session, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--variant", default="int8-dynamic")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--texts", type=int, default=3250)
    parser.add_argument("--profile", action="store_true", help="split the runtime's time into stages")
    parser.add_argument("--output", type=Path, help="where the JSON goes (default: bench/results/"
                        "runtime_throughput.json; with --profile, printed only)")
    parser.add_argument("--serve", choices=("runtime", "pipeline"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile:
        report = profile(str(args.bundle), args.variant, args.threads, args.texts)
        print(json.dumps(report, indent=2))
        if args.output:
            args.output.write_text(json.dumps(report, indent=2) + "\n")
        return
    if args.serve:
        path = str(args.bundle)
        print(json.dumps(serve(args.serve, path, args.variant if args.serve == "runtime" else None,
                               args.threads, args.texts)))
        return
    from toolkit.runtime.bundle import load_bundle

    results = []
    for kind, path in (("runtime", args.bundle), ("pipeline", load_bundle(args.bundle).manifest.source_checkpoint)):
        command = [sys.executable, __file__, str(path), "--serve", kind, "--variant", args.variant,
                   "--threads", str(args.threads), "--texts", str(args.texts)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
        print(json.dumps(results[-1]))
    out = args.output or Path(__file__).parent / "results" / "runtime_throughput.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
