"""MPNet's attention fused into ONNX Runtime's `Attention` op, its relative position bias included.

ONNX Runtime 1.32's transformer optimizer ("bert" fusions) finds no attention in MPNet. Its
FusionAttention starts from the Softmax and accepts, between the Q·K MatMul and the Softmax,
Softmax <- Add(mask) <- Div|Mul <- MatMul (BERT) and a few other chains; MPNet's exported graph has

    MatMul(Q, K^T) -> Div(sqrt(head size)) -> Add(position bias) -> Add(mask) -> Softmax

where the position bias is a (batch, heads, S, S) tensor that the encoder computes once from its
relative-position buckets and every layer adds. The Add that the BERT chain expects to hold the
mask holds the position bias, so nothing matches. Its one chain that passes an extra score term to
the Attention op (its `attention_bias` input: `add_qk`, DistilBERT's Where-masked scores) cannot
fire in 1.32 either: get_add_qk_str never runs its shape inference (shape_infer_done starts True)
and returns None, and the mask check that follows refuses that chain's Equal(mask, 0).

Everything around that chain is BERT's (Q/K/V projections, head reshapes, the additive
(1 - mask) * min mask), so the fusion below is FusionAttention with MPNet's score chain: the same
node that FusionAttention builds (one QKV weight, the mask as ONNX Runtime's mask index), with the
position bias, shape (batch, heads, S, S), as its `attention_bias`: the op adds it to the scaled
scores, as MPNet does. It runs after ONNX Runtime's own fusions, on the graph they leave, for MPNet
only (toolkit/export/variants.py `optimize`). On a tiny random MPNet (2 layers, hidden 64, 4 heads)
the optimized variant went from no Attention op to one per layer, its logits still within 2e-7 of
PyTorch's (export's --atol is 1e-4).
"""

from __future__ import annotations

import logging

import numpy as np
from onnxruntime.transformers.fusion_attention import FusionAttention

log = logging.getLogger(__name__)

# From the Softmax back to the Q·K product; each Add's other input is the mask (first Add) and the
# position bias (second). Input indices are left open where the exporter may swap an Add's operands.
SCORE_CHAIN = (["Add", "Add", "Div", "MatMul"], [0, None, None, 0])
# (1 - float(mask[:, None, None, :])) * min: BERT's additive mask, as FusionAttention matches it.
MASK_CHAIN = (["Mul", "Sub", "Cast", "Unsqueeze", "Unsqueeze"], [None, 0, 1, 0, 0])
PROJECTION = ["Transpose", "Reshape", "Add", "MatMul"]  # a head split of Q, K or V, from its product back


class MPNetAttentionFusion(FusionAttention):
    """FusionAttention for MPNet's score chain, started from each Softmax."""

    def __init__(self, model, hidden_size: int, num_heads: int, attention_mask):
        super().__init__(model, hidden_size, num_heads, attention_mask, search_op_types=["Softmax"])

    def fuse(self, softmax, input_name_to_nodes, output_name_to_node):
        model = self.model
        scores = model.match_parent_path(softmax, *SCORE_CHAIN, output_name_to_node)
        readers = input_name_to_nodes.get(softmax.output[0], [])
        if scores is None or [(n.op_type, n.input[0]) for n in readers] != [("MatMul", softmax.output[0])]:
            return
        add_mask, add_bias, div, matmul_qk = scores
        matmul_qkv = readers[0]
        mask = model.match_parent_path(add_mask, *MASK_CHAIN, output_name_to_node)
        _, mask_value = model.get_constant_input(mask[0]) if mask else (None, None)
        bias = next((name for name in add_bias.input if name != div.output[0]), None)
        q = model.match_parent_path(matmul_qk, PROJECTION, [0, 0, 0, None], output_name_to_node)
        k = model.match_parent_path(matmul_qk, PROJECTION, [1, 0, 0, None], output_name_to_node)
        v = model.match_parent_path(matmul_qkv, PROJECTION, [1, 0, 0, None], output_name_to_node)
        merge = model.match_child_path(matmul_qkv, ["Transpose", "Reshape"], [(0, 0), (0, 0)], input_name_to_nodes)
        divisor = model.get_constant_value(div.input[1])
        if any(x is None for x in (mask_value, bias, q, k, v, merge, divisor)) or mask_value.size != 1 \
                or mask_value.item() >= 0 or divisor.size != 1:
            log.debug("%s: not MPNet's attention", softmax.name)
            return
        root = q[-1].input[0]
        num_heads, hidden_size = self.get_num_heads_and_hidden_size(q[1])
        if k[-1].input[0] != root or v[-1].input[0] != root or num_heads <= 0 or hidden_size <= 0:
            return
        head_size = hidden_size // num_heads
        # The op scales by 1/sqrt(head size) unless told otherwise; MPNet divides by exactly that.
        scale = None if np.isclose(divisor.item(), np.sqrt(head_size)) else 1 / divisor.item()
        self.mask_filter_value = mask_value.item()  # what MPNet adds to a masked score (float32's min)
        attention = self.create_attention_node(
            mask_index=self.attention_mask.process_mask(mask[-1].input[0]), q_matmul=q[-1], k_matmul=k[-1],
            v_matmul=v[-1], q_add=q[-2], k_add=k[-2], v_add=v[-2], num_heads=num_heads, hidden_size=hidden_size,
            first_input=root, output=merge[-1].output[0], add_qk_str=bias, scale=scale)
        if attention is None:
            return
        self.nodes_to_add.append(attention)
        self.node_name_to_graph_name[attention.name] = self.this_graph_name
        self.nodes_to_remove.extend([*merge, matmul_qkv, softmax, *scores, *q, *k, *v])
        # The mask and the bias are shared by every layer: prune_graph drops them once nothing reads them.
        self.prune_graph = True


def fuse_mpnet_attention(optimized, num_heads: int, hidden_size: int) -> None:
    """Fuse MPNet's attention in `optimized` (ONNX Runtime's BertOnnxModel, after its own fusions), in place.

    Its attention_mask object is the one ONNX Runtime's fusions set up (mask format, int32 input)."""
    MPNetAttentionFusion(optimized, hidden_size, num_heads, optimized.attention_mask).apply()
    optimized.topological_sort()
