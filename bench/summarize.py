"""Print the README's result tables (Markdown) from what bench/reproduce.sh wrote to bench/results/."""

from __future__ import annotations

import json
from pathlib import Path

from toolkit.tasks import TASKS

RESULTS = Path(__file__).parent / "results"


def accuracy_rows() -> list[str]:
    lines = ["| stage | run | task | F1 | accuracy | train time (s) | options |", "|---|---|---|---|---|---|---|"]
    for line in (RESULTS / "accuracy.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["stage"] == "decoding":
            lines.append(f"| decoding | {row['name']} | ner | argmax {row['argmax']:.4f} / viterbi "
                         f"{row['viterbi']:.4f} | | | re-scored holdout |")
            continue
        if row["stage"] == "windows":
            lines.append(f"| windows | {row['name']} | sentiment | | head {row['head']:.3f} / windows "
                         f"{row['windows']:.3f} | | re-scored holdout |")
            continue
        if row["stage"] == "ensemble":
            lines.append(f"| ensemble | {row['name']} | ner | viterbi {row['viterbi']:.4f} | | | "
                         "mean of the runs' probabilities, holdout |")
            continue
        if row["stage"] == "probe":
            lines.append(f"| probe | frozen MiniLM | sentiment | | [CLS] {row['cls']:.3f} / mean {row['mean']:.3f} | | "
                         "logistic regression, holdout |")
            continue
        hyper = row.get("hyperparameters") or {}
        options = " ".join(row.get("options") or []) or "(defaults)"
        lines.append(f"| {row['stage']} | {row.get('name', '')} | {row['task']} | {row['f1']:.4f} | "
                     f"{row['accuracy']:.4f} | {row['train_runtime_s']:.0f} | {options} lr={hyper.get('learning_rate')} "
                     f"epochs={hyper.get('epochs')} decoding={hyper.get('decoding') or 'argmax'} "
                     f"truncation={hyper.get('truncation', 'head')} pooling={hyper.get('pooling', 'cls')} |")
    return lines


def bench_rows(name: str) -> list[str]:
    report = json.loads((RESULTS / f"{name}.json").read_text())
    metric = TASKS[report["task"]].primary_metric
    lines = [f"**{name}** ({report['environment']['cpu']}, {report['environment']['threads']} threads, "
             f"{report['environment']['runs']} runs)", "",
             f"| variant | {metric} | points lost vs PyTorch | b1 p50 ms | b1 p90 ms | b8 p50 ms | b8 seq/s | end-to-end ex/s |",
             "|---|---|---|---|---|---|---|---|"]
    for entry in report["results"]:
        cells = {c["batch_size"]: c for c in entry["latency"] if c["seq_len"] == 128}
        metrics = entry["metrics"] or {}
        e2e = (entry["end_to_end"] or {}).get("examples_per_s")
        lines.append(
            f"| {entry['variant']} | {metrics.get(metric, float('nan')):.4f} | "
            f"{points_lost(metrics, metric)} | {cells[1]['p50_ms']:.1f} | {cells[1]['p90_ms']:.1f} | "
            f"{cells[8]['p50_ms']:.1f} | {cells[8]['throughput']:.1f} | {e2e if e2e is None else round(e2e, 1)} |")
    return lines


def points_lost(metrics: dict, metric: str) -> str:
    """+ = loss, in metric points; older reports stored a signed fraction under 'delta' (- = loss)."""
    if "drop_points" in metrics:
        return f"{metrics['drop_points']:+.2f}"
    return f"{-100 * (metrics.get('delta') or {}).get(metric, 0):+.2f}"


def main() -> None:
    print("\n".join(accuracy_rows()))
    for name in ("ner-minilm", "sentiment-minilm", "bert-base-random"):
        if (RESULTS / f"{name}.json").is_file():
            print()
            print("\n".join(bench_rows(name)))
    throughput = RESULTS / "runtime_throughput.json"
    if throughput.is_file():
        print("\n| serving | texts/s | peak RSS (MB) | load (s) | torch imported |\n|---|---|---|---|---|")
        for row in json.loads(throughput.read_text()):
            print(f"| {row['kind']} {row.get('variant') or ''} | {row['texts_per_s']} | {row['peak_rss_mb']} | "
                  f"{row['load_s']} | {row['modules_loaded']['torch']} |")


if __name__ == "__main__":
    main()
