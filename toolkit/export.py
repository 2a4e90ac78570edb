"""Export a checkpoint to a verified ONNX bundle: variants, parity checks, manifest, model card."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from toolkit import onnx_variants
from toolkit.backends import OrtBackend, TorchBackend
from toolkit.checkpoint import Checkpoint, evaluation_split, inspect_checkpoint
from toolkit.config import ExportConfig
from toolkit.errors import ParityError, ToolkitError
from toolkit.evaluate import (
    MODEL_INPUTS,
    agreement,
    collect_logits,
    count_examples,
    encode_examples,
    max_abs_diff,
    score,
    split_features,
)
from toolkit.heads import pooling_of
from toolkit.runtime.bundle import FORMAT_VERSION, MANIFEST_FILE, sha256_of
from toolkit.tasks import TASKS

log = logging.getLogger(__name__)

# Used for parity when the checkpoint's evaluation data cannot be loaded: varied lengths on purpose.
FALLBACK_TEXTS = [
    "Hi.", "Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
    "The European Commission said on Thursday it disagreed with German advice to consumers to shun "
    "British lamb until scientists determine whether mad cow disease can be transmitted to sheep.",
    "A wonderful, moving film.", "I did not like it at all; the plot made no sense and the acting was "
    "wooden, although the music was fine. " * 6,
]
PREFERRED_DEFAULTS = ("int8-dynamic", "int8-static", "optimized", "fp32")  # fastest first, on CPU
EVAL_BATCH_SIZE = 16


@dataclass
class ExportResult:
    bundle_dir: Path
    manifest: dict
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@contextlib.contextmanager
def staged_directory(target: Path):
    """Yield a temporary directory next to `target`; move it into place only on success.

    An existing `target` is replaced only once the new one is complete, and a failure or an
    interrupt at any point leaves neither a half-written bundle nor stray files.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; a bundle is meant to be shared
    try:
        yield staging
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / target.name)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def default_output_dir(checkpoint_dir: Path) -> Path:
    return Path("exports") / checkpoint_dir.resolve().name


def check_options(cfg: ExportConfig) -> None:
    """Reject option combinations that cannot work, before any work is done."""
    import onnxruntime

    problems = []
    if cfg.static and not cfg.quantize:
        problems.append("--static needs --quantize")
    if cfg.calibration_size <= 0:
        problems.append(f"--calibration-size must be positive, found {cfg.calibration_size}")
    if cfg.fp16 and "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        problems.append("--fp16: the fp16 variant is checked against PyTorch on ONNX Runtime's CUDA "
                        "execution provider, which this machine lacks (onnxruntime-gpu and an NVIDIA "
                        "GPU); drop --fp16 here or export on a GPU machine")
    if problems:
        raise ToolkitError("; ".join(problems) + ".")


def parity_examples(checkpoint: Checkpoint, tokenizer, max_length: int):
    """Encoded evaluation examples with labels (or fallback texts without), and their description."""
    found = evaluation_split(checkpoint)
    if found is not None:
        rows, description = found
        features = encode_examples(checkpoint.task, tokenizer, rows, checkpoint.labels,
                                   description["text_column"], description["label_column"],
                                   max_length, description["label_all_tokens"], description["truncation"])
        return features, description
    return split_features(tokenizer(FALLBACK_TEXTS, truncation=True, max_length=max_length)), None


def calibration_features(checkpoint: Checkpoint, cfg: ExportConfig, tokenizer, max_length: int) -> list[dict]:
    """Training examples (or --calibration-dataset's) for static quantization's activation ranges."""
    from toolkit.data import load_raw_splits, sample
    from toolkit.errors import DataError

    options = (checkpoint.training or {}).get("options", {})
    dataset = cfg.calibration_dataset or options.get("dataset")
    if not dataset:
        raise ToolkitError("--static needs calibration data: pass --calibration-dataset ID_OR_DIR.")
    task = checkpoint.task
    text_column = options.get("text_column") or task.text_column
    splits = load_raw_splits(dataset, task.eval_split)
    train = splits.get("train") or next(iter(splits.values()))
    if text_column not in train.column_names:
        raise DataError(f"calibration dataset {dataset!r} does not match the {task.name} task: expected "
                        f"a {text_column!r} column, found {sorted(train.column_names)}.")
    if task.decode == "entities" and not isinstance((train[0][text_column] or [None])[0], str):
        raise DataError(f"calibration dataset {dataset!r} does not match the ner task: {text_column!r} "
                        "must hold lists of words.")
    rows = sample(train, min(cfg.calibration_size, len(train)), options.get("seed", 42), "calibration")
    split_words = task.decode == "entities"
    return split_features(tokenizer(list(rows[text_column]), is_split_into_words=split_words,
                                    truncation=True, max_length=max_length))


def check_variant(name: str, logits, reference, features, checkpoint, cfg, baseline) -> dict:
    """Parity and accuracy of one variant against PyTorch; raises ParityError when it fails."""
    has_labels = bool(features) and "labels" in features[0]
    result = {"parity": {"max_abs_diff": max_abs_diff(reference, logits),
                         "label_agreement": agreement(reference, logits, features if has_labels else None),
                         "examples": count_examples(features), "model_inputs": len(features)}}
    if has_labels:
        result["accuracy"] = score(checkpoint.task, logits, features, checkpoint.labels, checkpoint.decoding)
        result["accuracy"].pop("per_type", None)
        metric = checkpoint.task.primary_metric
        result["drop_points"] = round(100 * (baseline[metric] - result["accuracy"][metric]), 3)
    else:
        result["drop_points"] = round(100 * (1 - result["parity"]["label_agreement"]), 3)
    if name in ("fp32", "optimized") and result["parity"]["max_abs_diff"] > cfg.atol:
        raise ParityError(f"variant {name!r} failed parity: max |logit difference| against PyTorch is "
                          f"{result['parity']['max_abs_diff']:.3g} > --atol {cfg.atol:g}")
    return result


def export(cfg: ExportConfig) -> ExportResult:
    """Export `cfg.checkpoint` to a bundle of checked ONNX variants and return its manifest."""
    from transformers import AutoTokenizer

    checkpoint = inspect_checkpoint(Path(cfg.checkpoint))
    check_options(cfg)
    target = Path(cfg.output_dir or default_output_dir(checkpoint.directory))
    tokenizer = AutoTokenizer.from_pretrained(checkpoint.directory)
    max_length = int(min(getattr(checkpoint.config, "max_position_embeddings", 512),
                         (checkpoint.training or {}).get("options", {}).get("max_length", 512)))
    features, evaluation = parity_examples(checkpoint, tokenizer, max_length)
    input_names = [k for k in features[0] if k in MODEL_INPUTS]
    pytorch = TorchBackend(checkpoint.directory, checkpoint.task.model_class)
    reference = collect_logits(pytorch.logits, features, EVAL_BATCH_SIZE, input_names)
    baseline = (score(checkpoint.task, reference, features, checkpoint.labels, checkpoint.decoding)
                if evaluation else None)
    if baseline:
        baseline.pop("per_type", None)
    result = ExportResult(bundle_dir=target, manifest={})
    with staged_directory(target) as staging:
        recipes = {"fp32": onnx_variants.export_fp32(pytorch.model, checkpoint.directory, staging,
                                                     checkpoint.task.onnx_task, cfg.opset)}
        files = dict(onnx_variants.VARIANT_FILES)
        makers = [("optimized", lambda: onnx_variants.optimize(
            staging / files["fp32"], staging / files["optimized"], checkpoint.config))]
        if cfg.quantize:
            makers.append(("int8-dynamic", lambda: onnx_variants.quantize_int8_dynamic(
                staging / files["fp32"], staging / files["int8-dynamic"])))
        if cfg.static:
            calibration = calibration_features(checkpoint, cfg, tokenizer, max_length)
            makers.append(("int8-static", lambda: onnx_variants.quantize_int8_static(
                staging / files["fp32"], staging / files["int8-static"], calibration, input_names)))
        if cfg.fp16:
            makers.append(("fp16", lambda: onnx_variants.convert_fp16(
                staging / files["optimized"], staging / files["fp16"])))
        variants, rejected = {}, []
        for name, make in [("fp32", None)] + makers:
            if name != "fp32":
                if name == "fp16" and "optimized" not in variants:
                    result.failures.append("fp16 not made: it is built from the optimized variant, which failed")
                    continue
                recipes[name] = make()
            path = staging / files[name]
            backend = OrtBackend(name, path, device="cuda" if name == "fp16" else "cpu")
            started = time.perf_counter()
            logits = collect_logits(backend.logits, features, EVAL_BATCH_SIZE, input_names)
            try:
                checked = check_variant(name, logits, reference, features, checkpoint, cfg, baseline)
            except ParityError as error:
                result.failures.append(str(error))
                rejected.append(path)  # removed at the end: later variants may be built from it
                continue
            variants[name] = {"file": files[name], "sha256": sha256_of(path), "size_bytes": path.stat().st_size,
                              "recipe": recipes[name], "provider_checked": backend.providers[0],
                              "check_seconds": round(time.perf_counter() - started, 2), **checked}
        for path in rejected:
            path.unlink()
        if not variants:
            raise ParityError("no variant passed its checks: " + "; ".join(result.failures))
        default = choose_default(variants, cfg.max_drop, result.warnings)
        result.manifest = build_manifest(checkpoint, cfg, variants, default, evaluation, baseline,
                                         input_names, max_length, result.failures)
        (staging / MANIFEST_FILE).write_text(json.dumps(result.manifest, indent=2) + "\n")
        (staging / "README.md").write_text(model_card(result.manifest))
        for stray in ("ort_config.json",):
            (staging / stray).unlink(missing_ok=True)
    return result


def choose_default(variants: dict, max_drop: float, warnings: list[str]) -> str:
    """The fastest CPU variant whose metric drop stays within `max_drop` points."""
    for name in PREFERRED_DEFAULTS:
        if name not in variants:
            continue
        drop = variants[name]["drop_points"]
        if name.startswith("int8") and drop > max_drop:
            warnings.append(f"{name} loses {drop:.2f} points (> --max-drop {max_drop:g}); it is kept in "
                            "the bundle but not made the default")
            continue
        return name
    return next(iter(variants))


def _versions() -> dict:
    import onnx
    import onnxruntime
    import optimum.version
    import transformers

    from toolkit import __version__

    return {"toolkit": __version__, "transformers": transformers.__version__,
            "optimum": optimum.version.__version__, "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__}


def build_manifest(checkpoint, cfg, variants, default, evaluation, baseline, input_names, max_length,
                   failures) -> dict:
    """The bundle's self-description: everything the runtime and a reader need."""
    training = checkpoint.training or {}
    return {
        "format_version": FORMAT_VERSION,
        "task": checkpoint.task.name,
        "decode": checkpoint.task.decode,
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
        "versions": _versions(),
        "evaluation": {**(evaluation or {"dataset": None}), "pytorch": baseline},
        "variants": variants,
        "default_variant": default,
        "rejected": failures,
        "options": {"atol": cfg.atol, "max_drop": cfg.max_drop, "opset": cfg.opset},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def model_card(manifest: dict) -> str:
    """A README.md for the bundle: what it is, how it was checked, how to use it."""
    metric = TASKS[manifest["task"]].primary_metric
    evaluation = manifest["evaluation"]
    rows = ["| variant | file | size (MB) | max abs diff | label agreement | "
            f"{metric} | drop (points) |", "|---|---|---|---|---|---|---|"]
    if evaluation.get("pytorch"):
        rows.append(f"| pytorch | - | - | - | - | {evaluation['pytorch'][metric]:.4f} | - |")
    for name, v in manifest["variants"].items():
        value = v.get("accuracy", {}).get(metric)
        rows.append(f"| {name}{' (default)' if name == manifest['default_variant'] else ''} | {v['file']} | "
                    f"{v['size_bytes'] / 1e6:.1f} | {v['parity']['max_abs_diff']:.2e} | "
                    f"{v['parity']['label_agreement']:.4f} | {'-' if value is None else f'{value:.4f}'} | "
                    f"{v['drop_points']:.2f} |")
    pooling = (["Pooling: mean of the token vectors. The ONNX graphs pool by themselves; the PyTorch "
                "checkpoint loads with `toolkit.heads.load_model` (transformers' "
                "AutoModelForSequenceClassification would read [CLS] instead).", ""]
               if manifest.get("pooling") == "mean" else [])
    data = (f"{evaluation['examples']} examples of `{evaluation['dataset']}` ({evaluation['split']})"
            if evaluation.get("dataset") else "built-in sentences (the training data was not available)")
    return "\n".join([
        f"# {manifest['task']} model ({manifest['model_type']}, from {manifest['base_model']})", "",
        f"Labels: {', '.join(manifest['labels'])}. Max length: {manifest['max_length']} tokens.", "", *pooling,
        f"Every variant was checked against the PyTorch checkpoint on {data}.", "", *rows, "",
        "```python", "from toolkit.runtime import load", "model = load(\"path/to/this/bundle\")",
        "```", "",
        "Or with Optimum: `ORTModelFor...Classification.from_pretrained(DIR, file_name=\"model_optimized.onnx\")`.",
        "", f"Made with toolkit {manifest['versions']['toolkit']}, onnxruntime "
        f"{manifest['versions']['onnxruntime']}, on {manifest['created']}.", ""])
