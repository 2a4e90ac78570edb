"""Reproduce the accuracy numbers in the README, from scratch, on the real data in ../shared/data.

    python bench/accuracy.py holdout   # choose hyper-parameters: 800/200 split of the 1,000 training rows
    python bench/accuracy.py protocol  # the tutorial protocol: train 1,000, evaluate on 500
    python bench/accuracy.py full      # --train-size all (CoNLL only), evaluated on the whole validation
    python bench/accuracy.py decoding  # holdout NER runs re-scored with argmax and Viterbi decoding
    python bench/accuracy.py windows   # holdout sentiment runs re-scored: head only vs all windows
    python bench/accuracy.py ensemble  # NER: holdout F1 of averaged probabilities of several holdout runs
    python bench/accuracy.py probe     # sentiment: frozen MiniLM, linear probe on [CLS] vs mean pooling

Hyper-parameters are chosen on the holdout only (never on the 500 evaluation rows). Every
configuration's result is appended to bench/results/accuracy.jsonl, so all tries are reported.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
SEED = 42

# (name, task, extra train options): what was tried on the holdout, in order.
HOLDOUT_GRID = [
    ("tutorial", "ner", ["--preset", "tutorial"]),
    ("lr2e-4-5ep", "ner", ["--preset", "tutorial", "--learning-rate", "2e-4"]),
    ("lr2e-4-10ep-warm", "ner", ["--learning-rate", "2e-4", "--epochs", "10", "--warmup-ratio", "0.1"]),
    ("lr3e-4-5ep-warm", "ner", ["--learning-rate", "3e-4", "--epochs", "5", "--warmup-ratio", "0.1"]),
    ("sent-tutorial-256", "sentiment", ["--preset", "tutorial", "--epochs", "2", "--max-length", "256"]),
    ("sent-lr1e-4-3ep-256", "sentiment", ["--learning-rate", "1e-4", "--epochs", "3", "--max-length", "256",
                                          "--warmup-ratio", "0.1"]),
    ("sent-lr1e-4-3ep-256-headtail", "sentiment", ["--learning-rate", "1e-4", "--epochs", "3", "--max-length",
                                                   "256", "--warmup-ratio", "0.1", "--truncation", "head+tail"]),
    # Session 2: ideas left untried by the first round.
    ("sent-mean-lr1e-4-3ep-256", "sentiment", ["--learning-rate", "1e-4", "--epochs", "3", "--max-length", "256",
                                               "--warmup-ratio", "0.1", "--pooling", "mean"]),
    ("sent-mean-windows-2ep-256", "sentiment", ["--learning-rate", "1e-4", "--epochs", "2", "--max-length", "256",
                                                "--warmup-ratio", "0.1", "--pooling", "mean", "--truncation",
                                                "windows"]),
    ("llrd0.8-head10-lr3e-4", "ner", ["--learning-rate", "3e-4", "--layer-lr-decay", "0.8",
                                      "--head-lr-multiplier", "10"]),
    ("swap1-3ep", "ner", ["--augment-copies", "1", "--epochs", "3"]),
    ("lr2e-4-5ep-seed43", "ner", ["--seed", "43"]),  # the auto preset again: how much is seed noise
    ("llrd0.8-head10-lr2e-4", "ner", ["--layer-lr-decay", "0.8", "--head-lr-multiplier", "10"]),
    ("bs4-lr1e-4", "ner", ["--batch-size", "4", "--learning-rate", "1e-4"]),
]
SOURCES = {"ner": ("conll2003", "validation"), "sentiment": ("imdb", "test")}


def write_holdout(task: str, target: Path) -> Path:
    """Split the protocol's 1,000 training rows into 800 train / 200 holdout, as parquet."""
    from datasets import load_dataset

    name, _ = SOURCES[task]
    train = load_dataset("parquet", data_files=str(DATA / name / "train.parquet"), split="train")
    chosen = train.shuffle(seed=SEED).select(range(1000))
    target.mkdir(parents=True, exist_ok=True)
    chosen.select(range(800)).to_parquet(str(target / "train.parquet"))
    chosen.select(range(800, 1000)).to_parquet(str(target / "validation.parquet"))
    return target


def run_train(task: str, dataset: Path, sizes: list[str], extra: list[str], output_dir: Path) -> dict:
    command = [sys.executable, "-m", "toolkit", "train", task, "--dataset", str(dataset), "--model", "minilm",
               "--output-dir", str(output_dir), "--overwrite", *sizes, *extra]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    metrics = json.loads((output_dir / "metrics.json").read_text())
    metrics["wall_s"] = round(time.perf_counter() - started, 1)
    return metrics


def record(row: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "accuracy.jsonl", "a") as out:
        out.write(json.dumps(row) + "\n")
    print(json.dumps(row))


def summary(metrics: dict) -> dict:
    return {k: metrics.get(k) for k in ("f1", "accuracy", "train_runtime_s", "wall_s", "hyperparameters")}


def own_evaluation_rows(checkpoint_dir: Path, max_length: int | None = None):
    """A checkpoint and its own evaluation rows, encoded as toolkit evaluates them (at the
    training's max length unless `max_length` is given)."""
    from toolkit.checkpoint import evaluation_set, inspect_checkpoint

    checkpoint = inspect_checkpoint(checkpoint_dir)
    return checkpoint, evaluation_set(checkpoint, max_length=max_length).features


def pytorch_logits(checkpoint_dir: Path, model_class: str, features) -> list:
    from toolkit.backends import TorchBackend
    from toolkit.scoring import collect_logits

    pytorch = TorchBackend(checkpoint_dir, model_class)
    return collect_logits(pytorch.logits, features, 32, pytorch.input_names)


def rescore_decodings(checkpoint_dir: Path) -> dict:
    """Entity F1 of one NER checkpoint on its own evaluation rows, decoded both ways."""
    from toolkit.scoring import score

    checkpoint, features = own_evaluation_rows(checkpoint_dir, 512)
    logits = pytorch_logits(checkpoint_dir, checkpoint.task.model_class, features)
    return {decoding: score(checkpoint.task, logits, features, checkpoint.labels, decoding)["f1"]
            for decoding in ("argmax", "viterbi")}


def rescore_long_texts(checkpoint_dir: Path) -> dict:
    """Accuracy of one sentiment checkpoint on its own evaluation rows, reading long reviews by
    their first window only (as training saw them) and by all windows averaged (as the runtime does)."""
    from toolkit.scoring import score

    checkpoint, features = own_evaluation_rows(checkpoint_dir)
    logits = pytorch_logits(checkpoint_dir, checkpoint.task.model_class, features)
    first = {}  # each text's first window: what head truncation keeps
    for index, feature in enumerate(features):
        first.setdefault(feature["example_index"], index)
    heads = sorted(first.values())
    return {"head": score(checkpoint.task, [logits[i] for i in heads], [features[i] for i in heads],
                          checkpoint.labels)["accuracy"],
            "windows": score(checkpoint.task, logits, features, checkpoint.labels)["accuracy"]}


ENSEMBLES = [["lr2e-4-5ep", "lr2e-4-5ep-seed43"], ["lr2e-4-5ep", "lr2e-4-5ep-seed43", "llrd0.8-head10-lr2e-4"]]


def ensemble_f1(checkpoint_dirs: list[Path]) -> float:
    """Holdout entity F1 (Viterbi) of the mean of several NER checkpoints' tag probabilities."""
    import numpy as np

    from toolkit.runtime.entities import softmax
    from toolkit.scoring import score

    # The same 200 rows for all (in the first run's order): one encoding.
    checkpoint, features = own_evaluation_rows(checkpoint_dirs[0], 512)
    summed = None
    for directory in checkpoint_dirs:
        probabilities = [softmax(x) for x in pytorch_logits(directory, checkpoint.task.model_class, features)]
        summed = probabilities if summed is None else [a + b for a, b in zip(summed, probabilities)]
    mean_log = [np.log(x / len(checkpoint_dirs)) for x in summed]
    return score(checkpoint.task, mean_log, features, checkpoint.labels, "viterbi")["f1"]


def linear_probe(dataset: Path, max_length: int = 256) -> dict:
    """Holdout accuracy of a logistic regression on frozen MiniLM vectors: which pooling carries
    the sentiment before any fine-tuning ([CLS] through the pooler, or the masked mean)."""
    import numpy as np
    import pandas as pd
    import torch
    from sklearn.linear_model import LogisticRegression
    from transformers import AutoModel, AutoTokenizer

    from toolkit.modeling import resolve_model

    path = resolve_model("minilm")
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()

    def vectors(texts):
        pooled = {"cls": [], "mean": []}
        for start in range(0, len(texts), 32):
            encoded = tokenizer(texts[start:start + 32], truncation=True, max_length=max_length, padding=True,
                                return_tensors="pt")
            with torch.no_grad():
                output = model(**encoded)
            mask = encoded["attention_mask"].unsqueeze(-1).float()
            pooled["cls"].append(output.pooler_output.numpy())
            pooled["mean"].append(((output.last_hidden_state * mask).sum(1) / mask.sum(1)).numpy())
        return {k: np.concatenate(v) for k, v in pooled.items()}

    train, holdout = (pd.read_parquet(dataset / f"{name}.parquet") for name in ("train", "validation"))
    x_train, x_holdout = vectors(list(train.text)), vectors(list(holdout.text))
    return {pooling: float((LogisticRegression(max_iter=5000).fit(x_train[pooling], train.label)
                            .predict(x_holdout[pooling]) == holdout.label).mean())
            for pooling in ("cls", "mean")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=("holdout", "protocol", "full", "decoding", "windows", "ensemble", "probe"))
    parser.add_argument("--task", choices=("ner", "sentiment"), action="append")
    parser.add_argument("--only", help="run only the grid entry of this name")
    parser.add_argument("--checkpoint", type=Path, help="windows: re-score this sentiment checkpoint only")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/toolkit-accuracy"))
    parser.add_argument("--sentiment-options", default="--max-length 256",
                        help="extra options for the sentiment protocol run (CPU: shorter inputs)")
    args = parser.parse_args()
    tasks = args.task or ["ner", "sentiment"]
    if args.stage == "holdout":
        for name, task, extra in HOLDOUT_GRID:
            if task not in tasks or (args.only and name != args.only):
                continue
            dataset = write_holdout(task, args.workdir / f"holdout-{task}")
            metrics = run_train(task, dataset, ["--train-size", "all", "--eval-size", "all"], extra,
                                args.workdir / f"run-{name}")
            record({"stage": "holdout", "name": name, "task": task, "options": extra, **summary(metrics)})
    elif args.stage == "protocol":
        for task in tasks:
            name, _ = SOURCES[task]
            extra = args.sentiment_options.split() if task == "sentiment" else []
            metrics = run_train(task, DATA / name, ["--train-size", "1000", "--eval-size", "500"], extra,
                                args.workdir / f"protocol-{task}")
            record({"stage": "protocol", "task": task, "options": extra, **summary(metrics)})
    elif args.stage == "decoding":
        for name, task, extra in HOLDOUT_GRID:
            directory = args.workdir / f"run-{name}"
            if task == "ner" and (directory / "metrics.json").is_file():
                record({"stage": "decoding", "name": name, "task": task, "options": extra,
                        **rescore_decodings(directory)})
    elif args.stage == "windows" and args.checkpoint:
        record({"stage": "windows", "name": args.checkpoint.name, "task": "sentiment",
                **rescore_long_texts(args.checkpoint)})
    elif args.stage == "windows":
        for name, task, extra in HOLDOUT_GRID:
            directory = args.workdir / f"run-{name}"
            if args.only and name != args.only:
                continue
            if task == "sentiment" and "head+tail" not in extra and (directory / "metrics.json").is_file():
                record({"stage": "windows", "name": name, "task": task, "options": extra,
                        **rescore_long_texts(directory)})
    elif args.stage == "ensemble":
        for names in ENSEMBLES:
            record({"stage": "ensemble", "name": "+".join(names), "task": "ner",
                    "viterbi": ensemble_f1([args.workdir / f"run-{name}" for name in names])})
    elif args.stage == "probe":
        dataset = write_holdout("sentiment", args.workdir / "holdout-sentiment")
        record({"stage": "probe", "task": "sentiment", "options": ["frozen", "--max-length", "256"],
                **linear_probe(dataset)})
    else:
        # 2 epochs: 14,041 sentences x 5 epochs would take about 40 minutes on 2 CPU cores.
        extra = ["--epochs", "2"]
        metrics = run_train("ner", DATA / "conll2003", ["--train-size", "all", "--eval-size", "all"], extra,
                            args.workdir / "full-ner")
        record({"stage": "full", "task": "ner", "options": extra, **summary(metrics)})


if __name__ == "__main__":
    main()
