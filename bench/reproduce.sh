#!/usr/bin/env bash
# Reproduce every number in the README from scratch on the real data in ../shared/data.
# About 3.5 hours on 2 CPU cores (the holdout grid alone about 1.5); run it on an otherwise idle
# machine, timings are wall-clock.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
mkdir -p bench/results
data=../shared/data

# Accuracy: hyper-parameter choice on a holdout of the training rows, then the protocol, then full data.
python bench/accuracy.py holdout
python bench/accuracy.py decoding
python bench/accuracy.py windows
python bench/accuracy.py ensemble
python bench/accuracy.py probe
python bench/accuracy.py protocol --workdir runs/accuracy
python bench/accuracy.py full --workdir runs/accuracy
# The tutorial's own recipe on the embedded model, for comparison (issue 2's figures).
toolkit train ner --dataset "$data/conll2003" --preset tutorial --output-dir runs/accuracy/tutorial-ner --overwrite
toolkit train sentiment --dataset "$data/imdb" --preset tutorial --epochs 2 --max-length 256 \
    --output-dir runs/accuracy/tutorial-sentiment --overwrite
python bench/accuracy.py windows --checkpoint runs/accuracy/tutorial-sentiment  # first 256 tokens vs windows

# Export the protocol checkpoints (the export prints size, parity and F1/accuracy per variant).
toolkit export runs/accuracy/protocol-ner --quantize --static --output-dir exports/ner-minilm
toolkit export runs/accuracy/protocol-sentiment --quantize --output-dir exports/sentiment-minilm

# Latency and accuracy against PyTorch, batch 1 and 8 at 128 tokens, 2 threads.
toolkit bench exports/ner-minilm --batch-sizes 1,8 --seq-lens 128 --runs 50 --output bench/results/ner-minilm.json
toolkit bench exports/sentiment-minilm --batch-sizes 1,8 --seq-lens 128 --runs 50 \
    --output bench/results/sentiment-minilm.json

# A bert-base-shaped model (random weights: latency only), benched on the CoNLL validation text.
python bench/make_random_model.py runs/bert-base-random --task ner --shape bert-base
toolkit export runs/bert-base-random --quantize --output-dir exports/bert-base-random
toolkit bench exports/bert-base-random --dataset "$data/conll2003" --batch-sizes 1,8 --seq-lens 128 --runs 20 \
    --output bench/results/bert-base-random.json

# The embeddable runtime against transformers' pipeline: texts/s and peak memory.
python bench/runtime_throughput.py exports/ner-minilm --variant int8-dynamic
python bench/summarize.py
