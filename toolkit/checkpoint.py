"""What a checkpoint is: its task, labels, options, and the one evaluation set every check uses."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.config import TrainConfig
from toolkit.errors import DataError, ModelError, ToolkitError
from toolkit.tasks import TASKS, Encoding, Task, task_of_architecture

log = logging.getLogger(__name__)

# BERT-family encoders: Optimum exports each (optimum-onnx 0.1.0), ONNX Runtime's "bert" fusions keep
# parity on each, and tests/test_architectures.py runs each end to end.
SUPPORTED_MODEL_TYPES = ("bert", "distilbert", "roberta", "xlm-roberta", "camembert", "electra", "deberta-v2",
                         "modernbert", "mpnet", "albert")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")
METRICS_FILE = "metrics.json"  # what `toolkit train` writes next to the weights
TRAIN_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig) if f.default is not dataclasses.MISSING}


@dataclass
class Checkpoint:
    directory: Path
    task: Task
    config: object  # transformers.PretrainedConfig
    labels: tuple[str, ...]
    training: dict | None  # metrics.json written by `toolkit train`, if any
    decoding: str = "argmax"  # how NER tags are read from logits (config.json: toolkit_decoding)
    truncation: str = "head"  # how long sentiment texts were cut (config.json: toolkit_truncation)
    # The `toolkit train` options known to have made it: metrics.json's, or those a bundle recorded.
    options: dict = field(default_factory=dict)
    evaluated_fingerprint: str | None = None  # of the rows it was evaluated on when it was made, if known

    def option(self, name: str):
        """A `toolkit train` option as this checkpoint was trained with (its default otherwise)."""
        return self.options.get(name, TRAIN_DEFAULTS.get(name))

    @property
    def max_length(self) -> int:
        """The longest input: as trained, capped by the position embeddings."""
        return int(min(getattr(self.config, "max_position_embeddings", 512), self.option("max_length")))


def inspect_checkpoint(directory: Path) -> Checkpoint:
    """Check that `directory` is an exportable checkpoint and describe it."""
    from toolkit.modeling import read_config

    if not directory.is_dir() or not (directory / "config.json").is_file():
        raise ModelError(f"{directory} is not a checkpoint: expected a directory with config.json and "
                         "weights, such as the output of `toolkit train`.")
    try:
        config = read_config(directory)
    except (OSError, ValueError, KeyError) as error:  # invalid JSON, unknown model_type, missing keys
        raise ModelError(f"{directory / 'config.json'} cannot be read as a transformers config "
                         f"({type(error).__name__}: {str(error).splitlines()[0][:200]}); restore it from the "
                         "training run or re-train.") from error
    architectures = getattr(config, "architectures", None) or []
    # `toolkit train` records the task; other checkpoints are known by their head's class name.
    task = TASKS.get(getattr(config, "toolkit_task", None)) or task_of_architecture(architectures)
    model_type = getattr(config, "export_as", config.model_type)
    if model_type not in SUPPORTED_MODEL_TYPES or task is None:
        kind = ("a decoder or sequence-to-sequence model" if getattr(config, "is_decoder", False)
                or getattr(config, "is_encoder_decoder", False) else f"model type {model_type!r}")
        if model_type in SUPPORTED_MODEL_TYPES:
            kind = f"a {model_type} model without a token- or sequence-classification head"
        raise ModelError(
            f"{directory}: {', '.join(architectures) or model_type} is not supported: it is {kind}; the toolkit "
            f"exports token- and sequence-classification heads on {', '.join(SUPPORTED_MODEL_TYPES)} encoders: "
            "fine-tune one of those with `toolkit train`."
        )
    if not any((directory / name).is_file() for name in TOKENIZER_FILES):
        raise ModelError(f"{directory} has no tokenizer files (tokenizer.json or vocab.txt): save the "
                         "tokenizer with the model (tokenizer.save_pretrained(DIR)).")
    if not any(directory.glob("*.safetensors")) and not any(directory.glob("*.bin")):
        raise ModelError(f"{directory} has no weights (model.safetensors): it is not a finished checkpoint.")
    metrics_path = directory / METRICS_FILE
    try:
        training = json.loads(metrics_path.read_text()) if metrics_path.is_file() else None
    except (ValueError, OSError) as error:
        raise ModelError(f"{metrics_path} is not valid JSON ({error}); restore it, or delete it to export "
                         "without the training record.") from error
    if training is not None and not isinstance(training.get("options", {}), dict):
        raise ModelError(f"{metrics_path}: 'options' must be an object; restore the file or delete it.")
    labels = tuple(config.id2label[i] for i in range(config.num_labels))
    return Checkpoint(directory=directory, task=task, config=config, labels=labels,
                      training=training, decoding=getattr(config, "toolkit_decoding", "argmax"),
                      truncation=getattr(config, "toolkit_truncation", "head"),
                      options=(training or {}).get("options", {}),
                      evaluated_fingerprint=(training or {}).get("evaluation", {}).get("fingerprint"))


def bundle_checkpoint(bundle) -> Checkpoint:
    """Describe a bundle as the checkpoint it was exported from, for its evaluation rows when that
    checkpoint is gone: the bundle keeps its config and tokenizer, and its manifest says which rows
    were evaluated (the protocol's seed is not recorded there: the default is assumed, and a
    fingerprint that differs is reported). It has no training record: the bundle holds no metrics.json."""
    from toolkit.modeling import read_config

    evaluation = bundle.manifest.evaluation or {}
    options = {key: evaluation[key] for key in ("dataset", "text_column", "label_column", "label_all_tokens")
               if evaluation.get(key) is not None}
    if evaluation.get("examples"):
        options["eval_size"] = str(evaluation["examples"])
    return Checkpoint(directory=bundle.directory, task=TASKS[bundle.task], config=read_config(bundle.directory),
                      labels=bundle.labels, training=None, decoding=bundle.manifest.decoding,
                      truncation=bundle.manifest.truncation, options=options,
                      evaluated_fingerprint=evaluation.get("fingerprint"))


@dataclass
class EvaluationSet:
    """Evaluation rows of a checkpoint, encoded as training encoded them, and as raw texts."""

    rows: object  # datasets.Dataset, labels as ids of the checkpoint's label set
    features: list[dict]  # model inputs with aligned labels; a long text may give several windows
    texts: list[str]  # the rows as a runtime user would send them
    description: dict  # dataset, split, examples, columns: what the manifest and reports record


def locate_dataset(checkpoint: Checkpoint, dataset: str) -> str:
    """The checkpoint's training data as a path that exists from here: recorded absolute paths as they
    are; a relative one (older checkpoints) from the current directory, else from the checkpoint's
    own directory and its parents, where the training command most likely ran."""
    if Path(dataset).expanduser().exists() or Path(dataset).is_absolute():
        return dataset
    for base in (checkpoint.directory.resolve(), *checkpoint.directory.resolve().parents):
        if (base / dataset).exists():  # also a bare "data", which looked like a hub id from elsewhere
            return str(base / dataset)
    return dataset


def evaluation_features(checkpoint: Checkpoint, rows, text_column: str, label_column: str, tokenizer,
                        labels: tuple[str, ...] | None = None, max_length: int | None = None) -> list[dict]:
    """`rows` encoded as the checkpoint's own evaluation encodes them (its length, label rule and
    truncation); `labels`: the label order of the rows' ids, the checkpoint's unless given."""
    from toolkit.scoring import split_features

    task = checkpoint.task
    encoding = Encoding(text_column=text_column, label_column=label_column,
                        max_length=max_length or checkpoint.max_length,
                        label_all_tokens=checkpoint.option("label_all_tokens"),
                        truncation=checkpoint.truncation, for_evaluation=True)
    batch = {text_column: list(rows[text_column]), label_column: list(rows[label_column])}
    encoded = task.preprocess(batch, tokenizer, labels or checkpoint.labels, encoding)
    features = split_features(encoded)
    if task.word_input:  # which word each piece is part of: evaluation reads one tag per word from it
        for i, feature in enumerate(features):
            feature["word_ids"] = encoded.word_ids(i)
    return features


def evaluation_set(checkpoint: Checkpoint, tokenizer=None, max_length: int | None = None,
                   dataset: str | None = None, split: str | None = None,
                   eval_size: str | None = None) -> EvaluationSet | None:
    """The checkpoint's own evaluation examples (or those asked for), or None when unavailable.

    Without `dataset`, the data the checkpoint was trained with is used, sampled by the same
    protocol (seed, size); when it cannot be loaded, a warning is logged and None returned.
    """
    from toolkit.data import fingerprint, load_raw_splits, parse_size, pick_eval_split, resolve_labels, sample

    task = checkpoint.task
    text_column = checkpoint.option("text_column") or task.text_column
    label_column = checkpoint.option("label_column") or task.label_column
    asked = dataset is not None
    dataset = dataset or checkpoint.option("dataset")
    if not dataset:
        return None
    dataset = locate_dataset(checkpoint, dataset) if not asked else dataset
    try:
        splits = load_raw_splits(dataset)
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
    try:  # rows may hold a subset of the model's labels (no I-ORG in them); an unknown label is an error
        _, converted = resolve_labels({name: chosen}, label_column, task, known=checkpoint.labels)
    except DataError as error:
        raise DataError(f"dataset {dataset!r}: {error}") from None
    size = eval_size if eval_size is not None else checkpoint.option("eval_size")
    rows = sample(converted[name], parse_size(size), checkpoint.option("seed"), name)
    if tokenizer is None:
        from toolkit.modeling import load_tokenizer

        tokenizer = load_tokenizer(checkpoint.directory, task.word_input)
    features = evaluation_features(checkpoint, rows, text_column, label_column, tokenizer, max_length=max_length)
    description = {"dataset": dataset, "split": name, "examples": len(rows), "available": len(converted[name]), "text_column": text_column,
                   "label_column": label_column, "label_all_tokens": checkpoint.option("label_all_tokens"),
                   "truncation": checkpoint.truncation, "fingerprint": fingerprint(rows, (text_column, label_column))}
    recorded = checkpoint.evaluated_fingerprint
    if recorded and not (asked or split or eval_size):
        description["fingerprint_matches_training"] = description["fingerprint"] == recorded
        if recorded != description["fingerprint"]:
            log.warning("the evaluation rows of %s differ from those the checkpoint was evaluated on at training "
                        "time (fingerprint %s, recorded %s): the data changed since", dataset,
                        description["fingerprint"], recorded)
    return EvaluationSet(rows=rows, features=features, texts=task.texts(rows[text_column]),
                         description=description)


def source_checkpoint(bundle, directory: Path | None = None) -> tuple[Checkpoint | None, str | None]:
    """The PyTorch checkpoint a bundle was exported from (or `directory`), when it is there and is still
    the bundle's model (same task and labels); else None and why not."""
    recorded = bundle.manifest.source_checkpoint
    # Recorded relative to the bundle (absolute in bundles made before): a joined absolute path stays itself.
    directory = directory or ((Path(bundle.directory) / recorded).resolve() if recorded else None)
    if directory is None or not (directory / "config.json").is_file():
        return None, f"the bundle's PyTorch checkpoint {directory or '(not recorded)'} is not there"
    checkpoint = inspect_checkpoint(directory)
    if checkpoint.task.name != bundle.task or checkpoint.labels != bundle.labels:
        return None, (f"the checkpoint {directory} ({checkpoint.task.name}, labels {list(checkpoint.labels)}) is not "
                      f"the bundle's model ({bundle.task}, labels {list(bundle.labels)})")
    return checkpoint, None
