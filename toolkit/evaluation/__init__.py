"""Evaluate a checkpoint or a bundle on labelled rows: the task's scores, what the model gets wrong, and
where a bundle's variants answer differently from PyTorch."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from toolkit.checkpoint import evaluation_set
from toolkit.config import EvaluateConfig
from toolkit.errors import DataError
from toolkit.evaluation import ner, sentiment
from toolkit.evaluation.differences import compare
from toolkit.evaluation.targets import PYTORCH, open_target
from toolkit.progress import bar
from toolkit.runtime.answers import ENTITIES, LABEL
from toolkit.scoring import EVAL_BATCH_SIZE, collect_logits, majority_baseline
from toolkit.tasks.ner import IGNORE

log = logging.getLogger(__name__)

ANALYSES = {ENTITIES: ner.analyse, LABEL: sentiment.analyse}  # by the task's kind of answer


@dataclass
class EvaluationReport:
    model_dir: str
    kind: str  # "checkpoint" | "bundle"
    task: str
    answer_kind: str  # toolkit.runtime.answers: which analysis and report sections apply
    labels: list[str]
    decoding: str
    subject: str  # the model whose mistakes are analysed: "pytorch" or a variant
    reference: str | None  # the PyTorch checkpoint answers are compared with
    evaluation: dict  # which rows: dataset, split, examples, fingerprint
    metrics: dict  # the subject's headline numbers
    baseline: dict  # always answering the most frequent label
    models: list[dict] = field(default_factory=list)  # headline numbers of every model evaluated
    details: dict = field(default_factory=dict)  # the subject's tables (per type, errors, worst examples)
    differences: list[dict] = field(default_factory=list)  # per variant, against PyTorch
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def baseline_of(task, logits: list[np.ndarray], evaluation, labels: tuple[str, ...], analyse) -> dict:
    """Always answering the most frequent label: training's numbers (scoring.majority_baseline), and
    the task's own numbers (NER: word level) of that constant answer."""
    features = evaluation.features
    if logits[0].ndim == 1:  # one answer per model input
        stacked, label_ids = np.stack(logits), np.asarray([f["labels"] for f in features])
    else:  # one answer per token: padded to the longest, the padding ignored (only the shape is used)
        width = max(len(row) for row in logits)
        stacked = np.zeros((len(logits), width, logits[0].shape[-1]), dtype=np.float32)
        label_ids = np.full((len(logits), width), IGNORE, dtype=np.int64)
        for i, feature in enumerate(features):
            label_ids[i, :len(feature["labels"])] = feature["labels"]
    windows = [f["example_index"] for f in features] if "example_index" in features[0] else None
    baseline = majority_baseline(task, stacked, label_ids, labels, windows)
    answer = np.eye(len(labels), dtype=np.float32)[labels.index(baseline["answer"])]
    constant = [np.broadcast_to(answer, row.shape) for row in logits]
    own = analyse(task, constant, evaluation, labels, "argmax", 0).metrics
    return {**baseline, **{key: value for key, value in own.items() if key not in baseline}}


def counted(run_batch: Callable, progress) -> Callable:
    """`run_batch`, advancing `progress` by the inputs of each batch it answers."""
    def run(arrays: dict[str, np.ndarray]) -> np.ndarray:
        logits = run_batch(arrays)
        progress.update(len(next(iter(arrays.values()))))
        return logits

    return run


def evaluate(cfg: EvaluateConfig, echo: Callable[[str], None] = log.info) -> EvaluationReport:
    """Score a checkpoint or a bundle's variants on labelled rows and describe their mistakes; `echo` gets a
    line as each model starts (a bar follows it on a terminal)."""
    cfg.check()
    notes: list[str] = []
    target = open_target(Path(cfg.model_dir), cfg.variant, notes)
    checkpoint = target.checkpoint
    evaluation = evaluation_set(checkpoint, max_length=target.max_length, dataset=cfg.dataset, split=cfg.split,
                                eval_size=cfg.eval_size)
    if evaluation is None:
        raise DataError(f"no evaluation data: {cfg.model_dir} does not record data that can be loaded from here; "
                        "pass --dataset (a hub id or a directory of labelled files).")
    if not evaluation.features:
        raise DataError(f"the evaluation split of {evaluation.description['dataset']!r} has no rows: pass "
                        "--dataset/--split with labelled rows.")
    if evaluation.description.get("fingerprint_matches_training") is False:
        notes.append("the evaluation rows differ from those the model was evaluated on when it was made: the data "
                     "changed since, so the numbers are not comparable with the recorded ones")
    task, labels = checkpoint.task, checkpoint.labels
    analyse = ANALYSES[task.answer_kind]
    analyses, baseline = {}, None
    for name, make in target.models.items():
        echo(f"evaluating {name} on {len(evaluation.texts)} examples ({len(evaluation.features)} inputs)")
        backend = make()
        progress = bar(len(evaluation.features), name, unit="input")
        try:
            logits = collect_logits(counted(backend.logits, progress), evaluation.features, EVAL_BATCH_SIZE,
                                    backend.input_names)
        finally:
            progress.close()
        analyses[name] = analyse(task, logits, evaluation, labels, checkpoint.decoding, cfg.worst)
        baseline = baseline or baseline_of(task, logits, evaluation, labels, analyse)
    reference = analyses.get(PYTORCH)
    differences = [compare(reference, analysis, name) for name, analysis in analyses.items()
                   if reference is not None and name != PYTORCH]
    subject = analyses[target.subject]
    return EvaluationReport(
        model_dir=str(cfg.model_dir), kind=target.kind, task=task.name, answer_kind=task.answer_kind.name,
        labels=list(labels),
        decoding=checkpoint.decoding, subject=target.subject,
        reference=str(target.reference) if target.reference else None, evaluation=evaluation.description,
        metrics=subject.metrics, baseline=baseline, details=subject.details, differences=differences, notes=notes,
        models=[{"model": name, "metrics": analysis.metrics} for name, analysis in analyses.items()])
