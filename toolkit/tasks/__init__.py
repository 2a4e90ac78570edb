"""The registry of tasks: each task is data, looked up by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from toolkit.errors import ToolkitError


@dataclass(frozen=True)
class Task:
    name: str
    default_dataset: str
    eval_split: str
    text_column: str
    label_column: str
    default_labels: tuple[str, ...]
    model_class: str  # transformers class name, imported lazily
    onnx_task: str  # Optimum exporter task name
    preprocess: Callable  # (batch, tokenizer, labels, cfg) -> features
    compute_metrics: Callable  # (logits, label_ids, labels) -> dict
    decode: str  # how the runtime turns logits into answers: "entities" | "label"
    primary_metric: str  # the metric an export's accuracy check compares


def _build_registry() -> dict[str, Task]:
    from toolkit.tasks import ner, sentiment

    return {task.name: task for task in (ner.TASK, sentiment.TASK)}


TASKS: dict[str, Task] = _build_registry()


def get_task(name: str) -> Task:
    """Return the task called `name`, or raise a clear error naming the known ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise ToolkitError(
            f"unknown task {name!r}: expected one of {', '.join(sorted(TASKS))}."
        ) from None
