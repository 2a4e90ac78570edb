"""What evaluating one model on the evaluation rows gives, whatever the task."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Analysis:
    metrics: dict  # headline numbers: the training metrics, plus the task's own (NER: word-level scores)
    examples: list[dict]  # per example, what a reader needs to see it: index, text or words, gold answer
    answers: list  # per example, the model's answer as the reports show it
    keys: list  # per example, what two models must share to count as answering alike
    details: dict = field(default_factory=dict)  # the task's tables: per type, errors, worst examples
