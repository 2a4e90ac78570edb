"""The README's architecture table: every BERT-family architecture, end to end on a tiny
random-weight model with a tokenizer of its real kind (toolkit/testing/architectures.py).

    python bench/architectures.py > bench/results/architectures.md

For each architecture and task: train 30 (NER) / 20 (sentiment) steps on synthetic data, export
fp32, optimized, int8-dynamic and (NER) int8-static, and compare the runtime's answers with
transformers' pipeline on the texts tests/test_architectures.py uses (NER: entities of all four
aggregation strategies; sentiment: class probabilities within 1e-5). Random weights: the parity and
agreement numbers prove the graphs and the tokenization, not accuracy.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def train_and_export(task: str, base: Path, data: Path, root: Path, steps: int) -> tuple[Path, Path]:
    """A checkpoint trained `steps` steps at a high rate (so that it tags real entities), and its bundle."""
    from toolkit.config import ExportConfig, TrainConfig
    from toolkit.export import export
    from toolkit.tasks import get_task
    from toolkit.train import train

    checkpoint, bundle = root / f"{task}-checkpoint", root / f"{task}-bundle"
    train(get_task(task), TrainConfig(task=task, model=str(base), dataset=str(data), output_dir=checkpoint,
                                      train_size="all", eval_size="all", max_steps=steps, batch_size=8,
                                      learning_rate=5e-3))
    export(ExportConfig(checkpoint=checkpoint, output_dir=bundle, quantize=True, static=task == "ner",
                        calibration_size=8))
    return checkpoint, bundle


def run(arch: str, root: Path, ner_data: Path, sentiment_data: Path) -> list[str]:
    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from toolkit.runtime import load
    from toolkit.testing.architectures import TOKENIZER_KINDS, build_base_model
    from toolkit.testing.pipeline_parity import TEXTS, entity_spans

    base = build_base_model(arch, root / "base")
    rows = []
    for task, data, steps in (("ner", ner_data, 30), ("sentiment", sentiment_data, 20)):
        checkpoint, bundle = train_and_export(task, base, data, root, steps)
        manifest = load(bundle).bundle.manifest
        variants = manifest.variants
        fused = variants["optimized"].recipe["fused_operators"]
        if task == "ner":
            same = total = 0
            for strategy in ("simple", "first", "average", "max"):
                reference = pipeline("token-classification", model=str(checkpoint), aggregation_strategy=strategy)
                ner = load(bundle, variant="fp32", decoding="argmax", aggregation=strategy)
                for text, ours in zip(TEXTS, ner(TEXTS)):
                    total += 1
                    same += entity_spans(text, ours, "entity") == entity_spans(text, reference(text), "entity_group")
            agreement = f"{same}/{total} texts x strategies equal"
        else:
            tokenizer = AutoTokenizer.from_pretrained(checkpoint)
            model = AutoModelForSequenceClassification.from_pretrained(checkpoint).eval()
            answers = load(bundle, variant="fp32")(TEXTS)
            diff = 0.0
            for text, answer in zip(TEXTS, answers):
                with torch.no_grad():
                    expected = torch.softmax(model(**tokenizer(text, return_tensors="pt")).logits, -1)[0].numpy()
                got = np.array([answer["scores"][model.config.id2label[i]] for i in range(len(expected))])
                diff = max(diff, float(np.abs(got - expected).max()))
            agreement = f"probabilities within {diff:.0e}"
        int8 = [f"{n} {variants[n].checks.parity['label_agreement']:.3f}" for n in ("int8-dynamic", "int8-static")
                if n in variants]
        rows.append(f"| {arch} | {TOKENIZER_KINDS[arch]} | {task} | ok | {', '.join(variants)} | "
                    f"{', '.join(manifest.inputs)} | {variants['fp32'].checks.parity['max_abs_diff']:.1e} / "
                    f"{variants['optimized'].checks.parity['max_abs_diff']:.1e} | "
                    f"{', '.join(f'{k} {v}' for k, v in fused.items()) or 'none'} | {'; '.join(int8)} | {agreement} |")
    return rows


def main() -> None:
    import torch

    from toolkit.testing.architectures import ARCHITECTURES
    from toolkit.data.synthetic import write_sample_ner, write_sample_sentiment

    warnings.filterwarnings("ignore")
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        ner_data = write_sample_ner(scratch / "ner-data", train_size=120, eval_size=40, seed=1)
        sentiment_data = write_sample_sentiment(scratch / "sentiment-data")
        print("| architecture | tokenizer | task | train | variants | graph inputs | max abs diff fp32 / optimized "
              "| fusions in optimized | int8 label agreement | runtime vs transformers pipeline |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for arch in ARCHITECTURES:
            with contextlib.redirect_stdout(sys.stderr):  # Trainer prints its logs to stdout
                rows = run(arch, scratch / arch, ner_data, sentiment_data)
            print("\n".join(rows), flush=True)


if __name__ == "__main__":
    main()
