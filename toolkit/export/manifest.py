"""The bundle's manifest: what the runtime, bench and a reader need to know about every file."""

from __future__ import annotations

import time

import toolkit
from toolkit.modeling import pooling_of
from toolkit.runtime.bundle import FORMAT_VERSION


def versions() -> dict:
    """Versions of the libraries that made the bundle."""
    import onnx
    import onnxruntime
    import optimum.version
    import transformers

    return {"toolkit": toolkit.__version__, "transformers": transformers.__version__,
            "optimum": optimum.version.__version__, "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__}


def build_manifest(checkpoint, cfg, variants, default, evaluation, baseline, input_names, max_length,
                   failures, engine_defaults: dict | None = None) -> dict:
    """The bundle's self-description: everything the runtime and a reader need."""
    training = checkpoint.training or {}
    return {
        "format_version": FORMAT_VERSION,
        "task": checkpoint.task.name,
        "decode": checkpoint.task.answer_kind.name,
        "decoding": checkpoint.decoding,
        "truncation": checkpoint.truncation,
        "pooling": pooling_of(checkpoint.config),  # informative: the graph pools by itself
        "labels": list(checkpoint.labels),
        "max_length": max_length,
        "inputs": input_names,
        "outputs": ["logits"],
        "tokenizer": "tokenizer.json",
        "pad_token_id": int(getattr(checkpoint.config, "pad_token_id", 0) or 0),
        "base_model": training.get("options", {}).get("model") or getattr(checkpoint.config, "_name_or_path", ""),
        "model_type": checkpoint.config.model_type,
        "source_checkpoint": str(checkpoint.directory.resolve()),
        "training": {k: training[k] for k in ("hyperparameters", "train_runtime_s", "train_examples")
                     if k in training},
        "versions": versions(),
        "evaluation": ({**evaluation, "measured": True, "pytorch": baseline} if evaluation else
                       {"dataset": None, "measured": False, "pytorch": None,
                        "reason": "no labelled evaluation data could be loaded; export with --dataset to measure"}),
        "variants": variants,
        "default_variant": default,
        # What each engine loads when no variant is named (toolkit.runtime: load(..., engine=...)).
        "engine_defaults": {"onnxruntime": default, **(engine_defaults or {})},
        "rejected": failures,
        "options": {"atol": cfg.atol, "max_drop": cfg.max_drop, "opset": cfg.opset, "quantize_for": cfg.quantize_for},
        "units": {"drop_points": "metric points lost against PyTorch on the evaluation rows (+ = loss); "
                                 "drop_interval: its 95% paired-bootstrap interval"},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
