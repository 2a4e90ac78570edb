"""What a bundle or a checkpoint is, from its own files only (like `spacy info MODEL`): its task and labels, its
variants with their sizes, scores and recipes, the default and why, and the CPU that decision was measured on."""

from __future__ import annotations

import json
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.runtime.bundle import MANIFEST_FILE
from toolkit.tasks import TASKS

CHECKPOINT_METRICS = ("f1", "precision", "recall", "accuracy")


def describe_bundle(directory: Path) -> dict:
    """A bundle's facts: the manifest, checked on load, as a reader wants them."""
    from toolkit.runtime.bundle import load_bundle

    manifest = load_bundle(directory).manifest.to_dict()
    if manifest["task"] not in TASKS:
        raise ToolkitError(f"{directory}: the manifest's task {manifest['task']!r} is not one this toolkit knows "
                           f"({', '.join(sorted(TASKS))}); re-export the bundle with this version.")
    variants = {name: {"file": v["file"], "size_mb": round(v["size_bytes"] / 1e6, 1) if v.get("size_bytes") else None,
                       "engine": v.get("engine", "onnxruntime"), "devices": v.get("devices"),
                       "recipe": v.get("recipe", {}), "accuracy": v.get("accuracy"), "drop_points": v.get("drop_points"),
                       "drop_interval": v.get("drop_interval"), "decision": v.get("decision")}
                for name, v in manifest["variants"].items()}
    return {"kind": "bundle", "path": str(directory), "task": manifest["task"], "labels": manifest["labels"],
            "model_type": manifest["model_type"], "base_model": manifest.get("base_model"),
            "decoding": manifest.get("decoding"), "pooling": manifest.get("pooling"),
            "max_length": manifest["max_length"], "default_variant": manifest["default_variant"],
            "engine_defaults": manifest.get("engine_defaults"), "evaluation": manifest.get("evaluation"),
            "training": manifest.get("training"), "options": manifest.get("options"), "variants": variants,
            "rejected": manifest.get("rejected"), "versions": manifest.get("versions"),
            "created": manifest.get("created")}


def describe_checkpoint(directory: Path) -> dict:
    """A checkpoint's facts: its task and labels from config.json, its scores and recipe from metrics.json."""
    from toolkit.checkpoint import inspect_checkpoint
    from toolkit.modeling import pooling_of

    checkpoint = inspect_checkpoint(directory)
    training = checkpoint.training or {}
    weights = sum(p.stat().st_size for p in directory.glob("*.safetensors"))
    return {"kind": "checkpoint", "path": str(directory), "task": checkpoint.task.name,
            "labels": list(checkpoint.labels), "model_type": checkpoint.config.model_type,
            "base_model": training.get("options", {}).get("model"), "decoding": checkpoint.decoding,
            "pooling": pooling_of(checkpoint.config), "max_length": checkpoint.max_length,
            "size_mb": round(weights / 1e6, 1), "scores": {k: training[k] for k in CHECKPOINT_METRICS if k in training},
            "baseline": training.get("baseline"), "evaluation": training.get("evaluation"),
            "hyperparameters": training.get("hyperparameters"), "train_examples": training.get("train_examples"),
            "train_runtime_s": training.get("train_runtime_s"), "versions": training.get("versions")}


def describe(path: Path) -> dict:
    """What `path` is: a bundle (it has manifest.json) or a checkpoint (config.json and weights)."""
    path = Path(path)
    if not path.is_dir():
        raise ToolkitError(f"{path} is not a directory: pass a bundle made by `toolkit export` or a checkpoint made "
                           "by `toolkit train`.")
    if (path / MANIFEST_FILE).is_file():
        return describe_bundle(path)
    if (path / "config.json").is_file():
        return describe_checkpoint(path)
    raise ToolkitError(f"{path} is neither a bundle (no {MANIFEST_FILE}) nor a checkpoint (no config.json): pass one "
                       "made by `toolkit export` or `toolkit train`.")


def to_json(facts: dict) -> str:
    return json.dumps(facts, indent=2, default=str)
