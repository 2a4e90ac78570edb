"""What `toolkit evaluate` was pointed at: a checkpoint or a bundle, which models it runs, and which
checkpoint its evaluation rows come from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from toolkit.checkpoint import Checkpoint, bundle_checkpoint, inspect_checkpoint, source_checkpoint
from toolkit.errors import ModelError, ToolkitError
from toolkit.runtime.bundle import MANIFEST_FILE, load_bundle

PYTORCH = "pytorch"


@dataclass
class Target:
    kind: str  # "checkpoint" | "bundle"
    checkpoint: Checkpoint  # where the evaluation rows, task, labels and decoding come from
    subject: str  # the model whose mistakes are analysed: "pytorch" or a variant
    max_length: int | None  # a bundle's; None: the checkpoint's own
    models: dict[str, Callable] = field(default_factory=dict)  # name -> makes its backend; PyTorch first
    reference: Path | None = None  # the PyTorch checkpoint the answers are compared with


def open_target(model_dir: Path, variant: str | None, notes: list[str]) -> Target:
    """Describe a checkpoint or a bundle directory and the models to evaluate in it."""
    if (model_dir / MANIFEST_FILE).is_file():
        return open_bundle(model_dir, variant, notes)
    if not (model_dir / "config.json").is_file():
        raise ModelError(f"{model_dir} is neither a checkpoint (a directory with config.json and weights, made by "
                         f"`toolkit train`) nor a bundle (a directory with {MANIFEST_FILE}, made by `toolkit export`).")
    if variant:
        raise ToolkitError(f"--variant {variant}: {model_dir} is a checkpoint, which has no variants; pass a bundle "
                           "made by `toolkit export` to evaluate one of its variants.")
    checkpoint = inspect_checkpoint(model_dir)
    return Target(kind="checkpoint", checkpoint=checkpoint, subject=PYTORCH, max_length=None,
                  models={PYTORCH: torch_maker(checkpoint)}, reference=model_dir)


def torch_maker(checkpoint: Checkpoint) -> Callable:
    """Make the checkpoint's PyTorch backend when called (models load one at a time, when evaluated)."""
    def make():
        from toolkit.backends import TorchBackend

        return TorchBackend(checkpoint.directory, checkpoint.task.model_class)

    return make


def variant_maker(bundle, name: str) -> Callable:
    """Make a variant's backend, on the engine it was made for, when called."""
    def make():
        from toolkit.backends import variant_backend

        return variant_backend(bundle, name)

    return make


def reference_checkpoint(bundle, notes: list[str]) -> Checkpoint | None:
    """The bundle's source checkpoint, when it is still there and is the bundle's model."""
    checkpoint, problem = source_checkpoint(bundle)
    if checkpoint is None:
        notes.append(f"no PyTorch reference: {problem}, so the variants' answers are not compared with PyTorch's")
    return checkpoint


def open_bundle(bundle_dir: Path, variant: str | None, notes: list[str]) -> Target:
    """The bundle's variants that run on a CPU, and PyTorch when its source checkpoint is there."""
    bundle = load_bundle(bundle_dir)
    subject = variant or bundle.default_variant
    if subject not in bundle.variants:
        raise ToolkitError(f"--variant {subject}: not in the bundle, which has {', '.join(bundle.variants)}.")
    runnable = [name for name in bundle.variants if bundle.variants[name].runs_on("cpu")]
    if subject not in runnable:
        raise ToolkitError(f"--variant {subject} is meant for {', '.join(bundle.variants[subject].devices)}; "
                           f"evaluation runs on the CPU: choose one of {', '.join(runnable)}.")
    for skipped in (name for name in bundle.variants if name not in runnable):
        notes.append(f"{skipped} not evaluated: it is meant for {', '.join(bundle.variants[skipped].devices)}")
    for name in runnable:
        bundle.verify(name)  # a damaged or altered model file is never evaluated
    reference = reference_checkpoint(bundle, notes)
    models = {PYTORCH: torch_maker(reference)} if reference else {}
    models.update({name: variant_maker(bundle, name) for name in runnable})
    return Target(kind="bundle", checkpoint=reference or bundle_checkpoint(bundle), subject=subject,
                  max_length=bundle.max_length, models=models, reference=reference.directory if reference else None)
