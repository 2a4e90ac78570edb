"""Write a randomly initialised checkpoint of a given shape, for latency work where only shapes matter.

    python bench/make_random_model.py runs/bert-base-random --task ner --shape bert-base

bert-base-uncased's weights cannot be downloaded here; its shape (12 layers, 768 wide, 12 heads)
and the embedded MiniLM's vocabulary (bert-base-uncased's exact vocabulary) are enough to time it.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

SHAPES = {
    "bert-base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
    "minilm": dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536),
}
LABELS = {"ner": ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"],
          "sentiment": ["neg", "pos"]}


def make(output_dir: Path, task: str, shape: str) -> Path:
    import torch
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        BertForTokenClassification,
    )

    from toolkit.modeling import embedded_model_dir

    torch.manual_seed(0)
    labels = LABELS[task]
    config = BertConfig(vocab_size=30522, max_position_embeddings=512, **SHAPES[shape],
                        id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)})
    model_class = BertForTokenClassification if task == "ner" else BertForSequenceClassification
    output_dir.mkdir(parents=True, exist_ok=True)
    model_class(config).save_pretrained(output_dir)
    source = embedded_model_dir()
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(source / name, output_dir / name)
    return output_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--task", choices=sorted(LABELS), default="ner")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="bert-base")
    args = parser.parse_args()
    print(make(args.output_dir, args.task, args.shape))


if __name__ == "__main__":
    main()
