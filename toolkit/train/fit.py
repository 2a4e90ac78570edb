"""Train the model of a prepared run with Hugging Face Trainer, and predict its evaluation set."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from toolkit.modeling import model_class_for
from toolkit.tasks import Task
from toolkit.train.output_dir import CHECKPOINTS, disk_full, is_disk_full
from toolkit.train.param_groups import layerwise_adamw
from toolkit.train.prepare import TrainingRun


@dataclass
class FittedModel:
    trainer: object  # transformers.Trainer, holding the trained model
    prediction: object  # transformers' PredictionOutput on the run's evaluation set
    train_runtime_s: float
    eval_runtime_s: float


def training_arguments(run: TrainingRun):
    """Trainer's arguments: the resolved hyper-parameters, saving each epoch for --resume, evaluating never."""
    import torch
    from transformers import TrainingArguments

    cfg, hyper = run.cfg, run.hyper
    on_cpu = not torch.cuda.is_available()
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    return TrainingArguments(
        output_dir=str(cfg.output_dir / CHECKPOINTS),
        learning_rate=hyper.learning_rate,
        num_train_epochs=hyper.epochs,
        per_device_train_batch_size=hyper.batch_size,
        per_device_eval_batch_size=max(hyper.batch_size, 32),
        weight_decay=hyper.weight_decay,
        warmup_ratio=hyper.warmup_ratio,
        lr_scheduler_type=hyper.lr_scheduler,
        max_steps=cfg.max_steps or -1,
        seed=cfg.seed,
        eval_strategy="no",  # never select anything by the evaluation split
        save_strategy="epoch",
        save_total_limit=1,
        logging_steps=50,
        report_to="none",
        disable_tqdm=False,
        dataloader_pin_memory=False,
        # Without use_cpu, accelerate does not form a process group on CPU-only machines, and each
        # torchrun process would train alone on the whole data. gloo is the CPU backend.
        use_cpu=on_cpu,
        ddp_backend="gloo" if on_cpu and distributed else None,
        ddp_find_unused_parameters=False,
    )


def fit_model(task: Task, run: TrainingRun) -> FittedModel:
    """Put the task's head on the model, train it, and predict the evaluation set once."""
    import transformers
    from transformers import Trainer

    hyper, labels = run.hyper, run.labels
    model_class = model_class_for(task.model_class, hyper.pooling, run.model_config.model_type)
    transformers.set_seed(run.cfg.seed)
    model = model_class.from_pretrained(
        run.model_path, num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)}, ignore_mismatched_sizes=True,
    )
    args = training_arguments(run)
    optimizer = None  # None: Trainer's own AdamW, one rate for all
    if hyper.layer_lr_decay != 1.0 or hyper.head_lr_multiplier != 1.0:
        optimizer = layerwise_adamw(model, hyper.learning_rate, hyper.weight_decay, hyper.layer_lr_decay,
                                    hyper.head_lr_multiplier, args)
    trainer = Trainer(model=model, args=args, train_dataset=run.train_set,
                      data_collator=getattr(transformers, task.collator)(run.tokenizer), optimizers=(optimizer, None))
    started = time.perf_counter()
    try:
        trainer.train(resume_from_checkpoint=str(run.resume_from) if run.resume_from else None)
    except (OSError, RuntimeError) as error:  # Trainer saves its resumable state each epoch
        if is_disk_full(error):
            raise disk_full(run.cfg.output_dir, "saving the training state") from error
        raise
    train_runtime_s = time.perf_counter() - started

    started = time.perf_counter()
    prediction = trainer.predict(run.eval_set)
    return FittedModel(trainer=trainer, prediction=prediction, train_runtime_s=train_runtime_s,
                       eval_runtime_s=time.perf_counter() - started)
