"""The bundle's contract as a type: export builds a `Manifest` and writes `to_dict()`; the runtime,
bench, evaluation and package read it back with `Manifest.from_dict`, which checks every field they
rely on. Imports nothing beyond the standard library and the runtime's answer kinds.

The JSON keys stay those of the first format, so that older readers (and the model card, which
renders the dict) keep working: the answer kind is still written as `decode`, a variant's checks
sit beside its file. `devices` was added later; a manifest without it is read with the rule that
held when it was written (`LEGACY_DEVICES`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, fields, replace

from toolkit.runtime.answers import KINDS, AnswerKind
from toolkit.runtime.errors import BundleError

FORMAT_VERSION = 1  # `devices` is an added key an older reader ignores: the format is still 1
MIN_MAX_LENGTH = 8  # room for the special tokens and a few content tokens per window
TOKENIZER_FILE = "tokenizer.json"
DEVICES = ("cpu", "cuda")
ENGINES = ("onnxruntime", "openvino")  # what runs a variant (toolkit/runtime/openvino.py for the second)
# Bundles exported before the manifest said where each variant runs: the table as it stood then
# (float graphs anywhere, fp16 for GPUs, int8 kernels on CPUs). Read only when `devices` is missing.
LEGACY_DEVICES = {"fp32": ("cpu", "cuda"), "optimized": ("cpu", "cuda"), "fp16": ("cuda",)}
LEGACY_OTHER_DEVICES = ("cpu",)
SHA256 = re.compile(r"^[0-9a-f]{64}$")


# The verdicts of export's default decision on a quantized variant (toolkit/export/decision.py).
KEEPS, LOSES, NOT_SHOWN = "keeps accuracy", "loses accuracy", "not shown"

@dataclass
class VariantChecks:
    """What export measured of a variant against PyTorch (written flat beside its file)."""

    parity: dict = field(default_factory=dict)  # max_abs_diff, label_agreement, examples, model_inputs, tolerance
    accuracy: dict | None = None  # task metrics on the labelled evaluation rows; None: not measured
    drop_points: float | None = None  # metric points lost against PyTorch (+ = loss); None: not measured
    drop_interval: tuple[float, float] | None = None  # its 95% paired-bootstrap interval
    provider_checked: str | None = None  # the execution provider export checked it on
    check_seconds: float | None = None
    # How the default rule decided on it (toolkit/export/decision.py): rows scored, looks taken and
    # planned, the interval's confidence, and the verdict.
    decision: dict | None = None

    def to_dict(self) -> dict:
        data = {"parity": self.parity, "drop_points": self.drop_points,
                "drop_interval": list(self.drop_interval) if self.drop_interval is not None else None}
        if self.accuracy is not None:
            data["accuracy"] = self.accuracy
        for key in ("provider_checked", "check_seconds", "decision"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


CHECK_KEYS = tuple(f.name for f in fields(VariantChecks))


@dataclass
class VariantEntry:
    """One model file of a bundle: what it is, where it runs, how it was made and checked."""

    file: str
    sha256: str | None = None  # required in a manifest read back: a variant is never run unchecked
    size_bytes: int | None = None
    engine: str = "onnxruntime"  # what export checked it on and what runs it
    devices: tuple[str, ...] = LEGACY_OTHER_DEVICES  # where it is meant to run
    recipe: dict = field(default_factory=dict)  # how it was made; the int8 recipes name their CPU `target`
    checks: VariantChecks = field(default_factory=VariantChecks)
    extra: dict = field(default_factory=dict)  # keys this toolkit does not know, kept as they were
    # The external data files the graph reads (ONNX's format for models over 2 GB), by their path in
    # the bundle, with their sha256: the model runs these weights, so they are checked as its file is.
    data_files: dict[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """What pins the variant (`load(..., expected_sha256=)`): its file's sha256 when the graph holds
        its weights; else the sha256 of `sha256sum`-style lines ("<sha256>  <path>\n") of its file
        first, then its data files in path order, so that no file it runs can change unseen."""
        if not self.data_files:
            return self.sha256
        files = [(self.file, self.sha256), *sorted(self.data_files.items())]
        return hashlib.sha256("".join(f"{sha}  {name}\n" for name, sha in files).encode()).hexdigest()

    @property
    def target(self) -> str | None:
        """The CPU target the variant was quantized for (None: not a quantized recipe)."""
        return self.recipe.get("target")

    def runs_on(self, device: str) -> bool:
        return device in self.devices

    def to_dict(self) -> dict:
        identity = {"file": self.file, "sha256": self.sha256, "size_bytes": self.size_bytes,
                    "data_files": self.data_files or None}
        return {**self.extra, **{k: v for k, v in identity.items() if v is not None}, "recipe": self.recipe,
                "engine": self.engine, "devices": list(self.devices), **self.checks.to_dict()}

    @classmethod
    def from_dict(cls, name: str, data: dict) -> VariantEntry:
        """An entry from its JSON object (already checked by `variant_problems`)."""
        known = {"file", "sha256", "size_bytes", "data_files", "engine", "devices", "recipe", *CHECK_KEYS}
        interval = data.get("drop_interval")
        checks = VariantChecks(**{k: data[k] for k in CHECK_KEYS if k in data and k != "drop_interval"},
                               drop_interval=tuple(interval) if interval is not None else None)
        devices = data.get("devices")
        return cls(file=data["file"], sha256=data.get("sha256"), size_bytes=data.get("size_bytes"),
                   engine=data.get("engine", "onnxruntime"),
                   devices=tuple(devices) if devices is not None else LEGACY_DEVICES.get(name, LEGACY_OTHER_DEVICES),
                   recipe=data.get("recipe") or {}, checks=checks, data_files=dict(data.get("data_files") or {}),
                   extra={k: v for k, v in data.items() if k not in known})


@dataclass
class Manifest:
    """What a bundle holds and how it was made: the one description every stage reads."""

    task: str
    kind: AnswerKind  # what the predictor answers; written as `decode`, the answer kind's name
    labels: tuple[str, ...]
    max_length: int
    variants: dict[str, VariantEntry]  # in the order export made them: each after the one it is made from
    default_variant: str  # what ONNX Runtime loads on the CPU when no variant is named
    engine_defaults: dict[str, str] = field(default_factory=dict)  # per engine, when no variant is named
    decoding: str = "argmax"  # how NER tags are read from logits ("argmax" | "viterbi")
    truncation: str = "head"  # how long texts were cut in training ("head" | "head+tail" | ...)
    pooling: str | None = None  # informative: the graph pools by itself
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=lambda: ["logits"])
    tokenizer: str = TOKENIZER_FILE
    pad_token_id: int = 0
    base_model: str = ""
    model_type: str = ""
    source_checkpoint: str = ""  # the PyTorch checkpoint it was exported from, as an absolute path
    training: dict = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)  # the libraries that made it
    evaluation: dict | None = None  # the rows the variants were scored on, and PyTorch's metrics there
    rejected: list[str] = field(default_factory=list)  # variants export dropped, and why
    options: dict = field(default_factory=dict)  # export's options: atol, max_drop, opset
    units: dict = field(default_factory=dict)
    created: str = ""
    format_version: int = FORMAT_VERSION
    extra: dict = field(default_factory=dict)  # keys this toolkit does not know, kept as they were

    def variants_for(self, device: str) -> list[str]:
        """The variants meant to run on `device`, fastest first: those made for it alone (fp16 on a
        GPU, the int8 ones on a CPU), then the others, each before the variant it was made from
        (optimized before fp32)."""
        meant = [name for name, entry in self.variants.items() if entry.runs_on(device)]
        return sorted(reversed(meant), key=lambda name: self.variants[name].devices != (device,))

    def default_for(self, engine: str) -> str:
        """The variant an engine loads when none is named: the manifest's per-engine choice (the
        OpenVINO one where it kept accuracy), else the default variant."""
        chosen = self.engine_defaults.get(engine)
        return chosen if chosen in self.variants else self.default_variant

    def only(self, variant: str) -> Manifest:
        """This manifest for a bundle that keeps `variant` alone (what `toolkit package` ships)."""
        return replace(self, variants={variant: self.variants[variant]}, default_variant=variant,
                                   engine_defaults=dict.fromkeys(ENGINES, variant))

    def to_dict(self) -> dict:
        """The manifest as manifest.json holds it."""
        return {**self.extra,
                "format_version": self.format_version, "task": self.task, "decode": self.kind.name,
                "decoding": self.decoding, "truncation": self.truncation, "pooling": self.pooling,
                "labels": list(self.labels), "max_length": self.max_length, "inputs": list(self.inputs),
                "outputs": list(self.outputs), "tokenizer": self.tokenizer, "pad_token_id": self.pad_token_id,
                "base_model": self.base_model, "model_type": self.model_type,
                "source_checkpoint": self.source_checkpoint, "training": self.training, "versions": self.versions,
                "evaluation": self.evaluation,
                "variants": {name: entry.to_dict() for name, entry in self.variants.items()},
                "default_variant": self.default_variant, "engine_defaults": self.engine_defaults,
                "rejected": self.rejected, "options": self.options, "units": self.units, "created": self.created}

    @classmethod
    def from_dict(cls, data, where: str = "manifest.json") -> Manifest:
        """Check a manifest's JSON and read it; raises one BundleError naming every problem."""
        version = data.get("format_version") if isinstance(data, dict) else None
        if version != FORMAT_VERSION:
            raise BundleError(f"{where}: format_version {version!r} is not supported (this toolkit reads "
                              f"{FORMAT_VERSION}); re-export the bundle with this version.")
        problems = manifest_problems(data)
        if problems:
            raise BundleError(f"{where}: {'; '.join(problems)}. Re-export the bundle.")
        known = {f.name for f in fields(cls)} - {"kind", "variants", "extra"} | {"decode", "variants"}
        simple = {f.name: data[f.name] for f in fields(cls)
                  if f.name in data and f.name not in ("kind", "variants", "labels", "extra")}
        return cls(**simple, kind=KINDS[data["decode"]], labels=tuple(data["labels"]),
                   variants={name: VariantEntry.from_dict(name, entry) for name, entry in data["variants"].items()},
                   extra={k: v for k, v in data.items() if k not in known})


def whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def variant_problems(name: str, entry) -> list[str]:
    """Every problem of one variant's entry."""
    if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
        return [f"variant {name!r} has no file"]
    problems = []
    if not isinstance(entry.get("sha256"), str) or not SHA256.match(entry["sha256"]):
        problems.append(f"variant {name!r}: sha256 must be the 64 hex digits of its file's hash, found "
                        f"{entry.get('sha256')!r} (a variant is never run unchecked)")
    data_files = entry.get("data_files", {})
    if not isinstance(data_files, dict) or not all(isinstance(k, str) and k and isinstance(v, str) and SHA256.match(v)
                                                   for k, v in data_files.items()):
        problems.append(f"variant {name!r}: data_files must map each external data file to its sha256, found "
                        f"{data_files!r}")
    devices = entry.get("devices", list(DEVICES))
    if not isinstance(devices, list) or not devices or not all(d in DEVICES for d in devices):
        problems.append(f"variant {name!r}: devices must be a list of {', '.join(DEVICES)}, found {devices!r}")
    if entry.get("engine", "onnxruntime") not in ENGINES:
        problems.append(f"variant {name!r}: engine must be one of {', '.join(ENGINES)}, found {entry.get('engine')!r}")
    if not isinstance(entry.get("recipe", {}), dict):
        problems.append(f"variant {name!r}: recipe must be an object, found {entry.get('recipe')!r}")
    interval = entry.get("drop_interval")
    if interval is not None and not two_numbers(interval):
        problems.append(f"variant {name!r}: drop_interval must be two numbers, found {interval!r}")
    size = entry.get("size_bytes")
    if size is not None and not (whole(size) and size >= 0):
        problems.append(f"variant {name!r}: size_bytes must be a whole number, found {size!r}")
    if not isinstance(entry.get("parity", {}), dict):
        problems.append(f"variant {name!r}: parity must be an object, found {entry.get('parity')!r}")
    decision = entry.get("decision")
    if decision is not None and not (isinstance(decision, dict) and isinstance(decision.get("verdict"), str)
                                     and two_numbers(decision.get("drop_interval"))
                                     and whole(decision.get("rows"))):
        problems.append(f"variant {name!r}: decision must hold its verdict, rows and drop_interval, found "
                        f"{decision!r}")
    return problems


def two_numbers(value) -> bool:
    return (isinstance(value, list) and len(value) == 2
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value))


def manifest_problems(data) -> list[str]:
    """Every problem of a manifest's fields that the runtime relies on."""
    if not isinstance(data, dict):
        return [f"expected a JSON object, found {type(data).__name__}"]
    problems = []
    if not isinstance(data.get("decode"), str) or data["decode"] not in KINDS:  # a list would not hash
        problems.append(f"decode must be one of {', '.join(KINDS)}, found {data.get('decode')!r}")
    if not isinstance(data.get("task"), str) or not data.get("task"):
        problems.append(f"task must be a name, found {data.get('task')!r}")
    labels = data.get("labels")
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) and x for x in labels):
        problems.append(f"labels must be a list of at least two names, found {labels!r}")
    elif len(set(labels)) != len(labels):
        twice = sorted({label for label in labels if labels.count(label) > 1})
        problems.append(f"labels must be distinct, found {', '.join(map(repr, twice))} more than once")
    max_length = data.get("max_length")
    if not whole(max_length) or max_length < MIN_MAX_LENGTH:
        problems.append(f"max_length must be a whole number of at least {MIN_MAX_LENGTH}, found {max_length!r}")
    variants = data.get("variants")
    if not isinstance(variants, dict) or not variants:
        problems.append(f"variants must map variant names to their files, found {variants!r}")
    else:
        for name, entry in variants.items():
            problems += variant_problems(name, entry)
        if not isinstance(data.get("default_variant"), str) or data["default_variant"] not in variants:
            problems.append(f"default_variant {data.get('default_variant')!r} is not among the variants")
    if not whole(data.get("pad_token_id", 0)) or data.get("pad_token_id", 0) < 0:
        problems.append(f"pad_token_id must be a token id (a whole number of at least 0), found "
                        f"{data.get('pad_token_id')!r}")
    if data.get("evaluation") is not None and not isinstance(data["evaluation"], dict):
        problems.append(f"evaluation must be a JSON object, found {data['evaluation']!r}")
    for key, kind in (("engine_defaults", dict), ("training", dict), ("versions", dict), ("options", dict),
                      ("inputs", list), ("rejected", list)):
        if not isinstance(data.get(key, kind()), kind):
            problems.append(f"{key} must be a JSON {'object' if kind is dict else 'list'}, found {data.get(key)!r}")
    engine_defaults = data.get("engine_defaults", {})
    if isinstance(engine_defaults, dict) and not all(isinstance(v, str) for v in engine_defaults.values()):
        problems.append(f"engine_defaults must name a variant per engine, found {engine_defaults!r}")
    for key in ("decoding", "truncation"):
        if not isinstance(data.get(key, ""), str):
            problems.append(f"{key} must be a name, found {data.get(key)!r}")
    return problems
