"""The tables every format of `toolkit evaluate`'s report shows, built once as (header, rows): the terminal,
Markdown (`evaluation.py`) and HTML (`evaluation_html.py`) only draw them."""

from __future__ import annotations

from toolkit.tasks import get_task

DIFFERENCES_NOTE = ("Answers that differ from the PyTorch checkpoint's on the same rows (NER: the set of entities of "
                    "a sentence; sentiment: the label), and the change of each score (+ = better than PyTorch).")


def headline(report: dict) -> tuple[tuple[str, str], ...]:
    """The (key, title) columns the report's task leads with."""
    return get_task(report["task"]).headline


def score_rows(report: dict) -> tuple[list[str], list[list]]:
    """Header and rows of the scores table: every model evaluated, then the majority baseline."""
    columns = headline(report)
    differing = {d["variant"]: f"{d['differing']}/{d['examples']}" for d in report["differences"]}
    header = ["model", *(name for _, name in columns)] + (["answers differing from PyTorch"] if differing else [])
    rows = []
    for entry in report["models"]:
        name = entry["model"] + (" *" if entry["model"] == report["subject"] and len(report["models"]) > 1 else "")
        rows.append([name, *(entry["metrics"].get(key) for key, _ in columns)]
                    + ([differing.get(entry["model"], "-")] if differing else []))
    baseline = report["baseline"] or {}
    rows.append([f"always {baseline.get('answer')!r}", *(baseline.get(key) for key, _ in columns)]
                + (["-"] if differing else []))
    return header, rows


def difference_rows(report: dict) -> tuple[list[str], list[list]]:
    """Header and rows of a bundle's variants against PyTorch: answers differing, the change of each score."""
    columns = headline(report)
    header = ["variant", "examples answered differently", *(f"Δ {name}" for _, name in columns)]
    rows = [[d["variant"], f"{d['differing']}/{d['examples']}",
             *(f"{d['metric_deltas'][k]:+.4f}" if k in d["metric_deltas"] else "-" for k, _ in columns)]
            for d in report["differences"]]
    return header, rows


def evaluated_line(report: dict, code=str) -> str:
    """What was evaluated, on which rows, in one sentence (`code` marks names and paths)."""
    evaluation = report["evaluation"]
    what = (f"the PyTorch checkpoint {code(report['model_dir'])}" if report["kind"] == "checkpoint" else
            f"variant {code(report['subject'])} of the bundle {code(report['model_dir'])}")
    return (f"{report['task']}: {what}, on {evaluation['examples']} examples of {code(evaluation['dataset'])} "
            f"({evaluation['split']}); decoding: {report['decoding']}")
