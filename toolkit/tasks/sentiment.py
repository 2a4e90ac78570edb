"""Sentiment (sequence classification): tokenization and accuracy / macro-F1 metrics."""

from __future__ import annotations

import numpy as np

from toolkit.runtime.windows import head_tail, window_overlap
from toolkit.tasks import Task


def preprocess(batch: dict, tokenizer, labels: tuple[str, ...], cfg) -> dict:
    """Tokenize texts to at most `max_length` tokens: the head (as the tutorial does), or with
    `truncation="head+tail"` the first quarter and the end of a long text, where reviews tend to
    give their verdict (Sun et al., 2019, "How to Fine-Tune BERT for Text Classification?").

    With `truncation="windows"`, or `cfg.for_evaluation` for a model not trained on head+tail,
    long texts are read as the runtime reads them: in overlapping windows, one row each, tagged
    with the text's `example_index` (evaluate.average_windows puts them back together). Training
    on windows shows the model the ends of long reviews too, labelled with the review's label."""
    if getattr(cfg, "truncation", "head") == "head+tail":
        encoded = tokenizer(batch[cfg.text_column], truncation=False, verbose=False)
        for key in [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded]:
            encoded[key] = [head_tail(row, cfg.max_length) for row in encoded[key]]
    elif getattr(cfg, "for_evaluation", False) or getattr(cfg, "truncation", "head") == "windows":
        room = cfg.max_length - tokenizer.num_special_tokens_to_add()
        encoded = tokenizer(batch[cfg.text_column], truncation=True, max_length=cfg.max_length,
                            stride=window_overlap(room), return_overflowing_tokens=True)
        source = encoded.pop("overflow_to_sample_mapping")
        rows = batch.get("example_index") or range(len(batch[cfg.text_column]))
        encoded["labels"] = [batch[cfg.label_column][i] for i in source]
        encoded["example_index"] = [rows[i] for i in source]
        return encoded
    else:
        encoded = tokenizer(batch[cfg.text_column], truncation=True, max_length=cfg.max_length)
    encoded["labels"] = list(batch[cfg.label_column])
    return encoded


def compute_metrics(logits: np.ndarray, label_ids: np.ndarray, labels: tuple[str, ...],
                    decoding: str = "argmax") -> dict:
    """Accuracy and macro F1 of the arg-max class (`decoding` is for token tasks only)."""
    predictions = np.asarray(logits).argmax(-1)
    return metrics_from_ids(np.asarray(label_ids), predictions, len(labels))


def metrics_from_ids(true_ids: np.ndarray, predicted_ids: np.ndarray, num_labels: int) -> dict:
    """Accuracy and macro F1 over all classes of the label set."""
    from sklearn.metrics import f1_score

    true_ids, predicted_ids = np.asarray(true_ids), np.asarray(predicted_ids)
    return {
        "accuracy": float((true_ids == predicted_ids).mean()) if len(true_ids) else 0.0,
        "f1": float(f1_score(true_ids, predicted_ids, average="macro",
                             labels=list(range(num_labels)), zero_division=0)),
    }


TASK = Task(
    name="sentiment",
    default_dataset="stanfordnlp/imdb",
    eval_split="test",
    text_column="text",
    label_column="label",
    default_labels=("neg", "pos"),
    model_class="AutoModelForSequenceClassification",
    onnx_task="text-classification",
    preprocess=preprocess,
    compute_metrics=compute_metrics,
    decode="label",
    primary_metric="accuracy",
)
