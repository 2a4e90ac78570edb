"""What a checkpoint records of its training: metrics.json, and the settings config.json carries
for export, bench and the runtime."""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

from toolkit.data import fingerprint
from toolkit.scoring import majority_baseline
from toolkit.tasks import Task
from toolkit.train.fit import FittedModel
from toolkit.train.prepare import TrainingRun

log = logging.getLogger(__name__)


def training_record(task: Task, run: TrainingRun, fitted: FittedModel) -> dict:
    """metrics.json: the task's metrics on the evaluation set beside the majority baseline's, and
    how the run was made (data, options, hyper-parameters, versions); warns when the model is no
    better than the baseline."""
    import transformers

    import toolkit

    cfg, data, labels, eval_set = run.cfg, run.data, run.labels, run.eval_set
    prediction = fitted.prediction
    windows = eval_set["example_index"] if "example_index" in eval_set.column_names else None
    metrics = task.compute_metrics(prediction.predictions, prediction.label_ids, labels, run.hyper.decoding,
                                   example_index=windows)
    baseline = majority_baseline(task, prediction.predictions, prediction.label_ids, labels, windows)
    metric = task.primary_metric
    if metrics[metric] <= baseline[metric]:
        log.warning("the model's %s %.4f is at or below the majority baseline's %.4f (always answering %r): it "
                    "has not learned the task. Train longer, raise --learning-rate, or check the labels.",
                    metric, metrics[metric], baseline[metric], baseline["answer"])
    metrics.update(
        task=task.name,
        train_runtime_s=round(fitted.train_runtime_s, 2),
        eval_runtime_s=round(fitted.eval_runtime_s, 2),
        train_examples=len(data.train),
        train_rows_with_augmentation=len(run.train_rows),
        train_inputs=len(run.train_set),  # more than the rows where long texts were cut into windows
        eval_examples=len(data.eval),
        eval_inputs=len(eval_set),  # more than eval_examples where long texts were read in windows
        eval_split=data.eval_split,
        evaluation={"dataset": cfg.dataset, "split": data.eval_split, "size": cfg.eval_size, "seed": cfg.seed,
                    "examples": len(data.eval),
                    "fingerprint": fingerprint(data.eval, (cfg.text_column, cfg.label_column))},
        baseline=baseline,
        at_or_below_baseline=metrics[metric] <= baseline[metric],
        world_size=fitted.trainer.args.world_size,
        labels=list(labels),
        model_source=run.model_path,
        hyperparameters=asdict(run.hyper),
        options={k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
        distillation=run.distillation.record() if run.distillation is not None else None,
        versions={"transformers": transformers.__version__, "toolkit": toolkit.__version__},
    )
    return metrics


def record_settings(model_config, task: Task, run: TrainingRun) -> None:
    """Write into the model's config what later stages read from the checkpoint itself."""
    model_config.toolkit_task = task.name  # inspect_checkpoint reads the task from here first
    model_config.toolkit_decoding = run.hyper.decoding  # export, bench and the runtime decode alike
    model_config.toolkit_truncation = run.hyper.truncation
    model_config.toolkit_pooling = run.hyper.pooling
