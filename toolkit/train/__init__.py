"""Fine-tune a BERT-family model on a task with Hugging Face Trainer.

A run is prepared (options resolved once, model, tokenizer, encoded data: prepare.py), fitted
(fit.py), then recorded (metrics.json, record.py) and saved (output_dir.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from toolkit.config import TrainConfig
from toolkit.tasks import Task
from toolkit.train.fit import fit_model, log
from toolkit.train.output_dir import is_main_process, save_checkpoint
from toolkit.train.prepare import prepare_run
from toolkit.train.record import record_settings, training_record

__all__ = ["TrainResult", "is_main_process", "train"]


@dataclass
class TrainResult:
    output_dir: Path
    metrics: dict


def train(task: Task, cfg: TrainConfig, echo: Callable[[str], None] = log.info) -> TrainResult:
    """Fine-tune `cfg.model` on `task` and write a checkpoint with metrics.json to `cfg.output_dir`; `echo`
    gets the start summary and one line per evaluation during training."""
    import datasets

    datasets.disable_progress_bars()  # Trainer's own bar is the one that matters
    run = prepare_run(task, cfg)
    fitted = fit_model(task, run, echo)
    metrics = training_record(task, run, fitted)
    if fitted.trainer.is_world_process_zero():
        record_settings(fitted.trainer.model.config, task, run)
        save_checkpoint(fitted.trainer, run.tokenizer, metrics, run.cfg.output_dir)
    return TrainResult(output_dir=run.cfg.output_dir, metrics=metrics)
