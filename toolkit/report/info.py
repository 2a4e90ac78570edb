"""What `toolkit info` shows: a bundle's or a checkpoint's facts as a few lines and a table."""

from __future__ import annotations

from toolkit.report import NOT_MEASURED, format_table
from toolkit.report.export import decision_text, drop_text
from toolkit.runtime.manifest import KEEPS
from toolkit.tasks import TASKS


def recipe_text(recipe: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in recipe.items() if not isinstance(v, (dict, list))) or "-"


def default_reason(facts: dict) -> str:
    """Why the default variant is the default, from the decision the manifest records."""
    default = facts["variants"][facts["default_variant"]]
    decided = {name: v["decision"] for name, v in facts["variants"].items() if v.get("decision")}
    if (default.get("decision") or {}).get("verdict") == KEEPS:
        return f"shown to keep accuracy: {decision_text(default)}"
    if default.get("decision"):
        return f"named with --default-variant (not shown to keep accuracy: {decision_text(default)})"
    held = [f"{name} {decision['verdict']}" for name, decision in decided.items()]
    if held:
        return "the quantized variants were not shown to keep accuracy (" + "; ".join(held) + ")"
    return "no quantized variant was decided on: the fastest float variant"


def bundle_text(facts: dict) -> str:
    metric = TASKS[facts["task"]].primary_metric
    evaluation = facts.get("evaluation") or {}
    rows = [[name + (" *" if name == facts["default_variant"] else ""), v["size_mb"], v["engine"],
             ",".join(v.get("devices") or []), (v.get("accuracy") or {}).get(metric, NOT_MEASURED), drop_text(v),
             recipe_text(v["recipe"])] for name, v in facts["variants"].items()]
    decided = next((v["decision"] for v in facts["variants"].values() if v.get("decision")), None)
    lines = [f"bundle: {facts['path']}",
             f"task: {facts['task']} ({facts['model_type']} from {facts.get('base_model') or 'unknown'}; decoding "
             f"{facts.get('decoding')}, pooling {facts.get('pooling')}, up to {facts['max_length']} tokens a window)",
             f"labels ({len(facts['labels'])}): {', '.join(facts['labels'])}",
             f"default: {facts['default_variant']}: {default_reason(facts)}"]
    if decided:
        lines.append(f"decided on: {decided.get('cpu', 'an unrecorded CPU')} ({' '.join(decided.get('cpu_flags', []))})")
    if evaluation.get("measured"):
        pytorch = evaluation.get("pytorch") or {}
        lines.append(f"scored on: {evaluation.get('examples')} examples of {evaluation.get('dataset')} "
                     f"({evaluation.get('split')} split); pytorch {metric} {pytorch.get(metric, NOT_MEASURED)}")
    else:
        lines.append("scored on: nothing: no labelled evaluation data was available at export")
    table = format_table(["variant", "size_mb", "engine", "devices", metric, "points lost [95% interval]", "recipe"],
                         rows)
    made = f"made with toolkit {(facts.get('versions') or {}).get('toolkit')} on {facts.get('created')}"
    return "\n".join(lines) + "\n\n" + table + "\n" + made


def checkpoint_text(facts: dict) -> str:
    scores = ", ".join(f"{k} {v:.4f}" for k, v in facts["scores"].items()) or "not recorded (no metrics.json)"
    evaluation = facts.get("evaluation") or {}
    hyper = facts.get("hyperparameters") or {}
    return "\n".join([
        f"checkpoint: {facts['path']} ({facts['size_mb']} MB of weights)",
        f"task: {facts['task']} ({facts['model_type']} from {facts.get('base_model') or 'unknown'}; decoding "
        f"{facts.get('decoding')}, pooling {facts.get('pooling')}, up to {facts['max_length']} tokens)",
        f"labels ({len(facts['labels'])}): {', '.join(facts['labels'])}",
        f"scores: {scores}" + (f" on {evaluation.get('examples')} examples of {evaluation.get('dataset')} "
                               f"({evaluation.get('split')} split)" if evaluation else ""),
        f"trained on: {facts.get('train_examples') or 'an unrecorded number of'} examples"
        + (f" in {facts['train_runtime_s']:.0f} s" if facts.get("train_runtime_s") else ""),
        "recipe: " + (", ".join(f"{k}={v}" for k, v in hyper.items()) or "not recorded"),
        f"next: toolkit export {facts['path']} --quantize"])


def info_text(facts: dict) -> str:
    """`toolkit info`'s terminal text for what `toolkit.info.describe` found."""
    return bundle_text(facts) if facts["kind"] == "bundle" else checkpoint_text(facts)
