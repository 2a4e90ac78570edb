"""Named-entity recognition: sub-word label alignment and seqeval metrics."""

from __future__ import annotations

import numpy as np

from toolkit.runtime.bio import decode_tags
from toolkit.tasks import Task

IGNORE = -100
CONLL_LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")


def begin_to_inside(labels: tuple[str, ...]) -> list[int]:
    """Map every label id to the id continuation pieces get: B-X becomes I-X, the rest stay."""
    index = {name: i for i, name in enumerate(labels)}
    return [index.get("I-" + name[2:], i) if name.startswith("B-") else i for i, name in enumerate(labels)]


def align_labels(word_ids: list, word_labels: list[int], b_to_i: list[int], label_all_tokens: bool) -> list[int]:
    """Give each sub-word token its word's label, as the tutorial does.

    The first piece of a word gets the word's label; continuation pieces get the I- form of it
    (or IGNORE with `label_all_tokens=False`); special tokens get IGNORE.
    """
    aligned, previous = [], None
    for word_id in word_ids:
        if word_id is None:
            aligned.append(IGNORE)
        elif word_id != previous:
            aligned.append(word_labels[word_id])
        else:
            aligned.append(b_to_i[word_labels[word_id]] if label_all_tokens else IGNORE)
        previous = word_id
    return aligned


def preprocess(batch: dict, tokenizer, labels: tuple[str, ...], cfg) -> dict:
    """Tokenize pre-split words and align word labels to sub-word tokens."""
    encoded = tokenizer(
        batch[cfg.text_column], is_split_into_words=True, truncation=True, max_length=cfg.max_length
    )
    b_to_i = begin_to_inside(labels)
    encoded["labels"] = [
        align_labels(encoded.word_ids(i), word_labels, b_to_i, cfg.label_all_tokens)
        for i, word_labels in enumerate(batch[cfg.label_column])
    ]
    return encoded


def tag_sequences(logits: np.ndarray, label_ids: np.ndarray, labels: tuple[str, ...], decoding: str = "argmax"):
    """Tag-name sequences of the labelled positions: gold, and decoded from the logits."""
    true_tags, predicted_tags = [], []
    for logit_row, label_row in zip(logits, label_ids):
        keep = label_row != IGNORE
        kept = logit_row[keep]
        predicted = decode_tags(kept, labels) if decoding == "viterbi" else kept.argmax(-1)
        true_tags.append([labels[i] for i in label_row[keep]])
        predicted_tags.append([labels[i] for i in predicted])
    return true_tags, predicted_tags


def compute_metrics(logits: np.ndarray, label_ids: np.ndarray, labels: tuple[str, ...],
                    decoding: str = "argmax") -> dict:
    """Seqeval entity F1/precision/recall, token accuracy, and a per-entity-type table."""
    true_tags, predicted_tags = tag_sequences(np.asarray(logits), np.asarray(label_ids), labels, decoding)
    return metrics_from_tags(true_tags, predicted_tags)


def metrics_from_tags(true_tags: list[list[str]], predicted_tags: list[list[str]]) -> dict:
    """Seqeval metrics on tag-name sequences (IOB2, default mode, as the tutorial reports)."""
    from seqeval.metrics import (
        classification_report,
        f1_score,
        precision_score,
        recall_score,
    )

    flat_true = [t for row in true_tags for t in row]
    flat_pred = [t for row in predicted_tags for t in row]
    correct = sum(t == p for t, p in zip(flat_true, flat_pred))
    report = classification_report(true_tags, predicted_tags, output_dict=True, zero_division=0)
    per_type = {
        name: {"precision": float(v["precision"]), "recall": float(v["recall"]),
               "f1": float(v["f1-score"]), "support": int(v["support"])}
        for name, v in report.items() if not name.endswith(" avg")
    }
    return {
        "f1": float(f1_score(true_tags, predicted_tags, zero_division=0)),
        "precision": float(precision_score(true_tags, predicted_tags, zero_division=0)),
        "recall": float(recall_score(true_tags, predicted_tags, zero_division=0)),
        "accuracy": correct / len(flat_true) if flat_true else 0.0,
        "per_type": per_type,
    }


TASK = Task(
    name="ner",
    default_dataset="eriktks/conll2003",
    eval_split="validation",
    text_column="tokens",
    label_column="ner_tags",
    default_labels=CONLL_LABELS,
    model_class="AutoModelForTokenClassification",
    onnx_task="token-classification",
    preprocess=preprocess,
    compute_metrics=compute_metrics,
    decode="entities",
    primary_metric="f1",
)
