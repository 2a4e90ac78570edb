"""What fusing MPNet's attention is worth: the optimized graph with and without it, same process.

    python bench/mpnet_fusion.py exports/ner-mpnet --checkpoint runs/base/ner-mpnet \
        --output bench/results/mpnet-fusion.json

From the bundle's plain `fp32` graph, ONNX Runtime's "bert" fusions are applied twice: once alone
(what every release before issue 24 shipped for MPNet: skip-layer-norm and GELU fused, attention as
separate MatMul/Softmax/Add nodes), once followed by toolkit/export/fusion_mpnet.py (one Attention
op per layer, the relative position bias as its attention_bias). Both are timed on the same random
tokens, 2 threads, batch 1 and 8 x 128 tokens, alternating graphs call by call so that the host's
drift hits both alike; their logits are compared with each other and with the fp32 graph's, and with
--checkpoint against PyTorch's on the checkpoint's evaluation rows, as export's parity check does.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from toolkit.bench.latency import percentiles, synthetic_inputs

WARMUP, RUNS, THREADS = 5, 30, 2


def optimized_graphs(fp32: Path, config: dict, workdir: Path) -> dict[str, Path]:
    from onnxruntime.transformers.optimizer import optimize_model

    from toolkit.export.fusion_mpnet import fuse_mpnet_attention

    heads, width = config["num_attention_heads"], config["hidden_size"]
    graphs = {}
    for name, fuse in (("bert fusions only", False), ("+ MPNet attention", True)):
        model = optimize_model(str(fp32), model_type="bert", num_heads=heads, hidden_size=width)
        if fuse:
            fuse_mpnet_attention(model, heads, width)
        graphs[name] = workdir / f"{len(graphs)}.onnx"
        model.save_model_to_file(str(graphs[name]))
        print(name, {k: v for k, v in model.get_fused_operator_statistics().items() if v})
    return graphs


def parity_against_pytorch(checkpoint_dir: Path, sessions: dict) -> dict[str, float]:
    """Max |logit difference| of each graph against PyTorch on the checkpoint's evaluation rows."""
    from toolkit.backends import TorchBackend
    from toolkit.checkpoint import evaluation_set, inspect_checkpoint
    from toolkit.scoring import EVAL_BATCH_SIZE, collect_logits, max_abs_diff

    checkpoint = inspect_checkpoint(checkpoint_dir)
    features = evaluation_set(checkpoint).features
    torch_model = TorchBackend(checkpoint_dir, checkpoint.task.model_class, threads=THREADS)
    reference = collect_logits(torch_model.logits, features, EVAL_BATCH_SIZE, torch_model.input_names)
    differences = {}
    for name, session in sessions.items():
        names = [i.name for i in session.get_inputs()]
        logits = collect_logits(lambda arrays: session.run(None, arrays)[0], features, EVAL_BATCH_SIZE, names)
        differences[name] = max_abs_diff(reference, logits)
    return differences


def main() -> None:
    import time

    import onnxruntime as ort

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--checkpoint", type=Path, help="the bundle's checkpoint: parity against PyTorch too")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    manifest = json.loads((args.bundle / "manifest.json").read_text())
    config = json.loads((args.bundle / "config.json").read_text())
    fp32 = args.bundle / manifest["variants"]["fp32"]["file"]
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = THREADS, 1
    results = {"bundle": str(args.bundle), "threads": THREADS, "runs": RUNS, "rows": []}
    with tempfile.TemporaryDirectory() as workdir:
        graphs = {"fp32 (no fusion)": fp32, **optimized_graphs(fp32, config, Path(workdir))}
        sessions = {name: ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                    for name, path in graphs.items()}
        for batch in (1, 8):
            names = [i.name for i in next(iter(sessions.values())).get_inputs()]
            feeds = synthetic_inputs(batch, 128, config["vocab_size"], names)
            outputs = {name: session.run(None, feeds)[0] for name, session in sessions.items()}
            times = {name: [] for name in sessions}
            for run in range(WARMUP + RUNS):
                for name, session in sessions.items():
                    started = time.perf_counter()
                    session.run(None, feeds)
                    if run >= WARMUP:
                        times[name].append(1000 * (time.perf_counter() - started))
            reference = outputs["fp32 (no fusion)"]
            for name in sessions:
                row = {"graph": name, "batch": batch, "seq_len": 128, "p50_ms": round(percentiles(times[name])["p50_ms"], 2),
                       "max_abs_diff_vs_fp32": float(np.abs(outputs[name] - reference).max())}
                results["rows"].append(row)
                print(row)
        if args.checkpoint:
            results["max_abs_diff_vs_pytorch"] = parity_against_pytorch(args.checkpoint, sessions)
            print("max |logit difference| against PyTorch:", results["max_abs_diff_vs_pytorch"])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
