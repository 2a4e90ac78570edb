"""Int8 recipes tried against the bundle's int8-dynamic: accuracy and latency of each, side by side.

    python bench/int8_recipes.py exports/ner-minilm [--runs 30] [--output bench/results/int8-recipes.json]

Every recipe is made from the bundle's own fp32 or optimized graph with ONNX Runtime's quantizer,
scored on the checkpoint's evaluation rows against PyTorch (points lost, 95% paired-bootstrap
interval, as `toolkit export` reports them) and timed at batch 1 and 8 x 128 tokens on 2 threads
(median of --runs calls after 5 warm-up), all in one process so that every row meets the same
machine. Recipes:

- `bundle int8-dynamic`: the bundle's file (MatMuls of the plain graph, activations quantized per
  token; 7-bit weights unless the bundle was made for a VNNI/ARM target);
- `per tensor`: ONNX Runtime's own dynamic recipe on the same MatMuls (one activation scale per
  tensor: answers move with the batch), what int8-dynamic was before;
- `fused + QAttention`: the optimized (fused) graph quantized with Attention as well as MatMul, so
  attention runs as ONNX Runtime's QAttention kernel;
- `fused, MatMul only`: the optimized graph, attention left in fp32;
- `fused + QAttention, keep last layer fp32`: as above, with the last layer's and the classifier's
  MatMuls left in fp32 (the layers nearest the labels are the most sensitive);
- `MatMulNBits 8-bit` / `4-bit`: ONNX Runtime's weight-only block quantizer (block 32, accuracy
  level 4: int8 compute), where its module's dependency onnx_ir is installed;
- `NNCF int8` on ONNX Runtime and on OpenVINO: the bundle's int8-openvino file where it has one.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def recipes(bundle, workdir: Path) -> dict[str, Path]:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    made = {"bundle int8-dynamic": bundle.variant_path("int8-dynamic")}
    reduce_range = bool(bundle.variants["int8-dynamic"].recipe.get("reduce_range", True))
    # ONNX Runtime's own dynamic recipe (one activation scale per tensor), which int8-dynamic was
    # until its activations got a scale per token (toolkit/export/per_token.py)
    per_tensor = workdir / "per_tensor.onnx"
    quantize_dynamic(str(bundle.variant_path("fp32")), str(per_tensor), op_types_to_quantize=["MatMul"],
                     per_channel=True, reduce_range=reduce_range, weight_type=QuantType.QInt8)
    made["per tensor (ONNX Runtime's quantize_dynamic)"] = per_tensor
    optimized = bundle.variant_path("optimized")
    nodes = onnx.load(str(optimized), load_external_data=False).graph.node
    # The last layer (its fused Attention is the last one) and the classifier: nearest the labels.
    attentions = [n.name for n in nodes if n.op_type == "Attention"]
    layer = f"layer.{len(attentions) - 1}/"
    sensitive = attentions[-1:] + [n.name for n in nodes if n.op_type == "MatMul" and (layer in n.name
                                                                                        or "classifier" in n.name)]
    for name, source, ops, exclude in (
        ("fused + QAttention", optimized, ["MatMul", "Attention"], []),
        ("fused, MatMul only", optimized, ["MatMul"], []),
        ("fused + QAttention, keep last layer fp32", optimized, ["MatMul", "Attention"], sensitive),
    ):
        target = workdir / (name.replace(" ", "_").replace(",", "").replace("+", "plus") + ".onnx")
        quantize_dynamic(str(source), str(target), op_types_to_quantize=ops, per_channel=True,
                         reduce_range=reduce_range, weight_type=QuantType.QInt8, nodes_to_exclude=exclude,
                         # the fused ops are in Microsoft's domain, which shape inference cannot type
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        made[name] = target
    try:
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    except ImportError:  # it needs onnx_ir, which onnxruntime does not install
        print("MatMulNBits skipped: pip install onnx_ir to try it", flush=True)
    else:
        for bits in (8, 4):
            quantizer = MatMulNBitsQuantizer(onnx.load(str(optimized)), bits=bits, block_size=32, is_symmetric=True,
                                             accuracy_level=4)
            quantizer.process()
            target = workdir / f"nbits{bits}.onnx"
            quantizer.model.save_model_to_file(str(target), use_external_data_format=False)
            made[f"MatMulNBits {bits}-bit"] = target
    return made


def latency(session, input_names, vocab_size: int, batch: int, length: int, runs: int) -> float:
    """Median milliseconds of a session call on `toolkit bench`'s synthetic inputs, after 5 warm-up calls."""
    from toolkit.bench.latency import percentiles, synthetic_inputs, time_calls

    feeds = synthetic_inputs(batch, length, vocab_size, input_names)
    return round(percentiles(time_calls(lambda: session.run(["logits"], feeds), 5, runs))["p50_ms"], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--recipes", nargs="*", help="only the recipes whose names start with one of these")
    args = parser.parse_args()

    import onnx

    from toolkit.backends import TorchBackend
    from toolkit.checkpoint import evaluation_set, source_checkpoint
    from toolkit.runtime.bundle import load_bundle
    from toolkit.runtime.cpu import cpu_flags
    from toolkit.runtime.openvino import OpenVinoSession
    from toolkit.runtime.predict import make_session
    from toolkit.scoring import collect_logits, drop_interval, points_lost, score

    bundle = load_bundle(args.bundle)
    checkpoint, problem = source_checkpoint(bundle)
    if checkpoint is None:
        parser.error(f"{problem}: the recipes are scored against it")
    evaluation = evaluation_set(checkpoint, max_length=bundle.max_length)
    metric = checkpoint.task.primary_metric
    torch_backend = TorchBackend(checkpoint.directory, checkpoint.task.model_class, "cpu", args.threads)
    reference = collect_logits(torch_backend.logits, evaluation.features, 32, torch_backend.input_names)
    base = score(checkpoint.task, reference, evaluation.features, checkpoint.labels, checkpoint.decoding)[metric]
    vocab_size = int(getattr(checkpoint.config, "vocab_size", 30522))
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        runs = [(name, path, "onnxruntime") for name, path in recipes(bundle, Path(workdir)).items()
                if not args.recipes or name.startswith(tuple(args.recipes))]
        if "int8-openvino" in bundle.variants:
            runs += [("NNCF int8 (int8-openvino)", bundle.variant_path("int8-openvino"), engine)
                     for engine in ("onnxruntime", "openvino")]
        for name, path, engine in runs:
            session = (make_session(path, "cpu", args.threads) if engine == "onnxruntime"
                       else OpenVinoSession(path, args.threads))
            names = [i.name for i in session.get_inputs()]
            logits = collect_logits(lambda a: session.run(["logits"], a)[0], evaluation.features, 32, names)
            value = score(checkpoint.task, logits, evaluation.features, checkpoint.labels, checkpoint.decoding)[metric]
            ops = {}
            for node in onnx.load(str(path), load_external_data=False).graph.node:
                if node.op_type in ("QAttention", "Attention", "MatMulInteger", "DynamicQuantizeMatMul", "MatMul",
                                    "MatMulIntegerToFloat", "QuantizeLinear"):
                    ops[node.op_type] = ops.get(node.op_type, 0) + 1
            rows.append({"recipe": name, "engine": engine, metric: round(value, 4), "points_lost": points_lost(base, value),
                         "interval": drop_interval(checkpoint.task, reference, logits, evaluation.features,
                                                   checkpoint.labels, checkpoint.decoding),
                         "b1_ms": latency(session, names, vocab_size, 1, 128, args.runs),
                         "b8_ms": latency(session, names, vocab_size, 8, 128, args.runs),
                         "size_mb": round(path.stat().st_size / 1e6, 1), "ops": ops})
            print(json.dumps(rows[-1]), flush=True)
    flags = " ".join(f for f in ("avx2", "avx512_vnni", "avx_vnni", "amx_int8") if f in cpu_flags())
    report = {"bundle": str(args.bundle), "pytorch": {metric: round(base, 4)}, "threads": args.threads,
              "cpu_flags": flags, "rows": rows}
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
