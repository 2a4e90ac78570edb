"""Hyper-parameters `toolkit train` uses when the user does not set them.

`tutorial` is the tutorial's recipe (Trainer defaults, 5 epochs, weight decay 0.01). `auto` starts
from it and applies the task's overrides for the model's size (`Task.presets`); those values come
from the experiments in bench/accuracy.py, chosen on a held-out part of the training split only
(see README, "Accuracy").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from toolkit.config import PRESETS
from toolkit.errors import ToolkitError
from toolkit.tasks import Task


@dataclass(frozen=True)
class HyperParameters:
    learning_rate: float
    epochs: float
    batch_size: int
    weight_decay: float
    warmup_ratio: float
    lr_scheduler: str
    decoding: str  # NER: "argmax" per token, or "viterbi" (B-/I- constrained; see runtime/bio.py)
    truncation: str = "head"  # sentiment: "head", "head+tail" or "windows" of texts longer than max_length
    layer_lr_decay: float = 1.0  # < 1: lower layers learn slower (see param_groups.py)
    head_lr_multiplier: float = 1.0  # the task head's rate, as a multiple of learning_rate
    augment_copies: int = 0  # NER: mention-swapped copies of each training sentence (data/augment.py)
    pooling: str = "cls"  # sentiment: classify the [CLS] vector, or the mean of all (modeling.py)


TUTORIAL = HyperParameters(learning_rate=5e-5, epochs=5, batch_size=8, weight_decay=0.01,
                           warmup_ratio=0.0, lr_scheduler="linear", decoding="argmax")
SMALL_HIDDEN = 384  # models up to this width (MiniLM-L6 is 384 wide) take the task's "small" values


def choose(preset: str, task: Task, hidden_size: int, model_type: str = "bert") -> HyperParameters:
    """The preset's hyper-parameters for a task and a model of `hidden_size`."""
    if preset not in PRESETS:
        raise ToolkitError(f"unknown preset {preset!r}: expected one of {', '.join(PRESETS)}.")
    if preset == "tutorial":
        return TUTORIAL
    chosen = replace(TUTORIAL, **task.presets.get("small" if hidden_size <= SMALL_HIDDEN else "large", {}))
    # Mean pooling exists for BERT only (toolkit.modeling); other encoders keep [CLS].
    return chosen if model_type == "bert" else replace(chosen, pooling="cls")
