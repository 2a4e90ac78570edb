"""Fine-tune a BERT-family model on a task with Hugging Face Trainer."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import SimpleNamespace

from toolkit.checkpoint import METRICS_FILE
from toolkit.config import TrainConfig
from toolkit.data import fingerprint, load_task_data
from toolkit.data.augment import augment_ner_split
from toolkit.errors import ToolkitError
from toolkit.hub import looks_like_path
from toolkit.scoring import majority_baseline
from toolkit.staging import recover, staged_directory
from toolkit.modeling import load_tokenizer, model_class_for, read_config, resolve_model
from toolkit.tasks import Task
from toolkit.train import presets
from toolkit.train.param_groups import layerwise_adamw

log = logging.getLogger(__name__)

CHECKPOINTS = ".checkpoints"  # Trainer's resumable state, removed once training completes
# What a saved checkpoint holds: --overwrite replaces a folder holding nothing else.
CHECKPOINT_FILE = re.compile(r"^(\.checkpoints|config\.json|generation_config\.json|.*\.safetensors(\.index\.json)?|"
                             r"pytorch_model.*\.bin|training_args\.bin|metrics\.json|mean_pooling\.py|tokenizer.*|"
                             r"vocab\.(txt|json)|merges\.txt|special_tokens_map\.json|added_tokens\.json|spm\.model|"
                             r".*sentencepiece.*\.model|README\.md)$")


@dataclass
class TrainResult:
    output_dir: Path
    metrics: dict


def with_task_defaults(task: Task, cfg: TrainConfig) -> TrainConfig:
    """Fill the options that default to the task's own: dataset, columns, output directory. A local
    dataset is recorded by its absolute path, so export and bench find it from any directory."""
    model_name = Path(cfg.model).name or "model"
    dataset = cfg.dataset or task.default_dataset
    return replace(
        cfg,
        dataset=str(Path(dataset).expanduser().resolve()) if looks_like_path(dataset) else dataset,
        text_column=cfg.text_column or task.text_column,
        label_column=cfg.label_column or task.label_column,
        output_dir=Path(cfg.output_dir or Path("runs") / f"{task.name}-{model_name}"),
    )


def resolve_hyperparameters(task: Task, cfg: TrainConfig, hidden_size: int,
                            model_type: str = "bert") -> presets.HyperParameters:
    """The preset's values, overridden by every option the user set."""
    chosen = presets.choose(cfg.preset, task, hidden_size, model_type)
    overrides = {k: getattr(cfg, k) for k in asdict(chosen) if getattr(cfg, k) is not None}
    return replace(chosen, **overrides)


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


def check_output_dir(cfg: TrainConfig) -> Path | None:
    """Refuse to overwrite a finished checkpoint unless asked; return the state --resume continues."""
    out = cfg.output_dir
    if cfg.resume:
        state = resumable_state(out / CHECKPOINTS) if (out / CHECKPOINTS).is_dir() else None
        if state is None:
            raise ToolkitError(f"--resume: no saved training state in {out / CHECKPOINTS} that was written "
                               "completely; run without --resume to start training.")
        return state
    if (out / "config.json").exists() and not cfg.overwrite:
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


def is_main_process() -> bool:
    """True on the process that writes files (rank 0 under torchrun / accelerate)."""
    return int(os.environ.get("RANK", "0")) == 0


def training_rows(task: Task, data, cfg: TrainConfig, hyper: presets.HyperParameters):
    """The training split, followed by mention-swapped copies of its sentences if asked (NER)."""
    if not hyper.augment_copies:
        return data.train
    if not task.word_input:
        raise ToolkitError("--augment-copies swaps entity mentions: it is for NER only.")
    rows = augment_ner_split(data.train, cfg.text_column, cfg.label_column, data.labels, hyper.augment_copies,
                             seed=cfg.seed)
    log.info("training rows with mention-swapped copies: %d", len(rows))
    return rows


def effective_max_length(requested: int, model_config, tokenizer) -> int:
    """The longest input the model takes: the request, capped by the position embeddings."""
    limits = [requested, getattr(model_config, "max_position_embeddings", requested)]
    if 0 < getattr(tokenizer, "model_max_length", 0) < 100_000:
        limits.append(tokenizer.model_max_length)
    return min(limits)


def train(task: Task, cfg: TrainConfig) -> TrainResult:
    """Fine-tune `cfg.model` on `task` and write a checkpoint with metrics.json to `cfg.output_dir`."""
    import datasets
    import transformers

    import toolkit
    from transformers import Trainer, TrainingArguments

    datasets.disable_progress_bars()  # Trainer's own bar is the one that matters

    cfg.check()
    cfg = with_task_defaults(task, cfg)
    if is_main_process():  # under torchrun the other ranks must not clean what rank 0 is writing
        recover(cfg.output_dir)
    resume_from = check_output_dir(cfg)
    model_path = resolve_model(cfg.model)
    data = load_task_data(task, cfg)
    tokenizer = load_tokenizer(model_path, task.word_input)
    model_config = read_config(model_path)
    cfg = replace(cfg, max_length=effective_max_length(cfg.max_length, model_config, tokenizer))
    hyper = resolve_hyperparameters(task, cfg, getattr(model_config, "hidden_size", 768), model_config.model_type)
    cfg = replace(cfg, truncation=hyper.truncation)
    log.info("hyper-parameters: %s", hyper)

    labels = data.labels

    def tokenize(split, options):
        return split.map(lambda b: task.preprocess(b, tokenizer, labels, options), batched=True,
                         remove_columns=split.column_names)

    train_rows = training_rows(task, data, cfg, hyper)
    # Evaluation reads the texts as the runtime will (sentiment: long texts in windows).
    eval_options = SimpleNamespace(**vars(cfg), for_evaluation=True)
    train_set = tokenize(train_rows, cfg)
    eval_set = tokenize(data.eval.add_column("example_index", list(range(len(data.eval)))), eval_options)
    model_class = model_class_for(task.model_class, hyper.pooling, model_config.model_type)
    transformers.set_seed(cfg.seed)
    model = model_class.from_pretrained(
        model_path, num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)}, ignore_mismatched_sizes=True,
    )
    import torch

    on_cpu = not torch.cuda.is_available()
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    args = TrainingArguments(
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
    optimizer = None  # None: Trainer's own AdamW, one rate for all
    if hyper.layer_lr_decay != 1.0 or hyper.head_lr_multiplier != 1.0:
        optimizer = layerwise_adamw(model, hyper.learning_rate, hyper.weight_decay, hyper.layer_lr_decay,
                                    hyper.head_lr_multiplier, args)
    trainer = Trainer(model=model, args=args, train_dataset=train_set,
                      data_collator=getattr(transformers, task.collator)(tokenizer), optimizers=(optimizer, None))
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    train_runtime_s = time.perf_counter() - started

    started = time.perf_counter()
    prediction = trainer.predict(eval_set)
    eval_runtime_s = time.perf_counter() - started
    windows = eval_set["example_index"] if "example_index" in eval_set.column_names else None
    metrics = task.compute_metrics(prediction.predictions, prediction.label_ids, labels, hyper.decoding,
                                   example_index=windows)
    baseline = majority_baseline(task, prediction.predictions, prediction.label_ids, labels, windows)
    metric = task.primary_metric
    if metrics[metric] <= baseline[metric]:
        log.warning("the model's %s %.4f is at or below the majority baseline's %.4f (always answering %r): it "
                    "has not learned the task. Train longer, raise --learning-rate, or check the labels.",
                    metric, metrics[metric], baseline[metric], baseline["answer"])
    metrics.update(
        task=task.name,
        train_runtime_s=round(train_runtime_s, 2),
        eval_runtime_s=round(eval_runtime_s, 2),
        train_examples=len(data.train),
        train_rows_with_augmentation=len(train_rows),
        train_inputs=len(train_set),  # more than the rows where long texts were cut into windows
        eval_examples=len(data.eval),
        eval_inputs=len(eval_set),  # more than eval_examples where long texts were read in windows
        eval_split=data.eval_split,
        evaluation={"dataset": cfg.dataset, "split": data.eval_split, "size": cfg.eval_size, "seed": cfg.seed,
                    "examples": len(data.eval),
                    "fingerprint": fingerprint(data.eval, (cfg.text_column, cfg.label_column))},
        baseline=baseline,
        at_or_below_baseline=metrics[metric] <= baseline[metric],
        world_size=args.world_size,
        labels=list(labels),
        model_source=model_path,
        hyperparameters=asdict(hyper),
        options={k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
        versions={"transformers": transformers.__version__, "toolkit": toolkit.__version__},
    )
    if trainer.is_world_process_zero():
        model.config.toolkit_task = task.name  # inspect_checkpoint reads the task from here first
        model.config.toolkit_decoding = hyper.decoding  # export, bench and the runtime decode alike
        model.config.toolkit_truncation = hyper.truncation
        model.config.toolkit_pooling = hyper.pooling
        # The checkpoint is complete in a staging folder before it replaces --output-dir: a crash or a
        # full disk while saving never leaves half a checkpoint, nor loses the one it replaces.
        with staged_directory(cfg.output_dir) as staging:
            trainer.save_model(str(staging))
            tokenizer.save_pretrained(str(staging))
            (staging / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
            if (cfg.output_dir / CHECKPOINTS).is_dir():
                os.replace(cfg.output_dir / CHECKPOINTS, staging / CHECKPOINTS)
            shutil.rmtree(staging / CHECKPOINTS, ignore_errors=True)  # resumable state: done with
    return TrainResult(output_dir=cfg.output_dir, metrics=metrics)
