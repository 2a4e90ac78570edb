"""Knowledge distillation: a trained teacher checkpoint's probabilities as extra training targets.

The teacher reads every training text once (a progress bar), with its own tokenizer: sentiment gets
one distribution per text (its windows' mean probabilities, as the runtime reads a long text), NER
one per word (the distribution of the word's FIRST piece). Those answers are cached on disk by the
teacher's and the rows' fingerprints, so a second run or --resume does not run the teacher again.
NER's per-word answers are then placed on the student's first piece of the same word, so teacher
and student tokenizers may differ. The loss that mixes them with the gold labels is in
toolkit/train/distill_loss.py.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.errors import DataError, ModelError
from toolkit.tasks import Encoding, Task

log = logging.getLogger(__name__)

BATCH_SIZE = 32
CACHE_DIR = "teacher-cache"  # beside the output directory, so --overwrite of the run keeps it
TEACHER_LOGITS, TEACHER_MASK = "teacher_logits", "teacher_mask"  # the columns the distillation loss reads


@dataclass
class Teacher:
    """A checked teacher checkpoint, and how its label ids map to the student's."""

    checkpoint: object  # toolkit.checkpoint.Checkpoint
    order: list[int] | None = None  # the teacher's id of each student label; set by check_teacher_labels

    @property
    def directory(self) -> Path:
        return self.checkpoint.directory

    def describe(self) -> dict:
        """What metrics.json says the teacher is."""
        return {"path": str(Path(self.directory).resolve()), "model_type": self.checkpoint.config.model_type,
                "task": self.checkpoint.task.name, "labels": list(self.checkpoint.labels)}


def load_teacher(path: Path, task: Task) -> Teacher:
    """The --teacher checkpoint, refused in one line when it is missing, a bundle, or of another task."""
    from toolkit.checkpoint import inspect_checkpoint

    path = Path(path).expanduser()
    if not path.is_dir():
        raise ModelError(f"--teacher {path}: no such directory; pass a checkpoint directory made by `toolkit train`.")
    if (path / "manifest.json").is_file():
        raise ModelError(f"--teacher {path} is an exported bundle (it has manifest.json): the teacher must be "
                         "a PyTorch checkpoint; pass the checkpoint the bundle was exported from.")
    checkpoint = inspect_checkpoint(path)
    if checkpoint.task.name != task.name:
        raise ModelError(f"--teacher {path} is a {checkpoint.task.name} model but the student learns "
                         f"{task.name}: pass a {task.name} teacher.")
    return Teacher(checkpoint=checkpoint)


def check_teacher_labels(teacher: Teacher, labels: tuple[str, ...]) -> None:
    """Refuse a teacher whose labels are not the student's (in any order); remember how to reorder them."""
    known = teacher.checkpoint.labels
    if set(known) != set(labels):
        raise ModelError(f"--teacher {teacher.directory} knows the labels {list(known)} but the student's data "
                         f"has {list(labels)}: pass a teacher trained on the same labels.")
    teacher.order = [known.index(name) for name in labels]


def first_pieces(word_ids: list) -> dict[int, int]:
    """Each word's first piece: word index -> token position (special tokens have no word)."""
    positions: dict[int, int] = {}
    for position, word in enumerate(word_ids):
        if word is not None and word not in positions:
            positions[word] = position
    return positions


def align_word_targets(word_outputs: np.ndarray, student_word_ids: list) -> tuple[np.ndarray, np.ndarray]:
    """Per student token: the teacher's distribution of its word on the word's first piece, and a mask that
    is 1 there (0 on other pieces, special tokens, and words the teacher did not read: NaN rows)."""
    targets = np.zeros((len(student_word_ids), word_outputs.shape[-1]), dtype=np.float32)
    mask = np.zeros(len(student_word_ids), dtype=np.float32)
    for word, position in first_pieces(student_word_ids).items():
        if word < len(word_outputs) and not np.isnan(word_outputs[word]).any():
            targets[position], mask[position] = word_outputs[word], 1.0
    return targets, mask


def _forward(model, tokenizer, features: list[dict]) -> tuple[np.ndarray, bool]:
    """The model's logits for a batch of tokenized rows, padded as the tokenizer pads; and whether it pads left."""
    import torch
    from transformers.data.data_collator import pad_without_fast_tokenizer_warning

    names = [n for n in tokenizer.model_input_names if n in features[0]]
    # Trainer's collators pad this way too: the fast tokenizer's "use __call__" advice does not apply
    # to rows tokenized once and batched later, and printed once per teacher read.
    batch = pad_without_fast_tokenizer_warning(tokenizer, [{n: f[n] for n in names} for f in features],
                                               return_tensors="pt")
    with torch.no_grad():
        logits = model(**{n: batch[n] for n in names}).logits
    return logits.float().numpy(), tokenizer.padding_side == "left"


def _word_outputs(model, tokenizer, rows: list[list[str]], max_length: int, progress) -> list[np.ndarray]:
    outputs = []
    for start in range(0, len(rows), BATCH_SIZE):
        chunk = rows[start:start + BATCH_SIZE]
        encoded = tokenizer(chunk, is_split_into_words=True, truncation=True, max_length=max_length)
        features = [{k: encoded[k][i] for k in encoded.keys()} for i in range(len(chunk))]
        logits, left = _forward(model, tokenizer, features)
        for i, words in enumerate(chunk):
            shift = logits.shape[1] - len(encoded["input_ids"][i]) if left else 0
            per_word = np.full((len(words), logits.shape[-1]), np.nan, dtype=np.float32)
            for word, position in first_pieces(encoded.word_ids(i)).items():
                per_word[word] = logits[i, shift + position]
            outputs.append(per_word)
        progress.update(len(chunk))
    return outputs


def _text_outputs(model, tokenizer, texts: list[str], task: Task, checkpoint, progress) -> list[np.ndarray]:
    """Per text: the log of its windows' mean probabilities (a long text is read as the runtime reads it)."""
    from toolkit.runtime.windows import average_probabilities

    outputs = []
    encoding = Encoding(text_column="text", label_column="label", max_length=checkpoint.max_length,
                        label_all_tokens=True, truncation=checkpoint.truncation, for_evaluation=True)
    for start in range(0, len(texts), BATCH_SIZE):
        chunk = texts[start:start + BATCH_SIZE]
        encoded = task.preprocess({"text": chunk, "label": [0] * len(chunk)}, tokenizer, checkpoint.labels, encoding)
        windows = [{k: encoded[k][i] for k in encoded.keys()} for i in range(len(encoded["input_ids"]))]
        logits = np.concatenate([_forward(model, tokenizer, windows[w:w + BATCH_SIZE])[0]
                                 for w in range(0, len(windows), BATCH_SIZE)])
        probabilities = average_probabilities(logits, encoded["example_index"], len(chunk))
        outputs.extend(np.log(np.maximum(probabilities, 1e-12)).astype(np.float32))
        progress.update(len(chunk))
    return outputs


def compute_teacher_outputs(teacher: Teacher, task: Task, texts: list) -> list[np.ndarray]:
    """Run the teacher once over `texts`: per text (sentiment) or per word (NER), in the teacher's label order."""
    from toolkit.modeling import load_model, load_tokenizer
    from toolkit.progress import bar

    checkpoint = teacher.checkpoint
    model = load_model(Path(checkpoint.directory), task.model_class).eval()
    tokenizer = load_tokenizer(checkpoint.directory, task.word_input)
    progress = bar(len(texts), f"teacher {Path(checkpoint.directory).name}", unit="text")
    try:
        if task.word_input:
            return _word_outputs(model, tokenizer, texts, checkpoint.max_length, progress)
        return _text_outputs(model, tokenizer, texts, task, checkpoint, progress)
    finally:
        progress.close()


def teacher_fingerprint(teacher: Teacher) -> str:
    """The teacher's identity: its config and the name, size and time of each weights file."""
    directory = Path(teacher.directory)
    digest = hashlib.sha256((directory / "config.json").read_bytes())
    for weights in sorted([*directory.glob("*.safetensors"), *directory.glob("*.bin")]):
        stat = weights.stat()
        digest.update(f"{weights.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update(str(teacher.checkpoint.max_length).encode())
    return digest.hexdigest()[:16]


def rows_fingerprint(texts: list) -> str:
    """The texts' identity, in order."""
    return hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def cached_teacher_outputs(teacher: Teacher, task: Task, texts: list, cache_dir: Path) -> list[np.ndarray]:
    """The teacher's outputs on `texts` in the student's label order, from the cache when it holds them."""
    from toolkit.staging import staged_file

    path = Path(cache_dir) / f"{teacher_fingerprint(teacher)}-{rows_fingerprint(texts)}.npz"
    outputs = None
    if path.is_file():
        try:
            with np.load(path) as stored:
                outputs = np.split(stored["values"], stored["offsets"][1:-1])
            log.info("teacher's answers on %d texts read from %s", len(texts), path)
        except (OSError, ValueError, KeyError) as error:  # a damaged cache is computed again
            log.warning("ignoring the unreadable teacher cache %s (%s)", path, error)
    if outputs is None or len(outputs) != len(texts):
        outputs = compute_teacher_outputs(teacher, task, texts)
        path.parent.mkdir(parents=True, exist_ok=True)
        offsets = np.cumsum([0] + [len(np.atleast_2d(o)) for o in outputs])
        with staged_file(path) as staging, open(staging, "wb") as handle:
            np.savez(handle, values=np.concatenate([np.atleast_2d(o) for o in outputs]), offsets=offsets)
    order = teacher.order or list(range(len(teacher.checkpoint.labels)))
    return [np.atleast_2d(o)[:, order] if task.word_input else np.atleast_2d(o)[0, order] for o in outputs]


def unlabeled_rows(task: Task, cfg):
    """The texts distilled without gold labels: --unlabeled-size more rows of the training split (in the
    protocol's order after the first --train-size), or of --unlabeled-dataset; None when neither is asked."""
    from toolkit.data import load_raw_splits, parse_size

    if cfg.unlabeled_size is None and cfg.unlabeled_dataset is None:
        return None
    size = parse_size(cfg.unlabeled_size)
    source = cfg.unlabeled_dataset or cfg.dataset
    splits = load_raw_splits(source)
    split = splits.get("train") or next(iter(splits.values()))
    start = 0 if cfg.unlabeled_dataset else (parse_size(cfg.train_size) or len(split))
    if cfg.text_column not in split.column_names:
        raise DataError(f"--unlabeled-dataset {source}: expected a column {cfg.text_column!r}, found "
                        f"{sorted(split.column_names)}; pass --text-column to name it.")
    available = len(split) - start
    if available <= 0 or (size is not None and size > available):
        raise DataError(f"--unlabeled-size {cfg.unlabeled_size}: {source} has {max(available, 0)} rows beyond the "
                        f"{start} labelled ones; pass a size up to that, or --unlabeled-dataset DIR.")
    rows = split.shuffle(seed=cfg.seed).select(range(start, start + (size or available)))
    kind = (list, tuple) if task.word_input else str
    for number, text in enumerate(rows[cfg.text_column], start=1):
        if not isinstance(text, kind) or (task.word_input and not all(isinstance(w, str) for w in text)):
            raise DataError(f"unlabelled row {number} of {source}: expected "
                            f"{'a list of words' if task.word_input else 'a text'}, found {str(text)[:40]!r}.")
    return rows.select_columns([cfg.text_column])


@dataclass
class Distillation:
    """What a distilled run records in metrics.json."""

    teacher: dict  # Teacher.describe(), with its score on the student's evaluation rows
    temperature: float
    distill_weight: float
    unlabeled_rows: int
    unlabeled_source: str | None

    def record(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def with_teacher_targets(task: Task, encoded, texts: list, outputs: list[np.ndarray], tokenizer, max_length: int):
    """The encoded training rows with the teacher's targets added: per row (sentiment; a text read in several
    windows gives each window the text's), or per token on each word's first piece (NER)."""
    if not task.word_input:
        source = encoded["example_index"] if "example_index" in encoded.column_names else range(len(encoded))
        encoded = encoded.add_column(TEACHER_LOGITS, [outputs[i].tolist() for i in source])
        return encoded.add_column(TEACHER_MASK, [1.0] * len(encoded))
    student = tokenizer(texts, is_split_into_words=True, truncation=True, max_length=max_length)
    targets, masks = zip(*(align_word_targets(outputs[i], student.word_ids(i)) for i in range(len(texts))))
    encoded = encoded.add_column(TEACHER_LOGITS, [t.tolist() for t in targets])
    return encoded.add_column(TEACHER_MASK, [m.tolist() for m in masks])


def teacher_score(task: Task, teacher: Teacher, eval_rows, cfg, cache_dir: Path) -> dict:
    """The teacher's metrics on the student's evaluation rows, as the student's are computed: NER's
    F1 over sub-word tags, each model with its own tokenizer (its own training evaluation's numbers
    when the rows are the same); sentiment from the whole text read in windows. A score over the
    teacher's word-level answers would be another metric, and flattered the MPNet teacher of
    bench/README.md "A real base-size model" by half a point."""
    if not task.word_input:
        outputs = cached_teacher_outputs(teacher, task, list(eval_rows[cfg.text_column]), cache_dir)
        metrics = task.compute_metrics(np.stack(outputs), np.asarray(eval_rows[cfg.label_column]),
                                       task_labels(teacher), teacher.checkpoint.decoding)
    else:
        metrics = _sub_word_score(task, teacher, eval_rows, cfg)
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float))}


def _sub_word_score(task: Task, teacher: Teacher, eval_rows, cfg) -> dict:
    """NER: the rows encoded as the teacher's own evaluation encodes them (labels in the student's
    order), scored from the teacher's logits reordered to that order."""
    from toolkit.backends import TorchBackend
    from toolkit.checkpoint import evaluation_features
    from toolkit.modeling import load_tokenizer
    from toolkit.scoring import EVAL_BATCH_SIZE, collect_logits, score

    checkpoint = teacher.checkpoint
    labels = task_labels(teacher)
    features = evaluation_features(checkpoint, eval_rows, cfg.text_column, cfg.label_column,
                                   load_tokenizer(checkpoint.directory, task.word_input), labels=labels)
    model = TorchBackend(Path(checkpoint.directory), task.model_class)
    order = teacher.order or list(range(len(labels)))
    logits = collect_logits(model.logits, features, EVAL_BATCH_SIZE, model.input_names)
    return score(task, [row[:, order] for row in logits], features, labels, checkpoint.decoding)


def task_labels(teacher: Teacher) -> tuple[str, ...]:
    """The student's labels, in which order the teacher's outputs are given once reordered."""
    labels = teacher.checkpoint.labels
    return tuple(labels[i] for i in teacher.order) if teacher.order else labels
