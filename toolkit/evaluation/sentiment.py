"""Sentiment evaluation: accuracy and macro F1 as training reports them, the confusion matrix, and the
reviews the model got wrong with the most confidence."""

from __future__ import annotations

import numpy as np

from toolkit.evaluation.analysis import Analysis
from toolkit.runtime.entities import softmax
from toolkit.scoring import score
from toolkit.tasks import Task
from toolkit.tasks.sentiment import average_windows


def text_probabilities(logits: list[np.ndarray], features: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities and gold label id per text: a long text's windows averaged, as the runtime
    answers it."""
    stacked = np.stack(logits)
    label_ids = np.asarray([f["labels"] for f in features])
    if features and "example_index" in features[0]:
        log_probabilities, label_ids = average_windows(stacked, label_ids, [f["example_index"] for f in features])
        return np.exp(log_probabilities), label_ids
    return softmax(stacked), label_ids


def confusion_matrix(gold: np.ndarray, predicted: np.ndarray, size: int) -> list[list[int]]:
    """Counts of texts per (gold, predicted) label: rows are gold, columns predicted."""
    matrix = np.zeros((size, size), dtype=np.int64)
    np.add.at(matrix, (gold, predicted), 1)
    return matrix.tolist()


def analyse(task: Task, logits: list[np.ndarray], evaluation, labels: tuple[str, ...], decoding: str,
            worst: int) -> Analysis:
    """Scores, confusion matrix and most confidently wrong texts of one model's logits."""
    metrics = score(task, logits, evaluation.features, labels, decoding)
    probabilities, gold = text_probabilities(logits, evaluation.features)
    predicted = probabilities.argmax(-1)
    examples = [{"index": i, "text": text, "gold": labels[int(g)]} for i, (text, g) in
                enumerate(zip(evaluation.texts, gold))]
    answers = [{"label": labels[int(p)], "score": round(float(probabilities[i, p]), 4)}
               for i, p in enumerate(predicted)]
    wrong = sorted(np.flatnonzero(predicted != gold).tolist(), key=lambda i: (-probabilities[i, predicted[i]], i))
    details = {"confusion": {"labels": list(labels), "matrix": confusion_matrix(gold, predicted, len(labels))},
               "wrong": len(wrong),
               "confidently_wrong": [{**examples[i], "predicted": answers[i]} for i in wrong[:worst]]}
    return Analysis(metrics=metrics, examples=examples, answers=answers, keys=[labels[int(p)] for p in predicted],
                    details=details)
