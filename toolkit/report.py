"""Render results: terminal tables, JSON, Markdown, a PNG plot, and the bundle's model card."""

from __future__ import annotations

from pathlib import Path

from toolkit.tasks import TASKS


def format_table(header: list[str], rows: list[list]) -> str:
    """A plain aligned text table."""
    cells = [[str(c) for c in header]] + [[format_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_cell(value) -> str:
    """A table cell: "-" for nothing, floats to 4 decimals (1 from 10 up)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


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


NOT_MEASURED = "not measured"


def drop_text(variant: dict) -> str:
    """Points lost against PyTorch (+ = loss) with their 95% interval, or why there is no number."""
    if variant.get("drop_points") is None:
        return NOT_MEASURED
    interval = variant.get("drop_interval")
    return f"{variant['drop_points']:+.2f}" + (f" [{interval[0]:+.2f}, {interval[1]:+.2f}]" if interval else "")


def export_table(manifest: dict) -> str:
    """Per variant of a bundle: size, parity against PyTorch, the task metric and the points lost."""
    metric = TASKS[manifest["task"]].primary_metric
    baseline = (manifest["evaluation"] or {}).get("pytorch")
    rows = [["pytorch", None, None, None, baseline[metric] if baseline else NOT_MEASURED, None]]
    for name, v in manifest["variants"].items():
        marker = " *" if name == manifest["default_variant"] else ""
        rows.append([name + marker, round(v["size_bytes"] / 1e6, 1), f"{v['parity']['max_abs_diff']:.2e}",
                     v["parity"]["label_agreement"], v.get("accuracy", {}).get(metric, NOT_MEASURED), drop_text(v)])
    return format_table(["variant", "size_mb", "max_abs_diff", "agreement", metric,
                         "points lost [95% interval]"], rows)


PEER_MARK = " (peer)"


def row_name(entry: dict) -> str:
    """A result's name as the table, Markdown and plot show it: peers are marked as such."""
    return entry["variant"] + (PEER_MARK if entry.get("peer") else "")


def one_decimal(value) -> str | None:
    """Milliseconds and rates with one decimal, whatever their size (5.9 beside 32.3, not 5.8939)."""
    return None if value is None else f"{value:.1f}"


def bench_rows(result) -> list[list]:
    """One row per variant and latency cell: metrics, points lost against PyTorch, percentiles, throughput."""
    rows = []
    for entry in result.results:
        metrics = entry["metrics"] or {}
        e2e = (entry["end_to_end"] or {}).get("examples_per_s")
        for i, cell in enumerate(entry["latency"] or [{}]):
            first = i == 0
            rows.append([
                row_name(entry) if first else "",
                metrics.get("f1") if first else None, metrics.get("accuracy") if first else None,
                (drop_text(metrics) if metrics else NOT_MEASURED) if first else None,
                cell.get("batch_size"), cell.get("seq_len"), *map(one_decimal, (cell.get("p50_ms"), cell.get("p90_ms"),
                                                                   cell.get("p99_ms"), cell.get("throughput"))),
                one_decimal(e2e) if first else None,
            ])
    return rows


BENCH_HEADER = ["variant", "f1", "accuracy", "pts lost [95%]", "batch", "seq", "p50_ms", "p90_ms", "p99_ms",
                "seq/s", "e2e_ex/s"]


def result_metric(result) -> str:
    return TASKS[result.task].primary_metric


def bench_table(result) -> str:
    """The terminal table of `toolkit bench`, with notes below it."""
    env = result.environment
    lines = [("PARTIAL (interrupted) " if result.partial else "") + f"{result.task} bundle {result.bundle} on "
             f"{result.device}: {env.get('cpu')}, {env.get('threads')} threads" + (f", {env['gpu']}" if env.get("gpu") else ""),
             format_table(BENCH_HEADER, bench_rows(result))]
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines)


def bench_markdown(result) -> str:
    """A Markdown report: environment, then the same table as the terminal's."""
    env = result.environment
    header = "| " + " | ".join(BENCH_HEADER) + " |"
    rule = "|" + "---|" * len(BENCH_HEADER)
    body = ["| " + " | ".join(format_cell(c) for c in row) + " |" for row in bench_rows(result)]
    return "\n".join([
        f"# Benchmark: {result.task} bundle `{result.bundle}`" + (" (PARTIAL: interrupted)" if result.partial else ""),
        "",
        f"- device: {result.device}; CPU: {env.get('cpu')} ({env.get('cores')} cores), threads: {env.get('threads')}"
        + (f"; GPU: {env['gpu']} (IO binding, copies excluded)" if env.get("gpu") else ""),
        f"- versions: {', '.join(f'{k} {v}' for k, v in env.get('versions', {}).items())}",
        f"- providers: {', '.join(f'{k}: {v}' for k, v in env.get('providers', {}).items())}",
        f"- latency: {env.get('warmup')} warm-up then {env.get('runs')} timed runs on identical synthetic inputs; "
        "e2e: raw text in, answers out, length-sorted batches of 32",
        *(["- peers: other runtimes on the same rows, inputs and threads; their set-up time is in the notes, "
            "not in their latency"] if any(e.get("peer") for e in result.results) else []), "",
        header, rule, *body, "", *[f"- note: {n}" for n in result.notes], ""])


def bench_plot(result, path) -> None:
    """Latency (p50) against batch size, one line per variant and sequence length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for entry in result.results:
        for seq_len in sorted({c["seq_len"] for c in entry["latency"]}):
            cells = sorted((c for c in entry["latency"] if c["seq_len"] == seq_len), key=lambda c: c["batch_size"])
            axis.plot([c["batch_size"] for c in cells], [c["p50_ms"] for c in cells], marker="o",
                      linestyle="--" if entry.get("peer") else "-", label=f"{row_name(entry)} (seq {seq_len})")
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    axis.set_xlabel("batch size")
    axis.set_ylabel("p50 latency (ms)")
    axis.set_title(f"{result.task}: latency on {result.device} ({result.environment.get('threads')} threads)")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_reports(result, json_path) -> list:
    """Write report.json, and report.md and report.png next to it; return the paths."""
    import json
    from pathlib import Path

    json_path = Path(json_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    markdown = json_path.with_suffix(".md")
    markdown.write_text(bench_markdown(result))
    plot = json_path.with_suffix(".png")
    bench_plot(result, plot)
    return [json_path, markdown, plot]


# Licences of base models the toolkit knows; any other: its own model card says.
BASE_LICENCES = {"minilm": "Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)"}


def display_name(name: str | None) -> str:
    """A dataset or model as a reader knows it: a hub id as it is, a local path by its folder name."""
    if not name:
        return "unknown"
    return Path(name).name if ("/" in name and Path(name).is_absolute()) or Path(name).exists() else name


def model_card(manifest: dict) -> str:
    """A README.md for the bundle: what it is for, its data, its checked metrics, its limits, how to load it."""
    task = TASKS[manifest["task"]]
    metric = task.primary_metric
    evaluation = manifest["evaluation"]
    training = manifest.get("training") or {}
    rows = ["| variant | file | size (MB) | max abs diff | label agreement | "
            f"{metric} | points lost vs PyTorch [95% interval] |", "|---|---|---|---|---|---|---|"]
    if evaluation.get("pytorch"):
        rows.append(f"| pytorch | - | - | - | - | {evaluation['pytorch'][metric]:.4f} | - |")
    for name, v in manifest["variants"].items():
        value = v.get("accuracy", {}).get(metric)
        rows.append(f"| {name}{' (default)' if name == manifest['default_variant'] else ''} | {v['file']} | "
                    f"{v['size_bytes'] / 1e6:.1f} | {v['parity']['max_abs_diff']:.2e} | "
                    f"{v['parity']['label_agreement']:.4f} | {NOT_MEASURED if value is None else f'{value:.4f}'} | "
                    f"{drop_text(v)} |")
    pooling = (["Pooling: mean of the token vectors. The ONNX graphs pool by themselves; the PyTorch "
                "checkpoint loads with `AutoModelForSequenceClassification.from_pretrained(CHECKPOINT, "
                "trust_remote_code=True)` (its `mean_pooling.py`) or `toolkit.modeling.load_model`; without "
                "`trust_remote_code` transformers refuses it rather than read [CLS].", ""]
               if manifest.get("pooling") == "mean" else [])
    data = (f"{evaluation['examples']} examples of {display_name(evaluation['dataset'])} ({evaluation['split']} split)"
            if evaluation.get("measured") else "built-in sentences only: no labelled evaluation data was available, "
            "so accuracy was not measured (export again with --dataset to measure it)")
    base = manifest.get("base_model") or ""
    labels = ", ".join(manifest["labels"])
    use = (f"Tagging the entity types {', '.join(sorted({l[2:] for l in manifest['labels'] if l[:2] in ('B-', 'I-')}))} "
           "in running text; answers are spans with character offsets." if task.word_input else
           f"Classifying a text as one of: {labels}; answers are a label with its probability.")
    hyper = training.get("hyperparameters") or {}
    trained_on = (f"{training.get('train_examples', 'an unrecorded number of')} examples"
                  + (f" of {display_name(evaluation.get('dataset'))}" if evaluation.get("dataset") else ""))
    ort_class = "ORTModel" + task.model_class.removeprefix("AutoModel")
    return "\n".join([
        f"# {manifest['task']} model: {manifest['model_type']} fine-tuned from {display_name(base)}", "",
        "## Intended use", "", use, "", f"Labels: {labels}. Inputs longer than {manifest['max_length']} tokens are "
        "read in overlapping windows.", "", *pooling,
        "## Training data", "", f"Trained on {trained_on}"
        + (f" with learning rate {hyper['learning_rate']:g} for {hyper['epochs']:g} epochs." if hyper else "."), "",
        "## Metrics", "", f"Every variant was checked against the PyTorch checkpoint on {data}.", "", *rows, "",
        "## Limitations", "",
        f"- Trained on {trained_on}: expect lower accuracy on text unlike it (other domains, languages, casing).",
        "- int8 variants quantize activations per batch, so their scores can differ slightly with batch "
        "composition; the points-lost interval says how much their answers cost on the evaluation rows.", "",
        "## Licence", "", f"The base model's licence applies: {BASE_LICENCES.get(base, display_name(base) + ' (see its model card)')}."
        " The training data's terms apply to the model too (CoNLL-2003 and IMDB are for research use).", "",
        "## How to load it", "",
        "```python", "from toolkit.runtime import load", "model = load(\"THIS_FOLDER\")  # the folder holding this file",
        "```", "", f"Or with Optimum: `{ort_class}.from_pretrained(THIS_FOLDER, file_name=\"{manifest['variants'][manifest['default_variant']]['file']}\")`.",
        "", f"Made with toolkit {manifest['versions']['toolkit']}, onnxruntime "
        f"{manifest['versions']['onnxruntime']}, on {manifest['created']}.", ""])
