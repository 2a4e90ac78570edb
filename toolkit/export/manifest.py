"""The bundle's manifest as export builds it: a toolkit.runtime.manifest.Manifest from the checkpoint,
the options and the checked variants."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from toolkit import versions
from toolkit.hub import looks_like_path
from toolkit.data.synthetic import is_synthetic
from toolkit.modeling import pooling_of
from toolkit.runtime.manifest import Manifest, VariantEntry

# The libraries that make a bundle, beside the toolkit itself.
EXPORT_LIBRARIES = ("transformers", "optimum", "onnx", "onnxruntime")
NOT_MEASURED = {"dataset": None, "measured": False, "pytorch": None,
                "reason": "no labelled evaluation data could be loaded; export with --dataset to measure"}


def distilled_from(training: dict, bundle_dir: Path) -> dict:
    """A distilled checkpoint's record (teacher, its score, temperature, weight, unlabelled rows), its
    teacher's path seen from the bundle."""
    record = training.get("distillation")
    if not record:
        return {}
    teacher = {**record["teacher"], "path": relative_to(record["teacher"].get("path"), bundle_dir)}
    return {"distillation": {**record, "teacher": teacher}}


def relative_to(name: str | None, bundle_dir: Path) -> str | None:
    """A local path as seen from the bundle, so that a bundle moved with its checkpoint and data still finds
    them and holds no build machine's path; hub ids, and paths with no relative form (another drive), as
    they are."""
    if not name or not looks_like_path(name):
        return name
    try:
        relative = os.path.relpath(Path(name).expanduser().resolve(), Path(bundle_dir).resolve())
    except ValueError:
        return name
    return relative if relative.startswith("..") else os.path.join(".", relative)  # "./x": a path, not a hub id


def portable(manifest: Manifest) -> Manifest:
    """The manifest without any path of the machine that built it: what a wheel ships, installed anywhere.
    Local data and base models keep their folder name; the source checkpoint is left out."""
    def name_only(name: str | None) -> str | None:
        return Path(name).name if name and looks_like_path(name) else name

    evaluation = dict(manifest.evaluation or {})
    if evaluation.get("dataset"):
        evaluation["dataset"] = name_only(evaluation["dataset"])
    training = dict(manifest.training or {})
    if training.get("dataset"):
        training["dataset"] = name_only(training["dataset"])
    return replace(manifest, source_checkpoint="", base_model=name_only(manifest.base_model) or "",
                   evaluation=evaluation, training=training)


def build_manifest(checkpoint, cfg, variants: dict[str, VariantEntry], engine_defaults: dict[str, str],
                   evaluation: dict | None, baseline: dict | None, input_names: list[str],
                   rejected: list[str]) -> Manifest:
    """The bundle's self-description: everything the runtime and a reader need.

    `engine_defaults` names what each engine loads when no variant is named; its "onnxruntime"
    entry is the bundle's default variant."""
    training = checkpoint.training or {}
    bundle_dir = Path(cfg.output_dir)
    trained_on = training.get("options", {}).get("dataset")
    if evaluation and evaluation.get("dataset"):
        evaluation = {**evaluation, "dataset": relative_to(evaluation["dataset"], bundle_dir)}
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
        base_model=relative_to(training.get("options", {}).get("model") or getattr(checkpoint.config, "_name_or_path",
                                                                                  ""), bundle_dir),
        model_type=checkpoint.config.model_type,
        source_checkpoint=relative_to(str(checkpoint.directory), bundle_dir),
        training={**{k: training[k] for k in ("hyperparameters", "train_runtime_s", "train_examples") if k in training},
                  **distilled_from(training, bundle_dir),
                  **({"dataset": relative_to(trained_on, bundle_dir), "synthetic": is_synthetic(trained_on)}
                     if trained_on else {})},
        versions=versions(*EXPORT_LIBRARIES),
        evaluation={**evaluation, "measured": True, "pytorch": baseline} if evaluation else dict(NOT_MEASURED),
        rejected=list(rejected),
        # the int8 recipes' CPU target is recorded once, in each recipe (`target`)
        options={"atol": cfg.atol, "max_drop": cfg.max_drop, "opset": cfg.opset},
        units={"drop_points": "metric points lost against PyTorch on the evaluation rows (+ = loss); "
                              "drop_interval: its 95% paired-bootstrap interval"},
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
