"""Shared fixtures: a tiny BERT built from a config, a small vocabulary and small datasets."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import pytest

from toolkit.data.synthetic import KINDS, TEMPLATES, write_sample_ner, write_sample_sentiment

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# Words the vocabulary lacks on purpose, so they split into several pieces.
SPLIT_WORDS = {"merkel", "nairobi", "greenpeace"}
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


def _vocabulary() -> list[str]:
    words = set()
    for template in TEMPLATES:
        words.update(w.lower() for w in template.split() if not w.startswith("{"))
    for names in KINDS.values():
        for name in names:
            words.update(w.lower() for w in name.split())
    words -= SPLIT_WORDS
    chars = "abcdefghijklmnopqrstuvwxyz0123456789.,;:!?'\"-()éèüöäñç"
    pieces = list(chars) + ["##" + c for c in chars] + ["##el", "##obi", "##peace", "merk", "nair", "green"]
    return SPECIALS + sorted(words) + pieces + ["great", "film", "bad", "wonderful", "boring", "movie"]


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory) -> Path:
    from transformers import BertTokenizerFast

    directory = tmp_path_factory.mktemp("tokenizer")
    (directory / "vocab.txt").write_text("\n".join(_vocabulary()) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(directory / "vocab.txt"), model_max_length=64)
    tokenizer.save_pretrained(directory)
    return directory


def tiny_config(num_labels: int = 2, **extra):
    from transformers import BertConfig

    return BertConfig(vocab_size=len(_vocabulary()), hidden_size=32, num_hidden_layers=2,
                      num_attention_heads=2, intermediate_size=37, max_position_embeddings=64,
                      num_labels=num_labels, **extra)


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory, tokenizer_dir) -> Path:
    """A 'pretrained' tiny BERT (no task head) with its tokenizer: what --model takes."""
    import shutil

    import torch
    from transformers import BertModel

    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("tiny-base")
    BertModel(tiny_config()).save_pretrained(directory)
    for name in os.listdir(tokenizer_dir):
        shutil.copy(tokenizer_dir / name, directory / name)
    return directory


@pytest.fixture(scope="session")
def ner_data(tmp_path_factory) -> Path:
    """CoNLL text, train 120 / validation 40 sentences."""
    return write_sample_ner(tmp_path_factory.mktemp("ner-data"), train_size=120, eval_size=40, seed=1)


@pytest.fixture(scope="session")
def sentiment_data(tmp_path_factory) -> Path:
    """JSON lines with text and string labels, train 60 / test 20."""
    return write_sample_sentiment(tmp_path_factory.mktemp("sentiment-data"))


def cli_error(capsys, *argv) -> str:
    """Run the CLI and return its one-line error, checking exit code 1 and no traceback."""
    from toolkit.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and err.count("\n") == 0
    return err


def run_train(task: str, model: Path, dataset: Path, output_dir: Path, *extra: str):
    from toolkit.config import TrainConfig
    from toolkit.tasks import get_task
    from toolkit.train import train

    options = {"train_size": "all", "eval_size": "all", "max_steps": 2, "batch_size": 8}
    for flag, value in zip(extra[::2], extra[1::2]):
        options[flag.lstrip("-").replace("-", "_")] = value
    return train(get_task(task), TrainConfig(task=task, model=str(model), dataset=str(dataset),
                                             output_dir=output_dir, **options))


@pytest.fixture(scope="session")
def ner_checkpoint(tmp_path_factory, tiny_base, ner_data) -> Path:
    directory = tmp_path_factory.mktemp("ner-ckpt") / "ner"
    run_train("ner", tiny_base, ner_data, directory, "--max_steps", 30, "--learning_rate", 5e-3)
    return directory


@pytest.fixture(scope="session")
def sentiment_checkpoint(tmp_path_factory, tiny_base, sentiment_data) -> Path:
    directory = tmp_path_factory.mktemp("sent-ckpt") / "sentiment"
    run_train("sentiment", tiny_base, sentiment_data, directory, "--max_steps", 20, "--learning_rate", 5e-3)
    return directory


def export_bundle(checkpoint: Path, output_dir: Path, **options) -> Path:
    from toolkit.config import ExportConfig
    from toolkit.export import export

    export(ExportConfig(checkpoint=checkpoint, output_dir=output_dir, **options))
    return output_dir


@pytest.fixture(scope="session")
def ner_bundle(tmp_path_factory, ner_checkpoint) -> Path:
    return export_bundle(ner_checkpoint, tmp_path_factory.mktemp("bundles") / "ner", quantize=True)


@pytest.fixture(scope="session")
def sentiment_bundle(tmp_path_factory, sentiment_checkpoint) -> Path:
    return export_bundle(sentiment_checkpoint, tmp_path_factory.mktemp("bundles") / "sentiment", quantize=True)


@pytest.fixture(scope="session")
def full_ner_bundle(tmp_path_factory, ner_checkpoint) -> Path:
    """The NER checkpoint with every CPU variant: int8-static and the opt-in int8-compact and int8-openvino."""
    return export_bundle(ner_checkpoint, tmp_path_factory.mktemp("bundles") / "ner-full", quantize=True, static=True,
                         compact=True, openvino=True, calibration_size=8)



@pytest.fixture(scope="session")
def ray_local():
    """A local Ray with 2 CPUs on 127.0.0.1 (no dashboard, no usage report), started once for every Ray test
    (Ray Serve's and Ray Data's, which share it) and shut down at the end."""
    import ray

    from toolkit.ray_cluster import init_ray

    init_ray(address=None, num_cpus=2)
    yield ray
    from ray import serve

    serve.shutdown()
    ray.shutdown()

def has_cuda() -> bool:
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def pytest_collection_modifyitems(config, items):
    """Skip the tests marked `cuda` where ONNX Runtime has no CUDA provider."""
    if has_cuda():
        return
    skip = pytest.mark.skip(reason="needs onnxruntime-gpu and an NVIDIA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
