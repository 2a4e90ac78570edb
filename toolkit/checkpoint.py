"""Inspect a fine-tuned checkpoint: its task, architecture, tokenizer and evaluation data."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import DataError, ModelError, ToolkitError
from toolkit.tasks import TASKS, Task

log = logging.getLogger(__name__)

ARCHITECTURE_SUFFIXES = {"ForTokenClassification": "ner", "ForSequenceClassification": "sentiment"}
# Encoders whose ONNX graphs Optimum exports and ONNX Runtime's "bert" fusions understand.
SUPPORTED_MODEL_TYPES = ("bert", "distilbert", "roberta", "xlm-roberta", "electra", "camembert")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json")


@dataclass
class Checkpoint:
    directory: Path
    task: Task
    config: object  # transformers.PretrainedConfig
    labels: tuple[str, ...]
    training: dict | None  # metrics.json written by `toolkit train`, if any
    decoding: str = "argmax"  # how NER tags are read from logits (config.json: toolkit_decoding)
    truncation: str = "head"  # how long sentiment texts were cut (config.json: toolkit_truncation)


def inspect_checkpoint(directory: Path) -> Checkpoint:
    """Check that `directory` is an exportable checkpoint and describe it."""
    from transformers import AutoConfig

    if not directory.is_dir() or not (directory / "config.json").is_file():
        raise ModelError(f"{directory} is not a checkpoint: expected a directory with config.json and "
                         "weights, such as the output of `toolkit train`.")
    config = AutoConfig.from_pretrained(directory)
    architectures = getattr(config, "architectures", None) or []
    task_name = next((TASKS[t].name for a in architectures for s, t in ARCHITECTURE_SUFFIXES.items()
                      if a.endswith(s)), None)
    if task_name is None or config.model_type not in SUPPORTED_MODEL_TYPES:
        raise ModelError(
            f"{directory}: architecture {architectures or config.model_type!r} is not supported; "
            f"expected a token- or sequence-classification model of type {', '.join(SUPPORTED_MODEL_TYPES)}."
        )
    if not any((directory / name).is_file() for name in TOKENIZER_FILES[:2]):
        raise ModelError(f"{directory} has no tokenizer files (tokenizer.json or vocab.txt): save the "
                         "tokenizer with the model (tokenizer.save_pretrained(DIR)).")
    if not any(directory.glob("*.safetensors")) and not any(directory.glob("*.bin")):
        raise ModelError(f"{directory} has no weights (model.safetensors): it is not a finished checkpoint.")
    metrics_path = directory / "metrics.json"
    training = json.loads(metrics_path.read_text()) if metrics_path.is_file() else None
    labels = tuple(config.id2label[i] for i in range(config.num_labels))
    return Checkpoint(directory=directory, task=TASKS[task_name], config=config, labels=labels,
                      training=training, decoding=getattr(config, "toolkit_decoding", "argmax"),
                      truncation=getattr(config, "toolkit_truncation", "head"))


def evaluation_split(checkpoint: Checkpoint, dataset: str | None = None, split: str | None = None,
                     eval_size: str | None = None):
    """The checkpoint's own evaluation examples (or those asked for), or None when unavailable.

    Returns (datasets.Dataset, description) with labels as ids of the checkpoint's label set.
    """
    from toolkit.data import (
        load_raw_splits,
        parse_size,
        pick_eval_split,
        resolve_labels,
        sample,
    )

    options = (checkpoint.training or {}).get("options", {})
    task = checkpoint.task
    text_column = options.get("text_column") or task.text_column
    label_column = options.get("label_column") or task.label_column
    asked = dataset is not None
    dataset = dataset or options.get("dataset")
    if not dataset:
        return None
    try:
        splits = load_raw_splits(dataset, task.eval_split)
    except ToolkitError as error:
        if asked:
            raise
        log.warning("evaluation data unavailable: %s", error)
        return None
    name = split or pick_eval_split(splits, task.eval_split)
    if name not in splits:
        raise DataError(f"dataset {dataset!r} has no split {name!r}; found {sorted(splits)}.")
    chosen = splits[name]
    missing = [c for c in (text_column, label_column) if c not in chosen.column_names]
    if missing:
        raise DataError(f"dataset {dataset!r} does not fit the {task.name} task: expected columns "
                        f"{text_column!r} and {label_column!r}, found {sorted(chosen.column_names)}.")
    data_labels, converted = resolve_labels({name: chosen}, label_column, task)
    if tuple(data_labels) != checkpoint.labels:
        raise DataError(f"dataset {dataset!r} labels {list(data_labels)} do not match the model's "
                        f"{list(checkpoint.labels)}: pass data with the labels the model was trained on.")
    size = eval_size if eval_size is not None else options.get("eval_size", "500")
    rows = sample(converted[name], parse_size(size), options.get("seed", 42), name)
    return rows, {"dataset": dataset, "split": name, "examples": len(rows),
                  "text_column": text_column, "label_column": label_column,
                  "label_all_tokens": options.get("label_all_tokens", True),
                  "truncation": checkpoint.truncation}
