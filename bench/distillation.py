"""Distillation's defaults chosen on a holdout; teacher and students compared with intervals.

    python bench/distillation.py holdout --teacher runs/base/ner-mpnet --workdir runs/base/holdout
    python bench/distillation.py compare runs/base/ner-mpnet runs/base/ner-student runs/accuracy/protocol-ner \
        --output bench/results/distillation-ner.json

`holdout` trains the student (the embedded MiniLM, NER) with each temperature and weight of
HOLDOUT_GRID on the protocol's 1,000 labelled sentences plus the next 2,000 as unlabelled text, and
scores it on 200 training sentences that neither the teacher nor any student reads: the last 200 of
the training split in the protocol's order (the evaluation rows are never used to choose). Each
result is appended to bench/results/accuracy.jsonl.

`compare`:
the first checkpoint is the reference (the teacher). Each checkpoint is scored by PyTorch on its own
evaluation rows, which must be the same rows (the protocol's, same fingerprint) for the comparison
to mean anything; checkpoints of different tokenizers are compared text by text: the unit of the
bootstrap is the evaluation text (a sentence, a review), so the paired interval of "points behind
the teacher" resamples the same texts for both models.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

RESAMPLES = 1000
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
HOLDOUT_ROWS, HOLDOUT_UNLABELED, SEED = 200, 2000, 42
# (temperature, distill weight): the usual range of both (Hinton et al. use 1-20, weights near 1 when
# the teacher is much better than the gold-trained student could be alone).
HOLDOUT_GRID = [(1.0, 0.5), (2.0, 0.5), (4.0, 0.5), (2.0, 0.9), (4.0, 0.9)]


def score_checkpoint(directory: Path) -> dict:
    from toolkit.backends import TorchBackend
    from toolkit.checkpoint import evaluation_set, inspect_checkpoint
    from toolkit.scoring import EVAL_BATCH_SIZE, collect_logits

    checkpoint = inspect_checkpoint(directory)
    evaluation = evaluation_set(checkpoint)
    if evaluation is None:
        sys.exit(f"{directory}: its evaluation rows cannot be loaded")
    backend = TorchBackend(directory, checkpoint.task.model_class, threads=2)
    logits = collect_logits(backend.logits, evaluation.features, EVAL_BATCH_SIZE, backend.input_names)
    counts = checkpoint.task.example_counts(logits, evaluation.features, checkpoint.labels, checkpoint.decoding)
    training = checkpoint.training or {}
    return {"checkpoint": str(directory), "model_type": checkpoint.config.model_type, "task": checkpoint.task,
            "fingerprint": evaluation.description["fingerprint"], "counts": counts,
            "train_runtime_s": training.get("train_runtime_s"), "train_examples": training.get("train_examples"),
            "distillation": training.get("distillation")}


def interval(values: np.ndarray) -> list[float]:
    low, high = np.percentile(values, [2.5, 97.5])
    return [round(float(low), 2), round(float(high), 2)]


def compare(rows: list[dict]) -> list[dict]:
    """Each model's metric with its 95% bootstrap interval, and the paired interval of its points
    behind the first model (+ = behind), all on the same resampled texts."""
    task = rows[0]["task"]
    texts = len(rows[0]["counts"])
    picks = np.random.default_rng(0).integers(0, texts, size=(RESAMPLES, texts))
    resampled = [100 * task.metric_of_counts(row["counts"][picks].sum(1)) for row in rows]
    results = []
    for row, values in zip(rows, resampled):
        metric = 100 * float(task.metric_of_counts(row["counts"].sum(0)))
        results.append({
            "checkpoint": row["checkpoint"], "model_type": row["model_type"], "metric": round(metric / 100, 4),
            "metric_interval": [round(v / 100, 4) for v in interval(values)],
            "points_behind_first": round(100 * float(task.metric_of_counts(rows[0]["counts"].sum(0))) - metric, 2),
            "points_behind_first_interval": interval(resampled[0] - values),
            "train_runtime_s": row["train_runtime_s"], "train_examples": row["train_examples"],
            "distillation": row["distillation"]})
    return results


def write_holdout(target: Path) -> Path:
    """CoNLL's training split as it is, and as evaluation rows its last 200 in the protocol's order."""
    from datasets import load_dataset

    train = load_dataset("parquet", data_files=str(DATA / "conll2003" / "train.parquet"), split="train")
    target.mkdir(parents=True, exist_ok=True)
    train.to_parquet(str(target / "train.parquet"))
    shuffled = train.shuffle(seed=SEED)
    shuffled.select(range(len(train) - HOLDOUT_ROWS, len(train))).to_parquet(str(target / "validation.parquet"))
    return target


def holdout(teacher: Path, workdir: Path) -> None:
    import subprocess
    import time

    dataset = write_holdout(workdir / "data")
    for temperature, weight in HOLDOUT_GRID:
        output = workdir / f"student-t{temperature:g}-w{weight:g}"
        if (output / "metrics.json").is_file():  # tried by an earlier run: its row is in accuracy.jsonl
            continue
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "toolkit", "train", "ner", "--dataset", str(dataset), "--teacher",
                        str(teacher), "--unlabeled-size", str(HOLDOUT_UNLABELED), "--epochs", "2", "--eval-size",
                        "all", "--temperature", str(temperature), "--distill-weight", str(weight),
                        "--output-dir", str(output), "--overwrite"], check=True, stdout=subprocess.DEVNULL)
        metrics = json.loads((output / "metrics.json").read_text())
        row = {"stage": "distill-holdout", "task": "ner", "temperature": temperature, "distill_weight": weight,
               "f1": round(metrics["f1"], 4), "teacher_f1": round(metrics["distillation"]["teacher"]["score"]["f1"], 4),
               "unlabeled_rows": HOLDOUT_UNLABELED, "holdout_rows": HOLDOUT_ROWS,
               "wall_s": round(time.perf_counter() - started, 1)}
        with open(ROOT / "bench" / "results" / "accuracy.jsonl", "a") as out:
            out.write(json.dumps(row) + "\n")
        print(json.dumps(row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=("holdout", "compare"))
    parser.add_argument("checkpoints", type=Path, nargs="*", help="compare: the reference (teacher) first")
    parser.add_argument("--teacher", type=Path, help="holdout: the teacher checkpoint")
    parser.add_argument("--workdir", type=Path, default=Path("runs/base/holdout"))
    parser.add_argument("--output", type=Path, help="compare: the JSON to write")
    args = parser.parse_args()
    if args.stage == "holdout":
        holdout(args.teacher, args.workdir)
        return
    rows = [score_checkpoint(directory) for directory in args.checkpoints]
    if len({row["fingerprint"] for row in rows}) != 1 or len({row["task"].name for row in rows}) != 1:
        sys.exit("the checkpoints were not evaluated on the same rows of the same task: nothing to compare")
    results = compare(rows)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"task": rows[0]["task"].name, "texts": len(rows[0]["counts"]),
                                       "resamples": RESAMPLES, "models": results}, indent=1) + "\n")
    for result in results:
        print(f"{result['checkpoint']:40s} {result['metric']:.4f} {result['metric_interval']}  behind the first: "
              f"{result['points_behind_first']:+.2f} {result['points_behind_first_interval']}  "
              f"train {result['train_runtime_s']} s")


if __name__ == "__main__":
    main()
