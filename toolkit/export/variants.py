"""The ONNX variants of a bundle: one table says what each is, the functions below make them.

Each maker takes the export's `Build` context, the file of the variant it is built from (None for
fp32, which comes from the PyTorch model) and its own target file, and returns its recipe: what
the manifest records of how the file was made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from toolkit.runtime.cpu import TARGET_NEEDS

log = logging.getLogger(__name__)

FULL_RANGE_TARGETS = ("avx512_vnni", "arm64")  # dot products without 16-bit saturation: 8-bit weights


@dataclass
class Build:
    """What the makers need beyond their source file."""

    model: object  # the PyTorch model, as toolkit.modeling loaded it
    tokenizer: object  # as toolkit.modeling loaded it for the task: the bundle gets exactly this one
    onnx_task: str
    opset: int
    calibration: list[dict] | None  # encoded examples for int8-static
    quantize_for: str = "portable"  # the CPU target of the int8 recipes (toolkit/runtime/cpu.py)
    input_names: list[str] = field(default_factory=list)  # the fp32 graph's inputs, once it exists
# ONNX Runtime 1.32's transformer optimizer has model types of its own for BERT-like graphs only, and
# every architecture the toolkit takes is BERT-like enough for its "bert" fusions: they keep parity
# on all nine, but find no attention to fuse in DeBERTa (disentangled), ModernBERT (rotary, local
# windows) or MPNet (relative position bias): MPNet's comes from toolkit/export/fusion_mpnet.py,
# run after ONNX Runtime's own. The manifest records what was fused, per variant.
OPTIMIZER_MODEL_TYPE = "bert"


def export_fp32(build: Build, source: None, target: Path) -> dict:
    """The plain ONNX graph of `model` (loaded from the checkpoint by toolkit.modeling) from Optimum's
    exporter, with dynamic batch and sequence axes.

    Optimum's main_export would load the checkpoint itself and rebuild a mean-pooled classifier as
    transformers' [CLS] one without a word of warning; the graph, config and tokenizer files
    written here are what main_export writes."""
    from optimum.exporters.onnx import export
    from optimum.exporters.tasks import TasksManager

    model = build.model
    make_config = TasksManager.get_exporter_config_constructor(
        "onnx", model=model, task=build.onnx_task, library_name="transformers",
        model_type=getattr(model.config, "export_as", model.config.model_type))
    export(model, make_config(model.config), target, opset=build.opset)
    model.config.save_pretrained(target.parent)
    build.tokenizer.save_pretrained(target.parent)
    return {"tool": "optimum.exporters.onnx", "opset": build.opset, "dynamic_axes": ["batch", "sequence"]}


def heads_and_width(model_config) -> tuple[int, int]:
    """Attention heads and hidden size, under the names BERT-like configs use."""
    heads = getattr(model_config, "num_attention_heads", None) or getattr(model_config, "n_heads", 0)
    width = getattr(model_config, "hidden_size", None) or getattr(model_config, "dim", 0)
    return int(heads), int(width)


def optimize(build: Build, source: Path, target: Path) -> dict:
    """ONNX Runtime's transformer fusions (attention, skip-layer-norm, GELU), kept in fp32."""
    from onnxruntime.transformers.optimizer import optimize_model

    model_config = build.model.config
    model_type = OPTIMIZER_MODEL_TYPE
    heads, width = heads_and_width(model_config)
    optimized = optimize_model(str(source), model_type=model_type, num_heads=heads, hidden_size=width)
    if model_config.model_type == "mpnet":
        from toolkit.export.fusion_mpnet import fuse_mpnet_attention

        fuse_mpnet_attention(optimized, heads, width)
    optimized.save_model_to_file(str(target))
    fused = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
    return {"tool": "onnxruntime.transformers.optimizer", "model_type": model_type, "fused_operators": fused}


def count_weight_matmuls(model_path: Path) -> int:
    """MatMul nodes whose second input is a constant weight: what dynamic quantization converts."""
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    weights = {init.name for init in graph.initializer}
    return sum(1 for node in graph.node if node.op_type == "MatMul" and node.input[1] in weights)


def quantize_int8_dynamic(build: Build, source: Path, target: Path) -> dict:
    """Int8 weights, and activations quantized at run time with one scale per token, on the MatMuls
    of the plain export: a text's answer does not depend on the batch it runs in.

    Weights are ONNX Runtime's dynamic recipe: int8, per channel, for the CPU target the user names
    (`--quantize-for`), never for the CPU export happens to run on: a bundle is made once and run
    anywhere. `portable` (and `avx2`) keep weights to 7 bits (reduce_range), because AVX2's U8S8
    kernel adds pairs of products in 16 bits and can saturate with full 8-bit weights; VNNI and ARM
    dot products cannot. Measured on the MiniLM CoNLL checkpoint on an AVX2-only EPYC (F1 drop vs
    fp32, batch 8 x 128 latency): U8U8 -0.11 pts 203 ms; U8S8 -0.46 pts 175 ms; U8S8 7-bit
    -0.22 pts 156 ms. Quantizing the embedding Gather too (ONNX Runtime's way, one scale per table)
    shrinks the file from 59 to 23 MB but cost ~1 F1 point: int8-compact does it with a scale per row.

    ONNX Runtime's own activations take one scale per tensor, which the other texts of a batch and
    their padding set: toolkit/export/per_token.py replaces it (bench/README.md "One default users can trust").
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from toolkit.export.per_token import rewrite_per_token

    full_range = build.quantize_for in FULL_RANGE_TARGETS
    per_tensor = target.with_name(target.stem + "_per_tensor.onnx")
    try:
        quantize_dynamic(str(source), str(per_tensor), op_types_to_quantize=["MatMul"], per_channel=True,
                         reduce_range=not full_range, weight_type=QuantType.QInt8)
        model = onnx.load(str(per_tensor))
        requantized = rewrite_per_token(model, weight_limit=127 if full_range else 63)
        onnx.save(model, str(target))
    finally:
        per_tensor.unlink(missing_ok=True)
    return {"tool": "onnxruntime.quantization.quantize_dynamic + toolkit.export.per_token", "source": "fp32",
            "target": build.quantize_for, "activations": "uint8 (dynamic, per token: batch-invariant)",
            "weights": "int8" if full_range else "int8 (7-bit range)", "per_channel": True,
            "reduce_range": not full_range, "batch_invariant": True,
            "runs_correctly_on": "any CPU" if not TARGET_NEEDS[build.quantize_for]
            else f"CPUs with {' or '.join(TARGET_NEEDS[build.quantize_for])}",
            "quantized_ops": ["MatMul"], "quantized_matmuls": count_weight_matmuls(source),
            "requantized_inputs": requantized}


class FeatureReader:
    """Feed calibration examples to ONNX Runtime's static quantizer, one example at a time."""

    def __init__(self, features: list[dict], input_names: Iterable[str]):
        self._items = iter([
            {name: np.asarray([f[name]], dtype=np.int64) for name in input_names} for f in features
        ])

    def get_next(self):
        return next(self._items, None)


def quantize_int8_static(build: Build, source: Path, target: Path) -> dict:
    """Int8 weights and activations (QDQ), activation ranges calibrated on `features`."""
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    features = build.calibration or []
    full_range = build.quantize_for in FULL_RANGE_TARGETS  # as for int8-dynamic
    quantize_static(str(source), str(target), FeatureReader(features, build.input_names),
                    quant_format=QuantFormat.QDQ, op_types_to_quantize=["MatMul"], per_channel=True,
                    reduce_range=not full_range, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)
    return {"tool": "onnxruntime.quantization.quantize_static", "source": "fp32", "format": "QDQ",
            "target": build.quantize_for, "reduce_range": not full_range,
            "activations": "uint8 (calibrated, MinMax)", "weights": "int8" if full_range else "int8 (7-bit range)",
            "per_channel": True,
            "calibration_examples": len(features), "quantized_ops": ["MatMul"],
            "quantized_matmuls": count_weight_matmuls(source)}


def quantize_int8_openvino(build: Build, source: Path, target: Path) -> dict:
    """Int8 weights and activations as NNCF places them for transformers (QDQ), for OpenVINO to run.

    NNCF's transformer preset quantizes every matrix product, attention's too, keeps the sensitive
    ones (softmax, layer norm inputs) in float and corrects biases after rounding; OpenVINO runs the
    result with int8 kernels throughout. On the MiniLM CoNLL checkpoint (AVX-512 VNNI Xeon, 2
    threads) it kept F1 within the interval (0.8442 vs 0.8438) at 4.0 / 24.1 ms (batch 1 / 8 x 128)
    against int8-dynamic's 6.4 / 34.7 ms on ONNX Runtime, where ONNX Runtime's own static recipe
    lost 1.25 points. ONNX Runtime runs the same file slowly (19.5 ms): the runtime loads it only
    with OpenVINO. `portable` turns on NNCF's overflow fix (7-bit weights, as int8-dynamic's
    reduce_range) so that no AVX2 CPU saturates; VNNI/ARM targets keep full 8-bit weights."""
    import nncf
    import onnx
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, OverflowFix

    features = build.calibration or []
    names = list(build.input_names)
    full_range = build.quantize_for in FULL_RANGE_TARGETS
    dataset = nncf.Dataset(features, lambda f: {n: np.asarray([f[n]], dtype=np.int64) for n in names})
    overflow_fix = OverflowFix.DISABLE if full_range else OverflowFix.ENABLE
    quantized = nncf.quantize(onnx.load(str(source)), dataset, model_type=nncf.ModelType.TRANSFORMER,
                              subset_size=len(features),
                              advanced_parameters=AdvancedQuantizationParameters(overflow_fix=overflow_fix))
    onnx.save(quantized, str(target))
    return {"tool": "nncf.quantize", "nncf": nncf.__version__, "source": "fp32", "format": "QDQ",
            "model_type": "transformer", "target": build.quantize_for, "overflow_fix": overflow_fix.value,
            "weights": "int8" if full_range else "int8 (7-bit range)", "activations": "int8 (calibrated)",
            "calibration_examples": len(features), "engine": "openvino"}


def embedding_tables(graph) -> list[str]:
    """Initializers read only by axis-0 Gathers: the embedding tables, and nothing a MatMul also reads."""
    from onnx import helper

    matrices = {init.name for init in graph.initializer if len(init.dims) == 2}
    readers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            if name in matrices:
                readers.setdefault(name, []).append(node)
    return [name for name, nodes in readers.items()
            if all(n.op_type == "Gather" and n.input[0] == name and not any(
                a.name == "axis" and helper.get_attribute_value(a) != 0 for a in n.attribute) for n in nodes)]


def quantize_embeddings(build: Build, source: Path, target: Path) -> dict:
    """int8-dynamic with its embedding tables in int8 too, one scale per row (symmetric).

    The embeddings are most of a small BERT's file (47 of MiniLM's 59 MB int8-dynamic), and ONNX
    Runtime's own Gather quantization gives a whole table one uint8 scale, set by its largest
    outlier: measured on MiniLM's word embeddings, rows come back with 3.5% relative error (p99 7.8%)
    against 0.73% (p99 1.0%) with a scale per row, for the same bytes plus 4 per row. A gathered
    row is rebuilt as Cast(int8 row) * its scale: plain ONNX that any runtime reads, and no int8
    product, so no CPU can saturate on it.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    tables = set(embedding_tables(graph))
    initializers = {init.name: init for init in graph.initializer}
    for name in tables:
        weights = numpy_helper.to_array(initializers[name]).astype(np.float32)
        scale = np.abs(weights).max(axis=1, keepdims=True) / 127
        scale[scale == 0] = 1  # an all-zero row (padding) stays zero whatever its scale
        initializers[name].CopyFrom(numpy_helper.from_array(np.round(weights / scale).astype(np.int8), name))
        graph.initializer.append(numpy_helper.from_array(scale.astype(np.float32), name + "_scale"))
    nodes = []
    for node in graph.node:
        nodes.append(node)
        if node.op_type != "Gather" or node.input[0] not in tables:
            continue
        table, output = node.input[0], node.output[0]
        node.output[0] = output + "_int8"
        nodes += [helper.make_node("Cast", [output + "_int8"], [output + "_cast"], to=onnx.TensorProto.FLOAT,
                                   name=node.name + "_cast"),
                  helper.make_node("Gather", [table + "_scale", node.input[1]], [output + "_scale"],
                                   name=node.name + "_scale"),
                  helper.make_node("Mul", [output + "_cast", output + "_scale"], [output], name=node.name + "_dequant")]
    graph.ClearField("node")
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return {"tool": "toolkit.export.variants.quantize_embeddings", "source": "int8-dynamic",
            "target": build.quantize_for, "matmuls": "as int8-dynamic (recipe there)",
            "embeddings": "int8, symmetric, one scale per row", "embedding_tables": sorted(tables),
            "quantized_ops": ["MatMul", "Gather"]}


def convert_fp16(build: Build, source: Path, target: Path) -> dict:
    """Half-precision weights and compute, inputs and outputs kept int64 / fp32."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load(str(source)), keep_io_types=True)
    onnx.save(model, str(target))
    return {"tool": "onnxruntime.transformers.float16", "source": "optimized", "keep_io_types": True}


@dataclass(frozen=True)
class Variant:
    """One kind of model file a bundle may hold."""

    name: str
    file: str
    source: str | None  # the variant it is made from; None: from the PyTorch model
    devices: tuple[str, ...]  # where it is meant to run; the first is where export checks it
    strict_parity: bool  # its logits must be within --atol of PyTorch's (a rewrite: export.parity_tolerance), else dropped
    cpu_rank: int | None  # preference as the default on CPU, fastest first; None: never the default
    make: Callable[[Build, Path | None, Path], dict]
    engine: str = "onnxruntime"  # what checks it at export and runs it (toolkit/runtime/openvino.py)
    calibrated: bool = False  # its activation ranges come from training rows (Build.calibration)


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("fp32", "model.onnx", None, ("cpu", "cuda"), True, 3, export_fp32),
    Variant("optimized", "model_optimized.onnx", "fp32", ("cpu", "cuda"), True, 2, optimize),
    Variant("int8-dynamic", "model_int8_dynamic.onnx", "fp32", ("cpu",), False, 0, quantize_int8_dynamic),
    Variant("int8-static", "model_int8_static.onnx", "fp32", ("cpu",), False, 1, quantize_int8_static,
            calibrated=True),
    # Opt-in (--compact): the smallest file, at a cost export measures; never chosen as the default.
    Variant("int8-compact", "model_int8_compact.onnx", "int8-dynamic", ("cpu",), False, None, quantize_embeddings),
    # Opt-in (--openvino): OpenVINO's default (manifest `engine_defaults`); ONNX Runtime's never.
    Variant("int8-openvino", "model_int8_openvino.onnx", "fp32", ("cpu",), False, None, quantize_int8_openvino,
            "openvino", calibrated=True),
    Variant("fp16", "model_fp16.onnx", "optimized", ("cuda",), False, None, convert_fp16),
)}
