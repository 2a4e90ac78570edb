"""Export a checkpoint to a verified ONNX bundle: variants, parity checks, manifest, model card."""

from __future__ import annotations

import contextlib
import json
import re
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Callable
from pathlib import Path

from toolkit.backends import ENGINE_BACKENDS, TorchBackend
from toolkit.checkpoint import Checkpoint, evaluation_set, inspect_checkpoint
from toolkit.config import ExportConfig
from toolkit.errors import DataError, ModelError, ParityError, ToolkitError
from toolkit.export.decision import choose_default as choose_by_rank
from toolkit.export.decision import held_back, shown_to_keep_accuracy
from toolkit.export.evidence import DecisionInputs, decide
from toolkit.export.manifest import build_manifest
from toolkit.export.variants import VARIANTS, Build, Variant
from toolkit.options import inside, unwritable
from toolkit.progress import bar
from toolkit.runtime.bundle import MANIFEST_FILE, MIN_MAX_LENGTH, data_files_of, hash_data_files, sha256_of
from toolkit.runtime.environment import has_cuda_provider
from toolkit.runtime.manifest import VariantChecks, VariantEntry
from toolkit.runtime.openvino import INSTALL as OPENVINO_INSTALL
from toolkit.runtime.openvino import installed
from toolkit.scoring import (
    agreement,
    collect_logits,
    EVAL_BATCH_SIZE,
    count_examples,
    drop_interval,
    max_abs_diff,
    points_lost,
    score,
    split_features,
)
from toolkit.staging import recover, staged_directory

log = logging.getLogger(__name__)

# Used for parity when the checkpoint's evaluation data cannot be loaded: varied lengths on purpose.
FALLBACK_TEXTS = [
    "Hi.", "Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
    "The European Commission said on Thursday it disagreed with German advice to consumers to shun "
    "British lamb until scientists determine whether mad cow disease can be transmitted to sheep.",
    "A wonderful, moving film.", "I did not like it at all; the plot made no sense and the acting was "
    "wooden, although the music was fine. " * 6,
]
# What export writes into a bundle, and bench's reports (`toolkit bench`'s default place): --overwrite replaces a
# folder holding nothing else.
BUNDLE_FILE = re.compile(r"^(manifest\.json|README\.md|config\.json|mean_pooling\.py|.*\.onnx(_data)?|tokenizer.*|"
                         r"vocab\.(txt|json)|merges\.txt|special_tokens_map\.json|added_tokens\.json|spm\.model|"
                         r".*sentencepiece.*\.model|ort_config\.json|bench)$")


@dataclass
class ExportResult:
    bundle_dir: Path
    manifest: dict
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def default_output_dir(checkpoint_dir: Path) -> Path:
    return Path("exports") / checkpoint_dir.resolve().name


def check_options(cfg: ExportConfig, to_build: set[str]) -> None:
    """Reject option combinations that cannot work, before any work is done."""
    cfg.check()
    problems = []
    if "fp16" in to_build and not has_cuda_provider():
        problems.append("--fp16: the fp16 variant is checked against PyTorch on ONNX Runtime's CUDA "
                        "execution provider, which this machine lacks (onnxruntime-gpu and an NVIDIA "
                        "GPU); drop --fp16 here or export on a GPU machine")
    if "int8-openvino" in to_build:
        missing = [m for m in ("openvino", "nncf") if not installed(m)]
        if missing:
            problems.append(f"--openvino: int8-openvino is made by NNCF and checked on OpenVINO; {' and '.join(missing)} "
                            f"{'is' if len(missing) == 1 else 'are'} not installed: {OPENVINO_INSTALL}")
    if problems:
        raise ToolkitError("; ".join(problems) + ".")


def kept_variants(cfg: ExportConfig) -> set[str]:
    """The variants the bundle keeps: --variants, else fp32 and optimized plus what the flags add."""
    if cfg.variants:
        unknown = [v for v in cfg.variants if v not in VARIANTS]
        if unknown:
            raise ToolkitError(f"--variants {', '.join(unknown)}: unknown; choose from {', '.join(VARIANTS)}.")
        return set(cfg.variants)
    flags = {"fp32": True, "optimized": True, "int8-dynamic": cfg.quantize, "int8-static": cfg.static,
             "int8-compact": cfg.compact, "int8-openvino": cfg.openvino, "fp16": cfg.fp16}
    return {name for name, asked in flags.items() if asked}


def check_target(target: Path, source_dir: Path, overwrite: bool) -> None:
    """Refuse a target whose replacement would lose anything but a previous bundle."""
    resolved, source = target.resolve(), source_dir.resolve()
    if resolved == source or source in resolved.parents or resolved in source.parents:
        raise ToolkitError(f"--output-dir {target} is, holds or sits inside the checkpoint {source_dir}: "
                           f"choose a directory outside it, e.g. exports/{source.name}.")
    if inside(Path.cwd(), resolved) or resolved.is_mount():  # the finished bundle's rename would fail (EBUSY)
        what = "is a mount point" if not inside(Path.cwd(), resolved) else "is or holds the current directory"
        raise ToolkitError(f"--output-dir {target} {what}, which a finished bundle cannot replace: choose a new "
                           f"directory, e.g. {target / 'exports' / source.name}.")
    if unwritable(target):
        raise ToolkitError(f"--output-dir {target}: {unwritable(target)}; choose a writable place.")
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise ToolkitError(f"--output-dir {target} exists and is not a directory: choose a new directory.")
    if not (target / MANIFEST_FILE).is_file():
        if any(target.iterdir()):
            raise ToolkitError(f"--output-dir {target} holds files that are not a bundle ({MANIFEST_FILE} is "
                               "missing); export only ever replaces a bundle: choose a new or empty directory.")
        return
    if not overwrite:
        raise ToolkitError(f"{target} already holds a bundle: pass --overwrite to replace it, or choose another "
                           "--output-dir.")
    foreign = sorted(p.name for p in target.iterdir() if not BUNDLE_FILE.match(p.name))
    if foreign:
        raise ToolkitError(f"{target} holds files a bundle does not ({', '.join(foreign[:3])}"
                           f"{', ...' if len(foreign) > 3 else ''}); --overwrite replaces a bundle only: move them "
                           "out first, or choose another --output-dir.")


def requested_variants(cfg: ExportConfig) -> list[Variant]:
    """The variants to build: those kept and those they are made from, each after its source."""
    needed = set(kept_variants(cfg))
    for name in list(needed):
        while VARIANTS[name].source:
            name = VARIANTS[name].source
            needed.add(name)
    return [variant for name, variant in VARIANTS.items() if name in needed]


def calibration_features(checkpoint: Checkpoint, cfg: ExportConfig, tokenizer) -> list[dict]:
    """Training examples (or --calibration-dataset's) for static quantization's activation ranges."""
    from toolkit.data import load_raw_splits, sample

    dataset = cfg.calibration_dataset or checkpoint.option("dataset")
    if not dataset:
        raise ToolkitError("--static and --openvino need calibration data: pass --calibration-dataset ID_OR_DIR.")
    task = checkpoint.task
    text_column = checkpoint.option("text_column") or task.text_column
    splits = load_raw_splits(dataset)
    train = splits.get("train") or next(iter(splits.values()))
    if text_column not in train.column_names:
        raise DataError(f"calibration dataset {dataset!r} does not match the {task.name} task: expected "
                        f"a {text_column!r} column, found {sorted(train.column_names)}.")
    if task.word_input != isinstance(train[0][text_column], list):
        raise DataError(f"calibration dataset {dataset!r} does not match the {task.name} task: "
                        f"{text_column!r} must hold {'lists of words' if task.word_input else 'texts'}.")
    rows = sample(train, min(cfg.calibration_size, len(train)), checkpoint.option("seed"), "calibration")
    return split_features(task.tokenize_texts(tokenizer, rows[text_column], checkpoint.max_length))


# A graph rewritten from the plain fp32 export (ONNX Runtime's fusions) rounds differently again: it may
# differ from PyTorch by up to this multiple of the plain graph's own difference, which measures what
# float32 rounding does to this model on these rows. On the 12-layer MPNet of bench/README.md the
# plain graph is 7.4e-5 from PyTorch and the fused one 1.3e-4 (ONNX Runtime's stock fusions alone:
# 1.4e-4); a fixed 1e-4 dropped the optimized variant of every such model.
REWRITE_ROUNDING = 2.0
PLAIN = "fp32"  # the plain export every rewrite starts from


def parity_tolerance(variant: Variant, cfg, plain_difference: float | None) -> float:
    """The largest |logit difference| against PyTorch `variant` may have: --atol, or for a graph made from
    the plain export, REWRITE_ROUNDING times the plain graph's own difference where that is larger."""
    if variant.name == PLAIN or plain_difference is None:
        return cfg.atol
    return max(cfg.atol, REWRITE_ROUNDING * plain_difference)


def check_variant(variant: Variant, logits, reference, features, checkpoint, cfg, baseline,
                  tolerance: float) -> VariantChecks:
    """Parity and accuracy of one variant against PyTorch; raises ParityError when it fails.

    Accuracy is measured only on labelled evaluation rows: without them `drop_points` is None
    ("not measured"), never a number standing in for one."""
    has_labels = bool(features) and "labels" in features[0]
    checks = VariantChecks(parity={"max_abs_diff": max_abs_diff(reference, logits),
                                   "label_agreement": agreement(reference, logits, features if has_labels else None),
                                   "examples": count_examples(features), "model_inputs": len(features)})
    if has_labels:
        checks.accuracy = score(checkpoint.task, logits, features, checkpoint.labels, checkpoint.decoding)
        checks.accuracy.pop("per_type", None)
        metric = checkpoint.task.primary_metric
        checks.drop_points = points_lost(baseline[metric], checks.accuracy[metric])
        checks.drop_interval = drop_interval(checkpoint.task, reference, logits, features, checkpoint.labels,
                                             checkpoint.decoding)
    if variant.strict_parity:
        checks.parity["tolerance"] = tolerance
        if checks.parity["max_abs_diff"] > tolerance:
            allowed = (f"--atol {cfg.atol:g}" if tolerance == cfg.atol else
                       f"{tolerance:.3g} ({REWRITE_ROUNDING:g}x the plain fp32 graph's own difference)")
            raise ParityError(f"variant {variant.name!r} failed parity: max |logit difference| against PyTorch is "
                              f"{checks.parity['max_abs_diff']:.3g} > {allowed}")
    return checks


def export(cfg: ExportConfig) -> ExportResult:
    """Export `cfg.checkpoint` to a bundle of checked ONNX variants and return its manifest."""
    from toolkit.modeling import load_tokenizer
    from toolkit.report.export import model_card

    checkpoint = inspect_checkpoint(Path(cfg.checkpoint))
    to_build = requested_variants(cfg)
    check_options(cfg, {v.name for v in to_build})
    if cfg.default_variant and cfg.default_variant not in kept_variants(cfg):
        raise ToolkitError(f"--default-variant {cfg.default_variant}: this export keeps "
                           f"{', '.join(sorted(kept_variants(cfg)))}; name one of them.")
    if cfg.default_variant and VARIANTS[cfg.default_variant].engine != "onnxruntime":
        raise ToolkitError(f"--default-variant {cfg.default_variant}: the default runs on ONNX Runtime, which needs "
                           f"nothing more than the runtime; {cfg.default_variant} becomes OpenVINO's default by itself "
                           "when it keeps accuracy. Name an ONNX Runtime variant.")
    target = Path(cfg.output_dir or default_output_dir(checkpoint.directory))
    recover(target)
    check_target(target, checkpoint.directory, cfg.overwrite)
    tokenizer = load_tokenizer(checkpoint.directory, checkpoint.task.word_input)
    max_length = checkpoint.max_length
    if max_length < MIN_MAX_LENGTH:
        raise ModelError(f"{checkpoint.directory} takes at most {max_length} tokens; a bundle needs at least "
                         f"{MIN_MAX_LENGTH} (special tokens and some text): retrain with a larger --max-length.")
    # Everything that can fail on the user's input is read before the first file is written.
    calibration = (calibration_features(checkpoint, cfg, tokenizer)
                   if any(variant.calibrated for variant in to_build) else None)
    evaluation = evaluation_set(checkpoint, tokenizer, max_length, dataset=cfg.dataset, split=cfg.split,
                                eval_size=cfg.eval_size)
    if evaluation is not None:
        features = evaluation.features
    else:
        features = split_features(tokenizer(FALLBACK_TEXTS, truncation=True, max_length=max_length))
    pytorch = TorchBackend(checkpoint.directory, checkpoint.task.model_class, input_names=tokenizer.model_input_names)
    reference = collect_logits(pytorch.logits, features, EVAL_BATCH_SIZE, pytorch.input_names)
    baseline = (score(checkpoint.task, reference, features, checkpoint.labels, checkpoint.decoding)
                if evaluation else None)
    if baseline:
        baseline.pop("per_type", None)
        if checkpoint.decoding != "argmax":  # Optimum and transformers' pipeline decode by arg-max: the card says both
            baseline["argmax"] = score(checkpoint.task, reference, features, checkpoint.labels, "argmax")[
                checkpoint.task.primary_metric]
    build = Build(model=pytorch.model, tokenizer=tokenizer, onnx_task=checkpoint.task.onnx_task, opset=cfg.opset,
                  calibration=calibration, quantize_for=cfg.quantize_for)
    result = ExportResult(bundle_dir=target, manifest={})
    variants: dict[str, VariantEntry] = {}
    logits_of_variant: dict[str, list] = {}
    progress = bar(len(to_build), "export", unit="variant")
    with staged_directory(target) as staging, contextlib.closing(progress):
        rejected = []
        for variant in to_build:
            progress.set_postfix_str(f"making and checking {variant.name}")
            if variant.source and variant.source not in variants:
                result.failures.append(f"{variant.name} not made: it is built from the {variant.source} "
                                       "variant, which failed")
                continue
            path = staging / variant.file
            source = staging / VARIANTS[variant.source].file if variant.source else None
            try:
                recipe = make_variant(variant, build, source, path)
            except ToolkitError:
                raise
            except Exception as error:  # noqa: BLE001 - a quantizer that cannot handle this graph
                if variant.engine == "onnxruntime":
                    raise  # ONNX Runtime's own makers handle every supported graph: a failure is a fault
                # NNCF's ONNX backend cannot quantize some graphs (DeBERTa's, ALBERT's): drop the
                # variant made for another engine, keep the others
                first_line = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
                result.failures.append(f"{variant.name} not made: its quantizer cannot handle this "
                                       f"{checkpoint.config.model_type} graph ({type(error).__name__}: {first_line})")
                path.unlink(missing_ok=True)
                continue
            backend = ENGINE_BACKENDS[variant.engine](variant.name, path, device=variant.devices[0])
            if variant.source is None:  # what the graph takes, not what the tokenizer gives, is fed from here on
                build.input_names = backend.input_names
            started = time.perf_counter()
            logits = collect_logits(backend.logits, features, EVAL_BATCH_SIZE, backend.input_names)
            try:
                plain = variants[PLAIN].checks.parity["max_abs_diff"] if PLAIN in variants else None
                checked = check_variant(variant, logits, reference, features, checkpoint, cfg, baseline,
                                        parity_tolerance(variant, cfg, plain))
            except ParityError as error:
                result.failures.append(str(error))
                rejected.append(path)  # removed at the end: later variants may be built from it
                continue
            logits_of_variant[variant.name] = logits
            checked.provider_checked = backend.providers[0]
            checked.check_seconds = round(time.perf_counter() - started, 2)
            variants[variant.name] = VariantEntry(file=variant.file, sha256=sha256_of(path),
                                                  data_files=hash_data_files(staging, variant.file),
                                                  size_bytes=path.stat().st_size, engine=variant.engine,
                                                  devices=variant.devices, recipe=recipe, checks=checked)
            progress.update(1)
        keep = kept_variants(cfg)
        for name in [n for n in variants if n not in keep]:  # built only to make another from
            rejected.append(staging / variants.pop(name).file)
        kept_data = {name for entry in variants.values() for name in entry.data_files}
        for path in rejected:  # with the external data only its graph reads (ONNX's format over 2 GB)
            for name in set(data_files_of(staging, path.name)) - kept_data:
                (staging / name).unlink(missing_ok=True)
            path.unlink()
        if not variants:
            raise ParityError("no variant passed its checks: " + "; ".join(result.failures))
        if evaluation is not None:
            progress.set_postfix_str("deciding the default")
            decide(DecisionInputs(checkpoint, cfg, tokenizer, evaluation, pytorch, staging, reference),
                   variants, logits_of_variant, progress)
        default = cfg.default_variant or choose_default(variants, cfg.max_drop, result.warnings,
                                                        opt_in=opt_in_command(checkpoint.directory, target))
        if default not in variants:
            raise ToolkitError(f"--default-variant {default}: the bundle has {', '.join(variants)}; choose one of "
                               "them.")
        defaults = {"onnxruntime": default,
                    "openvino": choose_openvino_default(variants, cfg.max_drop, result.warnings)}
        manifest = build_manifest(checkpoint, replace(cfg, output_dir=target), variants, defaults, evaluation.description if evaluation else None,
                                  baseline, build.input_names, result.failures)
        result.manifest = manifest.to_dict()
        (staging / MANIFEST_FILE).write_text(json.dumps(result.manifest, indent=2) + "\n", encoding="utf-8")
        (staging / "README.md").write_text(model_card(result.manifest), encoding="utf-8")
        for stray in ("ort_config.json",):
            (staging / stray).unlink(missing_ok=True)
    return result


def make_variant(variant: Variant, build: Build, source: Path | None, target: Path) -> dict:
    """Make one variant's file. Exporters and quantizers fail in their own ways on a full disk (a
    truncated graph that then fails to parse), so a failure with no room left says so."""
    import shutil

    try:
        return variant.make(build, source, target)
    except Exception as error:
        free = shutil.disk_usage(target.parent).free
        if free < 2 * (source.stat().st_size if source else 1 << 20):
            raise ToolkitError(f"no space left on the disk of {target.parent.parent} ({free // 1024} KB free) while "
                               f"making {variant.name}: free some space or choose another --output-dir.") from error
        raise


def cpu_ranked(variants: dict[str, VariantEntry]) -> list[Variant]:
    """The kept variants that may be a CPU default, fastest first."""
    return sorted((VARIANTS[name] for name in variants if VARIANTS[name].cpu_rank is not None),
                  key=lambda v: v.cpu_rank)


def choose_openvino_default(variants: dict[str, VariantEntry], max_drop: float, warnings: list[str]) -> str:
    """What engine='openvino' loads when no variant is named: the variant made for OpenVINO where it is
    shown to keep accuracy (as choose_default decides for ONNX Runtime), else the fastest float
    variant (strict parity), which OpenVINO runs in fp32 with the parity export checked on ONNX Runtime."""
    for name, entry in variants.items():
        if entry.engine != "openvino":
            continue
        if shown_to_keep_accuracy(entry.checks, max_drop):
            return name
        warnings.append(held_back(name, entry.checks, max_drop,
                                  f'load(BUNDLE, engine="openvino", variant="{name}")', "OpenVINO's default"))
    return next((v.name for v in cpu_ranked(variants) if v.strict_parity), next(iter(variants)))


def choose_default(variants: dict[str, VariantEntry], max_drop: float, warnings: list[str],
                   opt_in: Callable[[str], str] | None = None) -> str:
    """The fastest CPU variant shown to keep accuracy (toolkit/export/decision.py)."""
    return choose_by_rank(cpu_ranked(variants), variants, max_drop, warnings,
                          opt_in or (lambda name: f"pass --variant {name} to load, predict, serve or package"))


def opt_in_command(checkpoint_dir: Path, target: Path) -> Callable[[str], str]:
    """How a user runs a held-back variant: re-export with it as the default, or name it when loading."""
    return lambda name: (f"toolkit export {checkpoint_dir} --quantize --default-variant {name} --output-dir {target} "
                         f"--overwrite (or pass --variant {name} to predict, serve or package)")
