"""The terminal table of `toolkit train`."""

from __future__ import annotations

from toolkit.report import format_table
from toolkit.tasks import TASKS


def train_table(metrics: dict) -> str:
    """The final evaluation of `toolkit train`: headline metrics, then per entity type if any."""
    keys = [k for k in ("f1", "precision", "recall", "accuracy") if k in metrics]
    baseline = metrics.get("baseline") or {}
    header = ["metric", "model", f"always {baseline['answer']!r}" if baseline else "baseline"]
    lines = [format_table(header, [[k, metrics[k], baseline.get(k)] for k in keys]
                          + [["train_runtime_s", metrics["train_runtime_s"], None]])]
    if metrics.get("at_or_below_baseline"):
        lines.append("warning: the model is at or below the majority baseline: it has not learned the task.")
    hyper = metrics.get("hyperparameters")
    if hyper:  # without the settings of other tasks: no pooling line in an NER run
        others = {o for t in TASKS.values() if t.name != metrics.get("task") for o in t.train_options}
        lines.append("hyper-parameters: " + ", ".join(f"{k}={v}" for k, v in hyper.items() if k not in others))
    per_type = metrics.get("per_type")
    if per_type:
        rows = [[name, v["precision"], v["recall"], v["f1"], v["support"]] for name, v in per_type.items()]
        lines.append(format_table(["entity", "precision", "recall", "f1", "support"], rows))
    return "\n\n".join(lines)
