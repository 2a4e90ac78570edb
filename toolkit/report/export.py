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


def decision_text(variant: dict) -> str:
    """How the default rule decided on a quantized variant: verdict, rows and interval, or "" when
    it needed no decision (strict-parity variants, older bundles)."""
    decision = variant.get("decision")
    if not decision:
        return ""
    low, high = decision["drop_interval"]
    return (f"{decision['verdict']} ({decision['rows']:,} rows, {decision['looks']} of {decision['planned_looks']} "
            f"looks, {decision['drop_points']:+.2f} [{low:+.2f}, {high:+.2f}] at {decision['confidence']:.2%})")


def export_table(manifest: dict) -> str:
    """Per variant of a bundle: size, parity against PyTorch, the task metric and the points lost."""
    metric = TASKS[manifest["task"]].primary_metric
    baseline = (manifest["evaluation"] or {}).get("pytorch")
    rows = [["pytorch", None, None, None, baseline[metric] if baseline else NOT_MEASURED, None, None]]
    for name, v in manifest["variants"].items():
        marker = " *" if name == manifest["default_variant"] else ""
        rows.append([name + marker, round(v["size_bytes"] / 1e6, 1), f"{v['parity']['max_abs_diff']:.2e}",
                     v["parity"]["label_agreement"], v.get("accuracy", {}).get(metric, NOT_MEASURED), drop_text(v),
                     decision_text(v)])
    return format_table(["variant", "size_mb", "max_abs_diff", "agreement", metric,
                         "points lost [95% interval]", "default decision"], rows)


def decision_lines(manifest: dict) -> list[str]:
    """The default and the evidence behind it: the rule, and the CPU the decision was measured on."""
    decided = {name: v["decision"] for name, v in manifest["variants"].items() if v.get("decision")}
    if not decided:
        return []
    first = next(iter(decided.values()))
    return [f"Default: {manifest['default_variant']}. A quantized variant is the default only when it is shown to "
            f"lose at most {manifest['options'].get('max_drop', 0.5):g} points: {first['method']}, scoring more rows "
            f"of the split while the interval straddles that bound. Decided on {first.get('cpu', 'an unrecorded CPU')} "
            f"({' '.join(first.get('cpu_flags', []))}).", ""]


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
            f"{metric} | points lost vs PyTorch [95% interval] | default decision |", "|---|---|---|---|---|---|---|---|"]
    if evaluation.get("pytorch"):
        rows.append(f"| pytorch | - | - | - | - | {evaluation['pytorch'][metric]:.4f} | - | - |")
    for name, v in manifest["variants"].items():
        value = v.get("accuracy", {}).get(metric)
        rows.append(f"| {name}{' (default)' if name == manifest['default_variant'] else ''} | {v['file']} | "
                    f"{v['size_bytes'] / 1e6:.1f} | {v['parity']['max_abs_diff']:.2e} | "
                    f"{v['parity']['label_agreement']:.4f} | {NOT_MEASURED if value is None else f'{value:.4f}'} | "
                    f"{drop_text(v)} | {decision_text(v) or '-'} |")
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
        *decision_lines(manifest),
        "## Limitations", "",
        f"- Trained on {trained_on}: expect lower accuracy on text unlike it (other domains, languages, casing).",
        "- int8 variants answer a text the same in any batch (int8-dynamic gives each token's activations a "
        "scale of their own; the calibrated ones use fixed scales); the points-lost interval says what their "
        "rounding costs on the evaluation rows.", "",
        "## Licence", "", f"The base model's licence applies: {BASE_LICENCES.get(base, display_name(base) + ' (see its model card)')}."
        " The training data's terms apply to the model too (CoNLL-2003 and IMDB are for research use).", "",
        "## How to load it", "",
        "```python", "from toolkit.runtime import load", "model = load(\"THIS_FOLDER\")  # the folder holding this file",
        "```", "", f"Or with Optimum: `{ort_class}.from_pretrained(THIS_FOLDER, file_name=\"{manifest['variants'][manifest['default_variant']]['file']}\")`.",
        "", f"Made with toolkit {manifest['versions']['toolkit']}, onnxruntime "
        f"{manifest['versions']['onnxruntime']}, on {manifest['created']}.", ""])
