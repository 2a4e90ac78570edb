"""Int8 whose answers do not depend on the batch: activations quantized with one scale per token.

ONNX Runtime's dynamic quantization gives each MatMul input one scale for the whole tensor, set by
its largest value: a sentence's activations are rounded on a grid that the other sentences of its
batch, and their padding, decide. Its answers then move with their neighbours (measured on the
MiniLM CoNLL checkpoint: 10 of 200 validation sentences got other entities alone than in batches
of 32). Here every token's vector gets its own scale and zero point (its range [min(x, 0),
max(x, 0)] mapped onto 0..255), computed in the graph, so a token is rounded the same way whatever
else is in the batch: only float rounding of the surrounding fp32 operators remains.

The rewrite starts from ONNX Runtime's own dynamic graph (its weight quantization: int8, per
channel, 7-bit for portable targets) and replaces each DynamicQuantizeLinear with the per-token
version; the per-token zero point is folded into the integer product (rewrite_per_token), so
ONNX Runtime keeps its fast U8S8 kernels (VNNI, and AVX2 without saturation: 255 x 63 x 2 < 2^15).
"""

from __future__ import annotations

import numpy as np

LEVELS = 255.0  # a token's range maps onto 0..255
TINY = 1e-12  # an all-zero token (rare) gets a scale that still divides


def default_opset(model) -> int:
    return next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))


def reduce_node(op: str, source: str, target: str, opset: int, axes: str):
    from onnx import helper

    if opset >= 18:  # axes became an input in opset 18
        return helper.make_node(op, [source, axes], [target], keepdims=1, name=target)
    return helper.make_node(op, [source], [target], axes=[-1], keepdims=1, name=target)


def correction_rows(weights: np.ndarray, limit: int) -> np.ndarray:
    """Rows to append to int8 `weights` (K x N) whose sum per column is minus the column's sum,
    each entry within +-limit (what the weights' kernel allows without saturating)."""
    remaining = -weights.astype(np.int64).sum(0)
    count = int(np.ceil(np.abs(remaining).max() / limit)) if remaining.any() else 0
    rows = []
    for _ in range(count):
        row = np.clip(remaining, -limit, limit)
        rows.append(row)
        remaining = remaining - row
    return np.asarray(rows, dtype=np.int8).reshape(count, weights.shape[1])


def rewrite_per_token(model, weight_limit: int) -> int:
    """Replace the per-tensor activation quantization of ONNX Runtime's dynamic int8 graph (in place)
    by per-token quantization; return how many activations were requantized.

    Each DynamicQuantizeLinear(x) becomes: a scale and a zero point per token (asymmetric: the
    token's range [min(x, 0), max(x, 0)] maps onto 0..255, so one-sided activations after GELU keep
    all 8 bits), then one QuantizeLinear over the tokens as rows. ONNX Runtime's integer products
    take one zero point per input, not per row, so the zero point is folded into the product
    itself: x is padded with R zero columns, which quantize to the token's zero point exactly, and
    the int8 weights gain R rows summing to minus their column sums (each entry within
    `weight_limit`, 63 for 7-bit weights), so the integer product is exactly sum((q - zp) * w). The
    product then runs as ONNX Runtime's MatMulIntegerToFloat (per-column weight scales applied in
    its output stage) followed by one multiplication by the token's scale.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    opset = default_opset(model)
    initializers = {init.name: init for init in graph.initializer}
    consumers: dict[str, list] = {}
    producers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
        for name in node.output:
            producers[name] = node
    constants = {"axes": np.array([-1], np.int64), "tiny": np.array(TINY, np.float32),
                 "levels": np.array(LEVELS, np.float32), "zero": np.array(0, np.float32),
                 "flat": np.array([-1], np.int64), "column": np.array([-1, 1], np.int64),
                 "one": np.array(1, np.float32), "start": np.array([0], np.int64)}
    c = {key: f"per_token_{key}" for key in constants}
    added = [numpy_helper.from_array(value, c[key]) for key, value in constants.items()]
    replace: dict[int, list] = {}  # id of a node -> the nodes standing in its place
    dropped: set[int] = set()
    for node in graph.node:
        if node.op_type != "DynamicQuantizeLinear":
            continue
        q, scale, _ = node.output
        products = [n for n in consumers[q] if n.op_type == "MatMulInteger"]
        if len(products) != len(consumers[q]):
            raise ValueError(f"{q} feeds something other than MatMulInteger: not ONNX Runtime's dynamic graph")
        plans = []
        for product in products:
            weights = numpy_helper.to_array(initializers[product.input[1]])
            zero = numpy_helper.to_array(initializers[product.input[3]]) if len(product.input) > 3 else 0
            if np.any(zero != 0):
                raise ValueError(f"{product.input[1]}: expected symmetric int8 weights (zero point 0)")
            plans.append((product, weights, correction_rows(weights, weight_limit)))
        extra = max(len(rows) for _, _, rows in plans)
        width = plans[0][1].shape[0]
        names = {k: f"{q}_per_token_{k}" for k in (
            "max", "min", "high", "low", "range", "raw_scale", "low_steps", "zp_raw", "zp_float", "zp_rows", "zp",
            "zp_column", "zp_block", "block_shape", "scale_rows", "rows", "row_shape", "q_rows", "q_padded",
            "shape", "full_shape", "padded_width", "padded_shape")}
        added += [numpy_helper.from_array(np.array([-1, width], np.int64), names["row_shape"]),
                  numpy_helper.from_array(np.array([1, extra], np.int64), names["block_shape"]),
                  numpy_helper.from_array(np.array([width + extra], np.int64), names["padded_width"])]
        x = node.input[0]
        replace[id(node)] = [
            reduce_node("ReduceMax", x, names["max"], opset, c["axes"]),
            reduce_node("ReduceMin", x, names["min"], opset, c["axes"]),
            helper.make_node("Max", [names["max"], c["zero"]], [names["high"]], name=names["high"]),
            helper.make_node("Min", [names["min"], c["zero"]], [names["low"]], name=names["low"]),
            helper.make_node("Sub", [names["high"], names["low"]], [names["range"]], name=names["range"]),
            helper.make_node("Div", [names["range"], c["levels"]], [names["raw_scale"]], name=names["raw_scale"]),
            helper.make_node("Max", [names["raw_scale"], c["tiny"]], [scale], name=scale + "_per_token"),
            helper.make_node("Div", [names["low"], scale], [names["low_steps"]], name=names["low_steps"]),
            helper.make_node("Neg", [names["low_steps"]], [names["zp_raw"]], name=names["zp_raw"]),
            helper.make_node("Round", [names["zp_raw"]], [names["zp_float"]], name=names["zp_float"]),
            helper.make_node("Reshape", [names["zp_float"], c["flat"]], [names["zp_rows"]], name=names["zp_rows"]),
            helper.make_node("Cast", [names["zp_rows"]], [names["zp"]], to=2, name=names["zp"]),  # 2: uint8
            helper.make_node("Reshape", [scale, c["flat"]], [names["scale_rows"]], name=names["scale_rows"]),
            helper.make_node("Reshape", [x, names["row_shape"]], [names["rows"]], name=names["rows"]),
            helper.make_node("QuantizeLinear", [names["rows"], names["scale_rows"], names["zp"]], [names["q_rows"]],
                             axis=0, name=names["q_rows"]),
            # the R extra columns hold each token's zero point (what a 0 quantizes to)
            helper.make_node("Reshape", [names["zp"], c["column"]], [names["zp_column"]], name=names["zp_column"]),
            helper.make_node("Expand", [names["zp_column"], names["block_shape"]], [names["zp_block"]],
                             name=names["zp_block"]),
            helper.make_node("Concat", [names["q_rows"], names["zp_block"]], [names["q_padded"]], axis=1,
                             name=names["q_padded"]),
            # Shape's `end` needs opset 15; a Slice of the whole shape works from the lowest --opset
            helper.make_node("Shape", [x], [names["full_shape"]], name=names["full_shape"]),
            helper.make_node("Slice", [names["full_shape"], c["start"], c["flat"]], [names["shape"]],
                             name=names["shape"]),
            helper.make_node("Concat", [names["shape"], names["padded_width"]], [names["padded_shape"]], axis=0,
                             name=names["padded_shape"]),
            helper.make_node("Reshape", [names["q_padded"], names["padded_shape"]], [q], name=q + "_per_token"),
        ]
        for product, weights, rows in plans:
            padded = np.concatenate([weights, rows, np.zeros((extra - len(rows), weights.shape[1]), np.int8)])
            weight_name = product.input[1] + "_per_token"
            added.append(numpy_helper.from_array(padded, weight_name))
            (cast,) = consumers[product.output[0]]
            (rescale,) = consumers[cast.output[0]]  # Mul(cast, x_scale * w_scale)
            combined = rescale.input[1] if rescale.input[0] == cast.output[0] else rescale.input[0]
            scales = producers[combined]  # Mul(x_scale, w_scale)
            weight_scale = scales.input[1] if scales.input[0] == scale else scales.input[0]
            product_out = product.output[0] + "_float"
            replace[id(product)] = [helper.make_node(
                "MatMulIntegerToFloat", [q, weight_name, c["one"], weight_scale], [product_out],
                domain="com.microsoft", name=product.name + "_per_token")]
            replace[id(rescale)] = [helper.make_node("Mul", [product_out, scale], [rescale.output[0]],
                                                     name=rescale.name + "_per_token")]
            dropped.update((id(cast), id(scales)))
    final = []
    for node in graph.node:
        if id(node) in dropped:
            continue
        final += replace.get(id(node), [node])
    graph.ClearField("node")
    graph.node.extend(final)
    used = {name for node in final for name in node.input}
    kept = [init for init in list(graph.initializer) + added if init.name in used]
    graph.ClearField("initializer")
    graph.initializer.extend(kept)
    if not any(entry.domain == "com.microsoft" for entry in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return sum(1 for node in final if node.op_type == "QuantizeLinear")
