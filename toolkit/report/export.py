"""What `toolkit export` shows and writes: the terminal table of a bundle's variants and its model card."""

from __future__ import annotations

from pathlib import Path

from toolkit.hub import looks_like_path
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


def distillation_lines(manifest: dict) -> list[str]:
    """Who taught the model, when it was distilled (`toolkit train --teacher`)."""
    record = (manifest.get("training") or {}).get("distillation")
    if not record:
        return []
    teacher = record["teacher"]
    score = ", ".join(f"{k} {v:.4f}" for k, v in (teacher.get("score") or {}).items() if isinstance(v, float))
    return [f"Distilled from a teacher of model type {teacher.get('model_type')} ({teacher.get('path')}"
            f"{'; on the same evaluation rows: ' + score if score else ''}) at temperature {record['temperature']:g}, "
            f"{record['distill_weight']:g} of the loss from its probabilities, with {record['unlabeled_rows']:,} "
            "unlabelled rows beside the labelled ones.", ""]


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


# Licences of base models the toolkit knows (Hugging Face's licence ids); any other: its own model card says.
BASE_LICENCES = {"minilm": ("apache-2.0", "sentence-transformers/all-MiniLM-L6-v2")}
# Datasets whose terms the card names, found by their name in the dataset's hub id or folder.
DATA_TERMS = {"conll2003": "CoNLL-2003 is built on Reuters news text and is for research use",
              "imdb": "the IMDB reviews (Maas et al., 2011) are for research use"}
PIPELINE_TAGS = {"AutoModelForTokenClassification": "token-classification",
                 "AutoModelForSequenceClassification": "text-classification"}


def display_name(name: str | None) -> str:
    """A dataset or model as a reader knows it: a hub id as it is, a local path by its folder name."""
    if not name:
        return "unknown"
    return Path(name).name if looks_like_path(name) else name


def base_model_name(base: str) -> str:
    """The base model's hub id where it is known (the embedded MiniLM's), else its display name."""
    return BASE_LICENCES[base][1] if base in BASE_LICENCES else display_name(base)


def data_terms(dataset: str | None) -> str | None:
    """The terms of a known dataset the model was trained on, or None."""
    lowered = (dataset or "").lower().replace("-", "").replace("_", "")
    return next((terms for key, terms in DATA_TERMS.items() if key in lowered), None)


def front_matter(manifest: dict) -> list[str]:
    """Hugging Face's YAML metadata block: licence, base model, datasets, metrics and the model-index, so that
    the hub and other tools read the card."""
    import yaml

    task = TASKS[manifest["task"]]
    evaluation = manifest["evaluation"] or {}
    base = manifest.get("base_model") or ""
    datasets = [d for d in {(manifest.get("training") or {}).get("dataset"), evaluation.get("dataset")}
                if d and not looks_like_path(d)]
    meta = {"license": BASE_LICENCES[base][0] if base in BASE_LICENCES else "unknown",
            "library_name": "onnx", "pipeline_tag": PIPELINE_TAGS[task.model_class],
            "tags": ["onnx", "toolkit", manifest["task"]], "metrics": [task.primary_metric]}
    if base and not looks_like_path(base):
        meta["base_model"] = base_model_name(base)
    if datasets:
        meta["datasets"] = sorted(datasets)
    measured = evaluation.get("measured") and manifest["variants"][manifest["default_variant"]].get("accuracy")
    if measured:
        value = manifest["variants"][manifest["default_variant"]]["accuracy"][task.primary_metric]
        meta["model-index"] = [{
            "name": f"{manifest['task']}-{manifest['model_type']}",
            "results": [{"task": {"type": PIPELINE_TAGS[task.model_class]},
                         "dataset": {"name": display_name(evaluation["dataset"]),
                                     "type": display_name(evaluation["dataset"]), "split": evaluation["split"]},
                         "metrics": [{"type": task.primary_metric, "value": round(float(value), 4),
                                      "name": f"{task.primary_metric} of {manifest['default_variant']} (toolkit "
                                              "runtime)"}]}]}]
    return ["---", yaml.safe_dump(meta, sort_keys=False).rstrip(), "---", ""]


def decoding_lines(manifest: dict) -> list[str]:
    """NER: which loading route decodes how, and what each scores on the evaluation rows."""
    pytorch = (manifest["evaluation"] or {}).get("pytorch") or {}
    if manifest["decoding"] != "viterbi" or "argmax" not in pytorch:
        return []
    metric = TASKS[manifest["task"]].primary_metric
    return [f"Decoding: `toolkit.runtime` tags with the best path in which every I-X continues an X (constrained "
            f"decoding): {metric} {pytorch[metric]:.4f} on these rows (PyTorch). Optimum's ORTModelForTokenClassification"
            f" and transformers' pipeline take each token's arg-max instead: {metric} {pytorch['argmax']:.4f} on the "
            "same rows. They do not get the constrained decoding by themselves; the last snippet below adds it to "
            "their logits.", ""]


def loading_lines(manifest: dict) -> list[str]:
    """How to load the bundle: with the toolkit's runtime, with Optimum, and (NER) Optimum with constrained
    decoding. Each snippet runs as it is shown (tests/report/test_export.py runs them)."""
    task = TASKS[manifest["task"]]
    ort_class = "ORTModel" + task.model_class.removeprefix("AutoModel")
    file_name = manifest["variants"][manifest["default_variant"]]["file"]
    # The mean-pooling head is code of its own (mean_pooling.py beside config.json): transformers runs it only
    # when told to trust it, and refuses the config otherwise.
    trust = ", trust_remote_code=True" if manifest.get("pooling") == "mean" else ""
    lines = ["```python", "from toolkit.runtime import load", "", "model = load(\"THIS_FOLDER\")  # the folder holding "
             "this file", "```", "", "With Optimum:", "", "```python", f"from optimum.onnxruntime import {ort_class}",
             "", f"model = {ort_class}.from_pretrained(\"THIS_FOLDER\", file_name=\"{file_name}\"{trust})", "```", ""]
    if manifest["decoding"] == "viterbi":
        lines += ["With Optimum and the constrained decoding the metrics above measure:", "", "```python",
                  "from optimum.onnxruntime import ORTModelForTokenClassification",
                  "from transformers import AutoTokenizer", "from toolkit.runtime.bio import decode_tag_sequences", "",
                  f"model = ORTModelForTokenClassification.from_pretrained(\"THIS_FOLDER\", file_name=\"{file_name}\")",
                  "tokenizer = AutoTokenizer.from_pretrained(\"THIS_FOLDER\")",
                  "inputs = tokenizer(\"Angela Merkel visited Paris.\", return_tensors=\"np\")",
                  "logits = model(**inputs).logits[0][1:-1]  # without [CLS] and [SEP]",
                  "labels = tuple(model.config.id2label[i] for i in range(len(model.config.id2label)))",
                  "tags = [labels[i] for i in decode_tag_sequences([logits], labels)[0]]", "```", ""]
    return lines


def trained_on_text(manifest: dict) -> str:
    """What the model was trained on, e.g. "400 examples of eriktks/conll2003", "400 sentences of a synthetic
    sample (toolkit's templates, not real data)"."""
    training, evaluation = manifest.get("training") or {}, manifest["evaluation"] or {}
    count = training.get("train_examples", "an unrecorded number of")
    if training.get("synthetic"):
        return f"{count} examples of a synthetic sample (toolkit's templates, not real data)"
    dataset = training.get("dataset") or evaluation.get("dataset")
    return f"{count} examples" + (f" of {display_name(dataset)}" if dataset else "")


def model_card(manifest: dict) -> str:
    """A README.md for the bundle: Hugging Face metadata, what it is for, its data, its checked metrics, its
    limits, how to load it."""
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
    trained_on = trained_on_text(manifest)
    terms = data_terms(training.get("dataset") or evaluation.get("dataset"))
    licence = (f"{BASE_LICENCES[base][0]} ({BASE_LICENCES[base][1]})" if base in BASE_LICENCES
               else f"{display_name(base)} (see its model card)")
    return "\n".join([
        *front_matter(manifest),
        f"# {manifest['task']} model: {manifest['model_type']} fine-tuned from {base_model_name(base)}", "",
        "## Intended use", "", use, "", f"Labels: {labels}. Inputs longer than {manifest['max_length']} tokens are "
        "read in overlapping windows.", "", *pooling,
        "## Training data", "", f"Trained on {trained_on}"
        + (f" with learning rate {hyper['learning_rate']:g} for {hyper['epochs']:g} epochs." if hyper else "."), "",
        *distillation_lines(manifest),
        "## Metrics", "", f"Every variant was checked against the PyTorch checkpoint on {data}.", "", *rows, "",
        *decision_lines(manifest), *decoding_lines(manifest),
        "## Limitations", "",
        f"- Trained on {trained_on}: expect lower accuracy on text unlike it (other domains, languages, casing).",
        "- int8 variants answer a text the same in any batch (int8-dynamic gives each token's activations a "
        "scale of their own; the calibrated ones use fixed scales); the points-lost interval says what their "
        "rounding costs on the evaluation rows.", "",
        "## Licence", "", f"The base model's licence applies: {licence}."
        + (f" The training data's terms apply to the model too: {terms}." if terms else ""), "",
        "## How to load it", "", *loading_lines(manifest),
        f"Made with toolkit {manifest['versions']['toolkit']}, onnxruntime "
        f"{manifest['versions']['onnxruntime']}, on {manifest['created']}.", ""])
