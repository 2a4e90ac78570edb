"""What `toolkit export` shows and writes: the terminal table of a bundle's variants and its model card."""

from __future__ import annotations

from pathlib import Path

from toolkit.report import NOT_MEASURED, format_table
from toolkit.tasks import TASKS


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
