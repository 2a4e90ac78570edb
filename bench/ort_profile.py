"""Where ONNX Runtime spends a call, operator type by operator type, for some of a bundle's variants.

    python bench/ort_profile.py exports/sentiment-minilm --variants fp32,optimized --batch-sizes 1,8 \
        --seq-lens 128,256 [--runs 20] [--output bench/results/ort-profile-sentiment.json]

Each variant gets a session with ONNX Runtime's own profiler on (2 threads, as `toolkit bench`),
5 untimed calls, then --runs profiled calls on random tokens; the kernel times of each operator
type are summed and divided by the calls. The profiler's own cost makes the totals a little higher
than `toolkit bench`'s latency: read the split, not the sum. Beside them, PyTorch's eager model is
timed on the same inputs (median), then split by operator with torch.profiler (self time per call),
and the attention implementation transformers chose for it is named.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from toolkit.bench.latency import percentiles, synthetic_inputs, time_calls

WARMUP = 5  # untimed calls before each timing


def profile_onnx(path: Path, threads: int, batch: int, length: int, runs: int, vocab_size: int) -> dict:
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as workdir:
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(workdir) / "profile")
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        feeds = synthetic_inputs(batch, length, vocab_size, [i.name for i in session.get_inputs()])
        times = time_calls(lambda: session.run(["logits"], feeds), WARMUP, runs)
        events = json.loads(Path(session.end_profiling()).read_text())
    by_op: dict[str, float] = {}
    calls = WARMUP + runs
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            op = event["args"].get("op_name", "?")
            by_op[op] = by_op.get(op, 0.0) + event["dur"] / 1000 / calls
    ranked = dict(sorted(((k, round(v, 3)) for k, v in by_op.items()), key=lambda kv: -kv[1]))
    return {"p50_ms": round(percentiles(times)["p50_ms"], 2), "kernel_ms_by_op": ranked}


def time_torch(checkpoint: Path, model_class: str, threads: int, batch: int, length: int, runs: int,
               vocab_size: int) -> dict:
    """PyTorch's median latency, then its own profiler's self time per operator over --runs calls."""
    import torch

    from toolkit.backends import TorchBackend

    backend = TorchBackend(checkpoint, model_class, "cpu", threads)
    call = backend.timed_call(synthetic_inputs(batch, length, vocab_size, backend.input_names))
    times = time_calls(call, WARMUP, runs)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
        for _ in range(runs):
            call()
    by_op = {event.key: event.self_cpu_time_total / 1000 / runs for event in profiler.key_averages()}
    ranked = dict(sorted(((k, round(v, 3)) for k, v in by_op.items() if v >= 0.01), key=lambda kv: -kv[1]))
    return {"p50_ms": round(percentiles(times)["p50_ms"], 2), "self_ms_by_op": ranked,
            "attention": getattr(backend.model.config, "_attn_implementation", None)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--variants", default="fp32,optimized")
    parser.add_argument("--batch-sizes", default="1,8")
    parser.add_argument("--seq-lens", default="128,256")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    from toolkit.checkpoint import inspect_checkpoint
    from toolkit.runtime.bundle import load_bundle
    from toolkit.runtime.cpu import cpu_flags, cpu_name

    bundle = load_bundle(args.bundle)
    checkpoint = inspect_checkpoint(Path(bundle.manifest.source_checkpoint))
    vocab_size = int(getattr(checkpoint.config, "vocab_size", 30522))
    cells = []
    for batch in map(int, args.batch_sizes.split(",")):
        for length in map(int, args.seq_lens.split(",")):
            cell = {"batch": batch, "seq": length,
                    "pytorch": time_torch(checkpoint.directory, checkpoint.task.model_class, args.threads, batch,
                                          length, args.runs, vocab_size)}
            for variant in args.variants.split(","):
                cell[variant] = profile_onnx(bundle.variant_path(variant), args.threads, batch, length, args.runs,
                                             vocab_size)
            print(json.dumps(cell), flush=True)
            cells.append(cell)
    flags = " ".join(f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if f in cpu_flags())
    report = {"bundle": str(args.bundle), "cpu": cpu_name(), "cpu_flags": flags, "threads": args.threads,
              "cells": cells}
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
