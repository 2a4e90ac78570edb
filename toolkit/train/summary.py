"""What training tells its user while it runs: a summary before the first step (model and size, task,
labels, rows, steps, an estimate of the time) and one line per evaluation during training."""

from __future__ import annotations

import math
import time
from typing import Callable

from toolkit.tasks import Task
from toolkit.train.prepare import TrainingRun

TIMED_STEPS = 2  # the first step pays for warm-up: the estimate takes the faster of two


def planned_steps(run: TrainingRun, world_size: int = 1) -> int:
    """Optimizer steps the run will take: --max-steps, or epochs over the training inputs."""
    if run.cfg.max_steps:
        return run.cfg.max_steps
    per_epoch = math.ceil(len(run.train_set) / (run.hyper.batch_size * world_size))
    return math.ceil(per_epoch * run.hyper.epochs)


def step_seconds(model, run: TrainingRun, collator) -> float:
    """Seconds one training step takes on this machine, from a forward and backward pass on a first batch.

    Run before Trainer is built: Trainer seeds every generator again, so the timed passes change
    nothing the run will do; their gradients are dropped."""
    import torch

    features = [run.train_set[i] for i in range(min(run.hyper.batch_size, len(run.train_set)))]
    batch = collator(features)
    device = next(model.parameters()).device
    batch = {k: v.to(device) for k, v in batch.items() if isinstance(v, torch.Tensor)}
    model.train()
    fastest = math.inf
    for _ in range(TIMED_STEPS):
        started = time.perf_counter()
        model(**batch).loss.backward()
        fastest = min(fastest, time.perf_counter() - started)
    model.zero_grad(set_to_none=True)
    return fastest


def count_text(count: int) -> str:
    """A count as a person reads it: 22.7M, 64k."""
    return f"{count / 1e6:.1f}M" if count >= 1e6 else f"{count / 1e3:.0f}k"


def duration_text(seconds: float) -> str:
    """A duration as a person reads it: 40 s, 12 min, 1.5 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def start_summary(task: Task, run: TrainingRun, parameters: int, steps: int, seconds_per_step: float) -> list[str]:
    """The lines shown before training starts."""
    cfg, hyper, data = run.cfg, run.hyper, run.data
    labels = ", ".join(run.labels[:12]) + (", ..." if len(run.labels) > 12 else "")
    unlabeled = run.distillation.unlabeled_rows if run.distillation else 0
    rows = len(run.train_rows) + unlabeled
    inputs = f" ({len(run.train_set)} inputs)" if len(run.train_set) != rows else ""
    unlabeled_text = f" + {unlabeled} unlabelled (the teacher's answers alone)" if unlabeled else ""
    evaluation = ("no evaluation during training" if cfg.eval_every == "no" else
                  f"scored on the evaluation split every {cfg.eval_every}" + (" step(s)" if cfg.eval_every.isdigit()
                                                                              else ""))
    return [
        f"training {task.name}: {cfg.model} ({run.model_config.model_type}, {count_text(parameters)} parameters)",
        f"labels ({len(run.labels)}): {labels}",
        f"rows: {len(run.train_rows)} train{unlabeled_text}{inputs} from {cfg.dataset}; {len(data.eval)} evaluation "
        f"({data.eval_split} split)",
        f"steps: {steps} of batch {hyper.batch_size} at learning rate {hyper.learning_rate:g}"
        + ("" if cfg.max_steps else f" ({hyper.epochs:g} epochs)") + f"; {evaluation}",
        f"estimate: about {duration_text(steps * seconds_per_step)} of training on this machine "
        f"({seconds_per_step:.2f} s per step), then the evaluation",
        f"checkpoint: {cfg.output_dir}",
    ]


def evaluation_line(metrics: dict, metric: str, epoch: float | None, step: int) -> str:
    """One evaluation during training, e.g. `epoch 2 (step 250): f1 0.8123, eval loss 0.2100`."""
    where = f"epoch {epoch:g} (step {step})" if epoch is not None else f"step {step}"
    score = metrics.get(f"eval_{metric}")
    loss = metrics.get("eval_loss")
    parts = [f"{metric} {score:.4f}" if score is not None else None,
             f"eval loss {loss:.4f}" if loss is not None else None]
    return f"{where}: " + ", ".join(p for p in parts if p)


def evaluation_echo(metric: str, echo: Callable[[str], None]):
    """A Trainer callback that echoes one line per evaluation (built lazily: transformers is heavy)."""
    from transformers import TrainerCallback

    class EchoEvaluation(TrainerCallback):
        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            if state.is_world_process_zero and metrics:
                echo(evaluation_line(metrics, metric, state.epoch, state.global_step))

    return EchoEvaluation()
