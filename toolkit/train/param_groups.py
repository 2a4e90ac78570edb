"""Optimizer parameter groups with layer-wise learning-rate decay and a faster task head.

A pretrained encoder's lower layers hold general features a small training set should barely
move, while the task head starts from random weights and has the most to learn. Layer-wise decay
(Howard & Ruder, 2018; Sun et al., 2019) gives layer k of L (counted from 1) the rate
`lr * decay ** (L - k)`, the embeddings `lr * decay ** L`, and the head `lr * head_multiplier`.
"""

from __future__ import annotations

import re

_LAYER = re.compile(r"\.layers?\.(\d+)\.")
_NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "layernorm.weight")


def depth_of(name: str, num_layers: int, base_prefix: str) -> int | None:
    """0 for embeddings, k + 1 for encoder layer k, num_layers + 1 for the rest of the encoder
    (e.g. the pooler); None for parameters outside the encoder: the task head."""
    if not name.startswith(base_prefix + "."):
        return None
    layer = _LAYER.search(name)
    if layer:
        return int(layer.group(1)) + 1
    return 0 if ".embeddings." in name else num_layers + 1


def parameter_groups(model, learning_rate: float, weight_decay: float, layer_decay: float = 1.0,
                     head_multiplier: float = 1.0) -> list[dict]:
    """Param groups for torch.optim: one per (learning rate, weight decay) pair in use."""
    num_layers = model.config.num_hidden_layers  # DistilBERT's config maps this name to n_layers
    base_prefix = getattr(model, "base_model_prefix", "")
    groups: dict[tuple[float, float], list] = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        depth = depth_of(name, num_layers, base_prefix)
        if depth is None:
            rate = learning_rate * head_multiplier
        else:
            rate = learning_rate * layer_decay ** max(0, num_layers - depth)
        decay = 0.0 if name.endswith(_NO_DECAY) else weight_decay
        groups.setdefault((rate, decay), []).append(parameter)
    return [{"params": params, "lr": rate, "weight_decay": decay} for (rate, decay), params in groups.items()]


def layerwise_adamw(model, learning_rate: float, weight_decay: float, layer_decay: float, head_multiplier: float,
                    args):
    """torch's AdamW over `parameter_groups`, with the betas and epsilon of Trainer's `args`."""
    import torch

    groups = parameter_groups(model, learning_rate, weight_decay, layer_decay, head_multiplier)
    return torch.optim.AdamW(groups, lr=learning_rate, betas=(args.adam_beta1, args.adam_beta2),
                             eps=args.adam_epsilon)
