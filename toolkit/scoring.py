"""Logits of encoded examples from any model (PyTorch or ONNX Runtime), task metrics, parity statistics."""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from toolkit.tasks import Task

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
Features = list[dict]  # one dict per example: input_ids, attention_mask, [token_type_ids], labels
# Export, bench and evaluate score in batches of this size, so they see the same batches (and the
# int8 variants answer alike in any batch: toolkit/export/per_token.py).
EVAL_BATCH_SIZE = 32
RunBatch = Callable[[dict[str, np.ndarray]], np.ndarray]  # padded int64 inputs -> logits


def split_features(encoded) -> Features:
    """One dict per example from a batch encoding: its model inputs, and labels when present."""
    keys = [k for k in (*MODEL_INPUTS, "labels", "example_index") if k in encoded]
    return [{k: encoded[k][i] for k in keys} for i in range(len(encoded["input_ids"]))]


def count_examples(features: Features) -> int:
    """Texts behind the features (a long text read in windows is one example)."""
    return len({f.get("example_index", i) for i, f in enumerate(features)})


def padded_batches(features: Features, batch_size: int, input_names: Iterable[str],
                   pad_id: int = 0) -> Iterable[tuple[list[int], dict[str, np.ndarray]]]:
    """Length-sorted batches padded to their own longest example: (indices, int64 arrays)."""
    order = sorted(range(len(features)), key=lambda i: len(features[i]["input_ids"]))
    names = list(input_names)
    for start in range(0, len(order), batch_size):
        indices = order[start:start + batch_size]
        width = max(len(features[i]["input_ids"]) for i in indices)
        arrays = {}
        for name in names:
            fill = pad_id if name == "input_ids" else 0
            rows = [list(features[i][name]) + [fill] * (width - len(features[i][name])) for i in indices]
            arrays[name] = np.asarray(rows, dtype=np.int64)
        yield indices, arrays


def collect_logits(run_batch: RunBatch, features: Features, batch_size: int,
                   input_names: Iterable[str]) -> list[np.ndarray]:
    """Logits of every example, in the original order, with padding positions removed."""
    logits: list[np.ndarray | None] = [None] * len(features)
    for indices, arrays in padded_batches(features, batch_size, input_names):
        output = np.asarray(run_batch(arrays), dtype=np.float32)
        for row, i in enumerate(indices):
            length = len(features[i]["input_ids"])
            logits[i] = output[row, :length] if output.ndim == 3 else output[row]
    return logits


def majority_baseline(task: Task, logits: np.ndarray, label_ids: np.ndarray, labels: tuple[str, ...],
                      example_index=None) -> dict:
    """The task metrics of always answering the most frequent label (for NER: all O), with its name."""
    label_ids = np.asarray(label_ids)
    known = label_ids[label_ids != -100]
    majority = int(np.bincount(known, minlength=len(labels)).argmax()) if known.size else 0
    constant = np.zeros_like(np.asarray(logits, dtype=np.float32))
    constant[..., majority] = 1.0
    metrics = task.compute_metrics(constant, label_ids, labels, "argmax", example_index=example_index)
    metrics.pop("per_type", None)
    return {"answer": labels[majority], **metrics}


def score(task: Task, logits: list[np.ndarray], features: Features, labels: tuple[str, ...],
          decoding: str = "argmax") -> dict:
    """The task metric of per-example logits against the examples' labels (windows of one text
    count once, as the runtime answers)."""
    return task.score_examples(logits, features, labels, decoding)


def agreement(reference: list[np.ndarray], candidate: list[np.ndarray], features: Features | None = None) -> float:
    """Share of predictions (tokens with a label, or examples) where the two models agree."""
    same = total = 0
    for i, (a, b) in enumerate(zip(reference, candidate)):
        match = a.argmax(-1) == b.argmax(-1)
        if match.ndim and features is not None:
            match = match[np.asarray(features[i]["labels"]) != -100]
        same += int(np.sum(match))
        total += int(np.size(match))
    return same / total if total else 1.0


def max_abs_diff(reference: list[np.ndarray], candidate: list[np.ndarray]) -> float:
    """The largest absolute difference between two models' logits over all examples."""
    return float(max(np.max(np.abs(a - b)) for a, b in zip(reference, candidate)))


def points_lost(reference: float, candidate: float) -> float:
    """Metric points (0-100 scale) the candidate loses against the reference (+ = loss), rounded to
    the thousandth as the manifest and bench record them."""
    return round(100 * (reference - candidate), 3)


def drop_interval(task: Task, reference: list[np.ndarray], candidate: list[np.ndarray], features: Features,
                  labels: tuple[str, ...], decoding: str = "argmax", resamples: int = 1000,
                  confidence: float = 0.95) -> tuple[float, float]:
    """Paired-bootstrap interval (95% unless `confidence` says otherwise) of the metric points the
    candidate loses against the reference (+ = loss): both are scored on the same resampled texts,
    so shared difficulty cancels out."""
    ref = task.example_counts(reference, features, labels, decoding)
    cand = task.example_counts(candidate, features, labels, decoding)
    rng = np.random.default_rng(0)  # the same resamples every time: an export's verdict is reproducible
    picks = rng.integers(0, len(ref), size=(resamples, len(ref)))
    drops = 100 * (task.metric_of_counts(ref[picks].sum(1)) - task.metric_of_counts(cand[picks].sum(1)))
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(drops, [tail, 100 - tail])
    return round(float(low), 3), round(float(high), 3)
