"""Long sentiment texts: evaluation reads them as the runtime does, in the same windows."""

import json
import random

import pytest

from tests.conftest import export_bundle, run_train


def write_long_reviews(directory, seed=0):
    """Reviews of 20 to 60 words: several 16-token windows each; the verdict sits anywhere."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    filler = ["film", "movie", "a", "the", "of", "and"]
    for split, size in (("train", 60), ("test", 24)):
        rows = []
        for _ in range(size):
            label = rng.choice(["neg", "pos"])
            words = [rng.choice(filler) for _ in range(rng.randint(20, 60))]
            words[rng.randrange(len(words))] = "great" if label == "pos" else "boring"
            rows.append({"text": " ".join(words), "label": label})
        (directory / f"{split}.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return directory


def test_evaluation_windows_are_the_runtime_windows(tokenizer_dir):
    from transformers import AutoTokenizer

    from toolkit.runtime.windows import load_tokenizer, make_windows, special_tokens, tokenize
    from toolkit.tasks import Encoding
    from toolkit.tasks.sentiment import preprocess

    text = " ".join(["the film and the movie"] * 12)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    encoding = Encoding(text_column="text", label_column="label", max_length=16, label_all_tokens=True,
                        truncation="head", for_evaluation=True)
    encoded = preprocess({"text": [text, "great film"], "label": [1, 0]}, tokenizer, ("neg", "pos"), encoding)
    fast = load_tokenizer(tokenizer_dir / "tokenizer.json")
    prefix, suffix = special_tokens(fast)
    windows = make_windows(tokenize(fast, [text, "great film"]), 16, 128, prefix, suffix)
    assert [list(ids) for ids in encoded["input_ids"]] == [w.input_ids for w in windows]
    assert encoded["example_index"] == [w.text_index for w in windows]
    assert encoded["labels"] == [[1, 0][w.text_index] for w in windows]
    assert encoded["example_index"].count(0) > 3


@pytest.mark.e2e
def test_reported_accuracy_is_what_the_runtime_answers(tmp_path, tiny_base):
    from toolkit.runtime import load

    data = write_long_reviews(tmp_path / "data")
    result = run_train("sentiment", tiny_base, data, tmp_path / "checkpoint", "--max_steps", 30,
                       "--learning_rate", 5e-3, "--max_length", 16)
    assert result.metrics["eval_inputs"] > 2 * result.metrics["eval_examples"] == 48
    rows = [json.loads(line) for line in (data / "test.jsonl").read_text().splitlines()]
    bundle = export_bundle(result.output_dir, tmp_path / "bundle")
    answers = load(bundle, variant="fp32").predict([r["text"] for r in rows])
    runtime_accuracy = sum(a["label"] == r["label"] for a, r in zip(answers, rows)) / len(rows)
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert result.metrics["accuracy"] == runtime_accuracy
    assert manifest["variants"]["fp32"]["accuracy"]["accuracy"] == runtime_accuracy
    assert manifest["variants"]["fp32"]["parity"]["examples"] == 24


def test_training_on_windows_sees_every_part_of_long_texts(tmp_path, tiny_base):
    data = write_long_reviews(tmp_path / "data")
    result = run_train("sentiment", tiny_base, data, tmp_path / "checkpoint", "--max_steps", 2,
                       "--max_length", 16, "--truncation", "windows")
    assert result.metrics["train_inputs"] > 2 * result.metrics["train_examples"] == 120
    assert result.metrics["eval_inputs"] > 2 * result.metrics["eval_examples"]
