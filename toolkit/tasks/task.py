"""What a task is: the data every task file fills in (toolkit/tasks/ner.py, sentiment.py), and how
its rows are encoded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from toolkit.runtime.answers import AnswerKind


@dataclass(frozen=True)
class Encoding:
    """How `Task.preprocess` reads rows and cuts them into model inputs.

    Training builds it from its options, and every later evaluation of the checkpoint from what
    training recorded, so both encode the same rows the same way.
    """

    text_column: str
    label_column: str
    max_length: int
    label_all_tokens: bool  # ner: continuation pieces get the word's label (B-X as I-X), else none
    truncation: str  # sentiment: long texts cut to their "head", "head+tail", or read in "windows"
    # Sentiment: read long texts in windows whatever the truncation, as the runtime reads them.
    for_evaluation: bool = False


@dataclass(frozen=True)
class Task:
    name: str
    default_dataset: str  # hub id `toolkit train` uses without --dataset
    eval_split: str  # the split the protocol evaluates on
    text_column: str
    label_column: str
    default_labels: tuple[str, ...]  # label names when the data gives plain ids
    model_class: str  # transformers auto class name, imported lazily
    onnx_task: str  # Optimum exporter task name
    collator: str  # transformers data collator class name
    word_input: bool  # the text column holds pre-split words with one label each (CoNLL), not text
    answer_kind: AnswerKind  # what the runtime answers for this task (the manifest's `decode`)
    primary_metric: str  # the metric an export's accuracy check compares
    # The metrics reports lead with, in order: (key in the metrics, what a reader calls it).
    headline: tuple[tuple[str, str], ...]
    preprocess: Callable  # (batch, tokenizer, labels, Encoding) -> features with aligned labels
    compute_metrics: Callable  # (logits, label_ids, labels, decoding, example_index=None) -> dict
    score_examples: Callable  # (per-example logits, features, labels, decoding) -> dict
    order_labels: Callable  # set of label names found in the data -> their stable order
    example_counts: Callable  # (per-example logits, features, labels, decoding) -> counts per text (n x k)
    metric_of_counts: Callable  # summed counts (... x k) -> the primary metric, for bootstrap intervals
    check_example: Callable  # (text, labels) of one row -> what is wrong with it, or None
    check_labels: Callable  # label names -> what is wrong with the set, or None
    # Overrides of the tutorial's recipe by model size ("small" | "large"); see toolkit/train/presets.py.
    presets: dict = field(default_factory=dict)
    train_options: tuple[str, ...] = ()  # `toolkit train` options (and hyper-parameters) of this task alone
    # Most evaluation rows export's default decision scores (toolkit/export/decision.py); None: the split.
    decision_rows: int | None = None

    @property
    def architecture_suffix(self) -> str:
        """What transformers' architecture names of this task end with, e.g. ForTokenClassification."""
        return self.model_class.removeprefix("AutoModel")

    def texts(self, column) -> list[str]:
        """The raw texts of a text column, as a user of the runtime would send them."""
        return [" ".join(words) for words in column] if self.word_input else list(column)

    def flat_labels(self, column) -> list:
        """Every label of a label column (one per word for word-level tasks)."""
        return [label for row in column for label in row] if self.word_input else list(column)

    def map_labels(self, column, convert: Callable) -> list:
        """A label column with `convert` applied to every label."""
        return [[convert(label) for label in row] for row in column] if self.word_input else [
            convert(label) for label in column]

    def tokenize_texts(self, tokenizer, column, max_length: int):
        """Tokenize a text column without labels, e.g. for calibration."""
        return tokenizer(list(column), is_split_into_words=self.word_input, truncation=True, max_length=max_length)
