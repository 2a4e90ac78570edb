"""Everything a training run needs before it starts: its options resolved once, the model's files,
the tokenizer, and the data, encoded as the task encodes it."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from toolkit.config import TrainConfig
from toolkit.data import TaskData, load_task_data
from toolkit.data.augment import augment_ner_split
from toolkit.errors import ToolkitError
from toolkit.hub import looks_like_path
from toolkit.modeling import load_tokenizer, read_config, resolve_model
from toolkit.staging import recover
from toolkit.tasks import Encoding, Task
from toolkit.tasks.ner import IGNORE
import toolkit.train.presets as presets
import toolkit.train.distill as distill
from toolkit.train.output_dir import check_output_dir, is_main_process

log = logging.getLogger(__name__)


@dataclass
class TrainingRun:
    """A run ready to train: nothing in it changes once training starts."""

    cfg: TrainConfig  # every option filled in: the task's defaults, the model's length limit, the preset's truncation
    hyper: presets.HyperParameters
    resume_from: Path | None  # the Trainer state --resume continues from
    model_path: str
    model_config: object  # transformers.PretrainedConfig
    tokenizer: object
    data: TaskData
    train_rows: object  # datasets.Dataset: the training split, with mention-swapped copies if asked
    train_set: object  # datasets.Dataset: train_rows encoded
    eval_set: object  # datasets.Dataset: the evaluation split encoded as the runtime reads it
    distillation: distill.Distillation | None = None  # with --teacher: train_set carries the teacher's targets

    @property
    def labels(self) -> tuple[str, ...]:
        return self.data.labels


def default_output_dir(task: Task, cfg: TrainConfig) -> Path:
    """--output-dir, or runs/TASK-MODEL without it."""
    return Path(cfg.output_dir or Path("runs") / f"{task.name}-{Path(cfg.model).name or 'model'}")


def resolve_hyperparameters(task: Task, cfg: TrainConfig, hidden_size: int,
                            model_type: str = "bert") -> presets.HyperParameters:
    """The preset's values, overridden by every option the user set."""
    chosen = presets.choose(cfg.preset, task, hidden_size, model_type)
    overrides = {k: getattr(cfg, k) for k in asdict(chosen) if getattr(cfg, k) is not None}
    return replace(chosen, **overrides)


def effective_max_length(requested: int, model_config, tokenizer) -> int:
    """The longest input the model takes: the request, capped by the position embeddings."""
    limits = [requested, getattr(model_config, "max_position_embeddings", requested)]
    if 0 < getattr(tokenizer, "model_max_length", 0) < 100_000:
        limits.append(tokenizer.model_max_length)
    return min(limits)


def report_integrations(report_to: list[str]) -> list[str]:
    """--report-to as Trainer takes it, after checking that each named integration is installed."""
    from transformers.integrations import get_available_reporting_integrations

    wanted = [name for name in report_to if name != "none"]
    if "all" in wanted:
        return get_available_reporting_integrations()
    missing = sorted(set(wanted) - set(get_available_reporting_integrations()))
    if missing:
        raise ToolkitError(f"--report-to {','.join(missing)}: not installed here (pip install {' '.join(missing)}), "
                           f"or leave it out; installed: {', '.join(get_available_reporting_integrations()) or 'none'}.")
    return wanted or ["none"]


def resolve_options(task: Task, cfg: TrainConfig, model_config,
                    tokenizer) -> tuple[TrainConfig, presets.HyperParameters]:
    """Fill every option that defaults to something: the task's dataset and columns, the output
    directory, the longest input the model takes, and the preset's hyper-parameters under the
    user's. A local dataset is recorded by its absolute path, so export and bench find it from any
    directory."""
    hyper = resolve_hyperparameters(task, cfg, getattr(model_config, "hidden_size", 768), model_config.model_type)
    dataset = cfg.dataset or task.default_dataset
    resolved = replace(
        cfg,
        dataset=str(Path(dataset).expanduser().resolve()) if looks_like_path(dataset) else dataset,
        text_column=cfg.text_column or task.text_column,
        label_column=cfg.label_column or task.label_column,
        output_dir=default_output_dir(task, cfg),
        max_length=effective_max_length(cfg.max_length, model_config, tokenizer),
        truncation=hyper.truncation,
        report_to=report_integrations(cfg.report_to),
    )
    return resolved, hyper


def training_rows(task: Task, data: TaskData, cfg: TrainConfig, hyper: presets.HyperParameters):
    """The training split, followed by mention-swapped copies of its sentences if asked (NER)."""
    if not hyper.augment_copies:
        return data.train
    if not task.word_input:
        raise ToolkitError("--augment-copies swaps entity mentions: it is for NER only.")
    rows = augment_ner_split(data.train, cfg.text_column, cfg.label_column, data.labels, hyper.augment_copies,
                             seed=cfg.seed)
    log.info("training rows with mention-swapped copies: %d", len(rows))
    return rows


def encode(task: Task, rows, tokenizer, labels: tuple[str, ...], encoding: Encoding):
    """`rows` as model inputs with aligned labels (a long text may give several rows)."""
    return rows.map(lambda batch: task.preprocess(batch, tokenizer, labels, encoding), batched=True,
                    remove_columns=rows.column_names)


def distilled_training_set(task: Task, cfg: TrainConfig, teacher: distill.Teacher, data: TaskData, rows,
                           tokenizer, encoding: Encoding):
    """The labelled rows and the unlabelled ones (gold labels ignored), encoded, with the teacher's targets."""
    import datasets

    distill.check_teacher_labels(teacher, data.labels)
    cache_dir = Path(cfg.output_dir).resolve().parent / distill.CACHE_DIR
    unlabeled = distill.unlabeled_rows(task, cfg)
    parts = [rows]
    if unlabeled is not None:  # placeholder labels to encode them by; the loss ignores them (see below)
        parts.append(unlabeled.add_column(cfg.label_column, [[0] * len(t) if task.word_input else 0
                                                             for t in unlabeled[cfg.text_column]]))
    encoded_parts = []
    for labelled, part in zip((True, False), parts):
        texts = list(part[cfg.text_column])
        if not task.word_input:  # a text read in windows must find its teacher's answer
            part = part.add_column("example_index", list(range(len(part))))
        encoded = encode(task, part, tokenizer, data.labels, encoding)
        if not labelled:
            encoded = encoded.map(lambda b: {"labels": [[IGNORE] * len(x) if isinstance(x, list) else IGNORE
                                                        for x in b["labels"]]}, batched=True)
        outputs = distill.cached_teacher_outputs(teacher, task, texts, cache_dir)
        encoded_parts.append(distill.with_teacher_targets(task, encoded, texts, outputs, tokenizer, cfg.max_length))
    score = distill.teacher_score(task, teacher, data.eval, cfg, cache_dir)
    log.info("teacher %s on the evaluation rows: %s %.4f", teacher.directory, task.primary_metric,
             score[task.primary_metric])
    record = distill.Distillation(
        teacher={**teacher.describe(), "score": score}, temperature=cfg.temperature,
        distill_weight=cfg.distill_weight, unlabeled_rows=0 if unlabeled is None else len(unlabeled),
        unlabeled_source=None if unlabeled is None else (cfg.unlabeled_dataset or
                                                        f"{cfg.dataset} train split after the first {len(data.train)}"))
    return datasets.concatenate_datasets(encoded_parts), record


def prepare_run(task: Task, cfg: TrainConfig) -> TrainingRun:
    """Check the options and --output-dir, then resolve the model, the options and the data."""
    cfg.check()
    output_dir = default_output_dir(task, cfg)
    if is_main_process():  # under torchrun the other ranks must not clean what rank 0 is writing
        recover(output_dir)
    resume_from = check_output_dir(output_dir, cfg.resume, cfg.overwrite)
    model_path = resolve_model(cfg.model)
    teacher = distill.load_teacher(cfg.teacher, task) if cfg.teacher is not None else None
    tokenizer = load_tokenizer(model_path, task.word_input)
    model_config = read_config(model_path)
    cfg, hyper = resolve_options(task, cfg, model_config, tokenizer)
    log.info("hyper-parameters: %s", hyper)
    data = load_task_data(task, cfg)
    rows = training_rows(task, data, cfg, hyper)
    encoding = Encoding(text_column=cfg.text_column, label_column=cfg.label_column, max_length=cfg.max_length,
                        label_all_tokens=cfg.label_all_tokens, truncation=cfg.truncation)
    # Evaluation reads the texts as the runtime will (sentiment: long texts in windows).
    evaluated = data.eval.add_column("example_index", list(range(len(data.eval))))
    train_set, distillation = encode(task, rows, tokenizer, data.labels, encoding), None
    if teacher is not None:
        train_set, distillation = distilled_training_set(task, cfg, teacher, data, rows, tokenizer, encoding)
    return TrainingRun(
        cfg=cfg, hyper=hyper, resume_from=resume_from, model_path=model_path, model_config=model_config,
        tokenizer=tokenizer, data=data, train_rows=rows, train_set=train_set,
        eval_set=encode(task, evaluated, tokenizer, data.labels, replace(encoding, for_evaluation=True)),
        distillation=distillation,
    )
