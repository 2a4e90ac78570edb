"""Render results: terminal tables, JSON, Markdown and a PNG plot."""

from __future__ import annotations


def format_table(header: list[str], rows: list[list]) -> str:
    """A plain aligned text table."""
    cells = [[str(c) for c in header]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def train_table(metrics: dict) -> str:
    """The final evaluation of `toolkit train`: headline metrics, then per entity type if any."""
    keys = [k for k in ("f1", "precision", "recall", "accuracy") if k in metrics]
    lines = [format_table(["metric", "value"], [[k, metrics[k]] for k in keys]
                          + [["train_runtime_s", metrics["train_runtime_s"]]])]
    per_type = metrics.get("per_type")
    if per_type:
        rows = [[name, v["precision"], v["recall"], v["f1"], v["support"]] for name, v in per_type.items()]
        lines.append(format_table(["entity", "precision", "recall", "f1", "support"], rows))
    return "\n\n".join(lines)


def export_table(manifest: dict) -> str:
    """Per variant of a bundle: size, parity against PyTorch, and the task metric."""
    metric = "f1" if manifest["task"] == "ner" else "accuracy"
    baseline = (manifest["evaluation"] or {}).get("pytorch")
    rows = [["pytorch", None, None, None, baseline[metric] if baseline else None, None]]
    for name, v in manifest["variants"].items():
        marker = " *" if name == manifest["default_variant"] else ""
        rows.append([name + marker, round(v["size_bytes"] / 1e6, 1), f"{v['parity']['max_abs_diff']:.2e}",
                     v["parity"]["label_agreement"], v.get("accuracy", {}).get(metric), v["drop_points"]])
    return format_table(["variant", "size_mb", "max_abs_diff", "agreement", metric, "drop_pts"], rows)
