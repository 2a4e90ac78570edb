"""What `--output-dir` may hold: the checks before training, and the staged save of the checkpoint after."""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
from pathlib import Path

from toolkit.checkpoint import METRICS_FILE
from toolkit.errors import ToolkitError
from toolkit.options import unwritable
from toolkit.staging import staged_directory

log = logging.getLogger(__name__)

CHECKPOINTS = ".checkpoints"  # Trainer's resumable state, removed once training completes
# What a saved checkpoint holds: --overwrite replaces a folder holding nothing else.
CHECKPOINT_FILE = re.compile(r"^(\.checkpoints|config\.json|generation_config\.json|.*\.safetensors(\.index\.json)?|"
                             r"pytorch_model.*\.bin|training_args\.bin|metrics\.json|mean_pooling\.py|tokenizer.*|"
                             r"vocab\.(txt|json)|merges\.txt|special_tokens_map\.json|added_tokens\.json|spm\.model|"
                             r".*sentencepiece.*\.model|README\.md)$")


def is_main_process() -> bool:
    """True on the process that writes files (rank 0 under torchrun / accelerate)."""
    return int(os.environ.get("RANK", "0")) == 0


def resumable_state(state_dir: Path) -> Path | None:
    """The newest complete Trainer checkpoint in `state_dir`; half-written newer ones are removed.

    Trainer writes trainer_state.json after the weights, optimizer and scheduler, so a checkpoint
    whose trainer_state.json reads back was saved whole (a kill mid-save leaves it without one).
    """
    candidates = sorted(state_dir.glob("checkpoint-*"), reverse=True,
                        key=lambda p: int(p.name.rpartition("-")[2]) if p.name.rpartition("-")[2].isdigit() else -1)
    for candidate in candidates:
        try:
            json.loads((candidate / "trainer_state.json").read_text())
        except (OSError, ValueError):
            log.warning("ignoring %s: it was not saved completely", candidate)
            shutil.rmtree(candidate, ignore_errors=True)
            continue
        return candidate
    return None


def check_output_dir(out: Path, resume: bool, overwrite: bool) -> Path | None:
    """Refuse to overwrite a finished checkpoint unless asked; return the state --resume continues."""
    reason = unwritable(out / CHECKPOINTS)  # Trainer first writes there after an epoch: say so now
    if reason:
        raise ToolkitError(f"--output-dir {out}: {reason}; choose a writable place.")
    if resume:
        state = resumable_state(out / CHECKPOINTS) if (out / CHECKPOINTS).is_dir() else None
        if state is None:
            raise ToolkitError(f"--resume: no saved training state in {out / CHECKPOINTS} that was written "
                               "completely; run without --resume to start training.")
        return state
    if (out / "config.json").exists() and not overwrite:
        raise ToolkitError(f"{out} already holds a checkpoint: pass --overwrite to replace it, "
                           "or choose another --output-dir.")
    foreign = sorted(p.name for p in out.iterdir() if not CHECKPOINT_FILE.match(p.name)) if out.is_dir() else []
    if foreign and (out / "config.json").exists():
        raise ToolkitError(f"{out} holds files a checkpoint does not ({', '.join(foreign[:3])}"
                           f"{', ...' if len(foreign) > 3 else ''}); --overwrite replaces a checkpoint only: move them "
                           "out first, or choose another --output-dir.")
    others = [p.name for p in out.iterdir() if p.name != CHECKPOINTS] if out.is_dir() else []
    if others and not (out / "config.json").exists():
        raise ToolkitError(f"--output-dir {out} holds files that are not a checkpoint ({', '.join(sorted(others)[:3])}"
                           f"{', ...' if len(others) > 3 else ''}); training only ever replaces a checkpoint: choose "
                           "a new or empty directory.")
    return None


def is_disk_full(error: BaseException) -> bool:
    """Whether `error` is a write that failed for want of space.

    torch.save (Trainer's optimizer state) says so without an errno: RuntimeError "[enforce fail at
    inline_container.cc:672] . unexpected pos 704 vs 598" (PyTorch's PytorchStreamWriter).
    """
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    message = str(error)  # a reader's failure (PytorchStreamReader, a truncated file) says nothing of the disk
    return isinstance(error, RuntimeError) and "inline_container.cc" in message and any(
        sign in message for sign in ("unexpected pos", "PytorchStreamWriter", "file write failed"))


def disk_full(out: Path, what: str) -> ToolkitError:
    """Remove what a save cut short left in `out`'s resumable state, and say in one line which disk is full."""
    state_dir = out / CHECKPOINTS
    state = resumable_state(state_dir) if state_dir.is_dir() else None  # removes a half-written checkpoint-N
    if state_dir.is_dir() and not any(state_dir.iterdir()):
        state_dir.rmdir()
    place = next(p for p in (out, *out.absolute().parents) if p.exists())
    free = shutil.disk_usage(place).free / 1e6
    resume = f"; --resume continues from {state.name}" if state else ""
    return ToolkitError(f"the disk holding {out} is full ({free:.0f} MB free) while {what}: nothing half-written "
                        f"was kept. Free space there or pass --output-dir on another disk, then run again{resume}.")


def save_checkpoint(trainer, tokenizer, metrics: dict, out: Path) -> None:
    """Write the trained model, its tokenizer and metrics.json to `out`, and drop the resumable state.

    The checkpoint is complete in a staging folder before it replaces `out`: a crash or a full disk
    while saving never leaves half a checkpoint, nor loses the one it replaces.
    """
    try:
        with staged_directory(out) as staging:
            trainer.save_model(str(staging))
            tokenizer.save_pretrained(str(staging))
            (staging / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
            if (out / CHECKPOINTS).is_dir():
                os.replace(out / CHECKPOINTS, staging / CHECKPOINTS)
            shutil.rmtree(staging / CHECKPOINTS, ignore_errors=True)  # resumable state: done with
    except (OSError, RuntimeError) as error:
        if is_disk_full(error):
            raise disk_full(out, "saving the trained model") from error
        raise
