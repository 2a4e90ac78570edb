"""The sentiment task: metrics, head+tail truncation and its preprocessing."""

import numpy as np
import pytest


def _one_hot(ids, n=2):
    return np.eye(n)[np.asarray(ids)]


def test_sentiment_metrics_macro_f1():
    from toolkit.tasks.sentiment import compute_metrics as sentiment_metrics

    metrics = sentiment_metrics(_one_hot([0, 1, 1, 1], 2), np.array([0, 0, 1, 1]), ("neg", "pos"))
    assert metrics["accuracy"] == 0.75
    # neg: P=1 R=.5 F=2/3; pos: P=2/3 R=1 F=.8
    assert metrics["f1"] == pytest.approx((2 / 3 + 0.8) / 2)


def test_head_tail_keeps_the_start_and_the_end():
    from toolkit.runtime.windows import head_tail

    ids = list(range(20))  # 0 = [CLS], 19 = [SEP]
    assert head_tail(ids, 8) == [0, 1, 14, 15, 16, 17, 18, 19]
    assert head_tail(ids[:5], 8) == ids[:5]


def test_sentiment_head_tail_preprocessing(tokenizer_dir):
    from dataclasses import replace

    from transformers import AutoTokenizer

    from toolkit.tasks import Encoding
    from toolkit.tasks.sentiment import preprocess

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    text = "great " + "film " * 30 + "boring"
    encoding = Encoding(text_column="text", label_column="label", max_length=12, label_all_tokens=True,
                        truncation="head+tail")
    encoded = preprocess({"text": [text], "label": [1]}, tokenizer, ("neg", "pos"), encoding)
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
    assert tokens[:2] == ["[CLS]", "great"] and tokens[-2:] == ["boring", "[SEP]"] and len(tokens) == 12
    assert len(encoded["attention_mask"][0]) == 12
    head = preprocess({"text": [text], "label": [1]}, tokenizer, ("neg", "pos"), replace(encoding, truncation="head"))
    assert tokenizer.convert_ids_to_tokens(head["input_ids"][0])[-2:] == ["film", "[SEP]"]
