"""Does a text's answer depend on the batch it runs in? Each variant of a bundle, through the runtime.

    python bench/batch_invariance.py exports/ner-minilm --dataset ../shared/data/conll2003 --rows 200 \
        [--output bench/results/batch-invariance-ner.json]

Every text of the checkpoint's evaluation split (the first --rows of the protocol's order) is
answered three ways by `toolkit.runtime.load(bundle, variant=...)`: alone (batch size 1), in
batches of 32 in order, and in batches of 32 of a shuffled order (other neighbours, other padding).
A text "moves" when its labels (NER: entity spans and types; sentiment: the label) differ between
any two ways; the largest score difference is reported too. The issue's goal: no text moves, and
scores agree within 1e-4.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path


def evaluation_texts(dataset: str, task_name: str, rows: int) -> list[str]:
    from toolkit.data import load_raw_splits, sample
    from toolkit.tasks import get_task

    task = get_task(task_name)
    splits = load_raw_splits(dataset)
    split = splits.get(task.eval_split) or splits.get("validation") or splits.get("test")
    picked = sample(split, min(rows, len(split)), 42, "evaluation")
    return task.texts(picked[task.text_column])


def answer_in_batches(predictor, texts: list[str], batch_size: int, order: list[int]) -> list:
    answers: list = [None] * len(texts)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        for index, answer in zip(chunk, predictor.predict([texts[i] for i in chunk], batch_size=batch_size)):
            answers[index] = answer
    return answers


def labels_and_scores(answer) -> tuple[tuple, list[float]]:
    if isinstance(answer, list):  # entities
        return (tuple((e["entity"], e["start"], e["end"]) for e in answer), [e["score"] for e in answer])
    return (answer["label"],), list(answer["scores"].values())


def compare(ways: dict[str, list]) -> dict:
    names = list(ways)
    moved, worst = 0, 0.0
    for i in range(len(ways[names[0]])):
        seen = [labels_and_scores(ways[name][i]) for name in names]
        if len({labels for labels, _ in seen}) > 1:
            moved += 1
            continue
        for _, scores in seen[1:]:
            worst = max([worst, *(abs(a - b) for a, b in zip(seen[0][1], scores))])
    return {"texts": len(ways[names[0]]), "texts_moved": moved, "max_score_difference": worst}


def main() -> None:
    from toolkit.runtime import load, load_bundle

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--variants", nargs="*", help="default: every ONNX Runtime variant of the bundle")
    parser.add_argument("--output")
    args = parser.parse_args()
    bundle = load_bundle(args.bundle)
    texts = evaluation_texts(args.dataset, bundle.task, args.rows)
    shuffled = list(range(len(texts)))
    random.Random(0).shuffle(shuffled)
    results = {}
    for variant in args.variants or [v for v in bundle.variants if bundle.engine_of(v) == "onnxruntime"]:
        predictor = load(args.bundle, variant=variant, threads=2)
        ways = {"alone": answer_in_batches(predictor, texts, 1, list(range(len(texts)))),
                "batches of 32": answer_in_batches(predictor, texts, 32, list(range(len(texts)))),
                "shuffled batches of 32": answer_in_batches(predictor, texts, 32, shuffled)}
        results[variant] = compare(ways)
        print(f"{variant:>16}: {results[variant]['texts_moved']:3d} of {len(texts)} texts moved, "
              f"largest score difference {results[variant]['max_score_difference']:.2g}", flush=True)
    if args.output:
        Path(args.output).write_text(json.dumps({"bundle": args.bundle, "rows": len(texts), "variants": results},
                                                indent=2) + "\n")


if __name__ == "__main__":
    main()
