import numpy as np
import pytest

from toolkit.tasks.ner import (
    CONLL_LABELS,
    IGNORE,
    align_labels,
    begin_to_inside,
    compute_metrics,
)

B_TO_I = begin_to_inside(CONLL_LABELS)
O, B_PER, I_PER, B_LOC = 0, 1, 2, 5


def test_begin_to_inside_maps_b_to_i_and_keeps_the_rest():
    assert [CONLL_LABELS[i] for i in B_TO_I] == ["O", "I-PER", "I-PER", "I-ORG", "I-ORG", "I-LOC",
                                                  "I-LOC", "I-MISC", "I-MISC"]


def test_all_tokens_continuation_pieces_turn_b_into_i():
    # [CLS] Merk ##el visited Nair ##obi [SEP]: words 0..2, labels B-PER O B-LOC
    word_ids = [None, 0, 0, 1, 2, 2, None]
    assert align_labels(word_ids, [B_PER, O, B_LOC], B_TO_I, True) == [
        IGNORE, B_PER, I_PER, O, B_LOC, 6, IGNORE]


def test_first_token_only_ignores_continuation_pieces():
    word_ids = [None, 0, 0, 0, 1, None]
    assert align_labels(word_ids, [B_PER, O], B_TO_I, False) == [IGNORE, B_PER, IGNORE, IGNORE, O, IGNORE]


def test_inside_labels_stay_inside_on_every_piece():
    word_ids = [None, 0, 1, 1, None]
    assert align_labels(word_ids, [B_PER, I_PER], B_TO_I, True) == [IGNORE, B_PER, I_PER, I_PER, IGNORE]


def test_alignment_through_a_real_tokenizer(tokenizer_dir):
    from transformers import AutoTokenizer

    from toolkit.tasks import Encoding
    from toolkit.tasks.ner import preprocess

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    batch = {"tokens": [["Angela", "Merkel", "visited", "Nairobi"]], "ner_tags": [[B_PER, I_PER, O, B_LOC]]}
    encoding = Encoding(text_column="tokens", label_column="ner_tags", max_length=64, label_all_tokens=True,
                        truncation="head")
    encoded = preprocess(batch, tokenizer, CONLL_LABELS, encoding)
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
    assert tokens == ["[CLS]", "angela", "merk", "##el", "visited", "nair", "##obi", "[SEP]"]
    assert encoded["labels"][0] == [IGNORE, B_PER, I_PER, I_PER, O, B_LOC, 6, IGNORE]


def _one_hot(ids, n=len(CONLL_LABELS)):
    return np.eye(n)[np.asarray(ids)]


def test_metrics_on_a_hand_checked_example():
    # Gold: PER (tokens 1-2), LOC (token 4). Predicted: PER right, LOC missed, a spurious ORG.
    gold = np.array([[IGNORE, B_PER, I_PER, O, B_LOC, IGNORE]])
    predicted = [[0, B_PER, I_PER, 3, O, 0]]
    metrics = compute_metrics(_one_hot(predicted), gold, CONLL_LABELS)
    assert metrics["precision"] == pytest.approx(1 / 2)  # PER right, ORG wrong
    assert metrics["recall"] == pytest.approx(1 / 2)  # PER found, LOC missed
    assert metrics["f1"] == pytest.approx(1 / 2)
    assert metrics["accuracy"] == pytest.approx(2 / 4)  # B-PER, I-PER right; O->B-ORG, B-LOC->O wrong
    assert metrics["per_type"]["PER"]["f1"] == 1.0
    assert metrics["per_type"]["LOC"]["recall"] == 0.0
