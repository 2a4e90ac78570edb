"""The bundle's manifest as export builds it: a toolkit.runtime.manifest.Manifest from the checkpoint,
the options and the checked variants."""

from __future__ import annotations

import time

from toolkit import versions
from toolkit.modeling import pooling_of
from toolkit.runtime.manifest import Manifest, VariantEntry

# The libraries that make a bundle, beside the toolkit itself.
EXPORT_LIBRARIES = ("transformers", "optimum", "onnx", "onnxruntime")
NOT_MEASURED = {"dataset": None, "measured": False, "pytorch": None,
                "reason": "no labelled evaluation data could be loaded; export with --dataset to measure"}


def build_manifest(checkpoint, cfg, variants: dict[str, VariantEntry], engine_defaults: dict[str, str],
                   evaluation: dict | None, baseline: dict | None, input_names: list[str],
                   rejected: list[str]) -> Manifest:
    """The bundle's self-description: everything the runtime and a reader need.

    `engine_defaults` names what each engine loads when no variant is named; its "onnxruntime"
    entry is the bundle's default variant."""
    training = checkpoint.training or {}
    return Manifest(
        task=checkpoint.task.name,
        kind=checkpoint.task.answer_kind,
        labels=tuple(checkpoint.labels),
        max_length=checkpoint.max_length,
        variants=variants,
        default_variant=engine_defaults["onnxruntime"],
        engine_defaults=engine_defaults,
        decoding=checkpoint.decoding,
        truncation=checkpoint.truncation,
        pooling=pooling_of(checkpoint.config),
        inputs=list(input_names),
        pad_token_id=int(getattr(checkpoint.config, "pad_token_id", 0) or 0),
        base_model=training.get("options", {}).get("model") or getattr(checkpoint.config, "_name_or_path", ""),
        model_type=checkpoint.config.model_type,
        source_checkpoint=str(checkpoint.directory.resolve()),
        training={k: training[k] for k in ("hyperparameters", "train_runtime_s", "train_examples") if k in training},
        versions=versions(*EXPORT_LIBRARIES),
        evaluation={**evaluation, "measured": True, "pytorch": baseline} if evaluation else dict(NOT_MEASURED),
        rejected=list(rejected),
        # the int8 recipes' CPU target is recorded once, in each recipe (`target`)
        options={"atol": cfg.atol, "max_drop": cfg.max_drop, "opset": cfg.opset},
        units={"drop_points": "metric points lost against PyTorch on the evaluation rows (+ = loss); "
                              "drop_interval: its 95% paired-bootstrap interval"},
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
