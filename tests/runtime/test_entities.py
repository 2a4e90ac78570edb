import numpy as np
import pytest

from toolkit.runtime.entities import Piece, decode_entities

LABELS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")
TEXT = "Jean Dupont visited Montreal"
# pieces: jean | du | ##pont | visited | mont | ##real
SPANS = [(0, 4, False), (5, 7, False), (7, 11, True), (12, 19, False), (20, 24, False), (24, 28, True)]


def pieces(rows):
    return [Piece(np.asarray(r, dtype=float), s, e, sub) for r, (s, e, sub) in zip(rows, SPANS)]


def p(label, confidence=0.9):
    row = np.full(len(LABELS), (1 - confidence) / (len(LABELS) - 1))
    row[LABELS.index(label)] = confidence
    return row


def spans(entities):
    return [(e["entity"], e["text"]) for e in entities]


def test_simple_groups_tokens_by_their_own_tags():
    rows = [p("B-PER"), p("I-PER"), p("B-LOC"), p("O"), p("B-LOC"), p("I-LOC")]
    assert spans(decode_entities(pieces(rows), LABELS, TEXT, "simple")) == [
        ("PER", "Jean Du"), ("LOC", "pont"), ("LOC", "Montreal")]


def test_first_takes_each_words_first_piece():
    rows = [p("B-PER"), p("I-PER"), p("B-LOC"), p("O"), p("B-LOC"), p("O")]
    assert spans(decode_entities(pieces(rows), LABELS, TEXT, "first")) == [
        ("PER", "Jean Dupont"), ("LOC", "Montreal")]


def test_max_takes_the_most_confident_piece():
    rows = [p("B-PER"), p("I-PER", 0.6), p("B-LOC", 0.95), p("O"), p("B-LOC"), p("O")]
    entities = decode_entities(pieces(rows), LABELS, TEXT, "max")
    assert spans(entities) == [("PER", "Jean"), ("LOC", "Dupont"), ("LOC", "Montreal")]
    assert entities[1]["score"] == pytest.approx(0.95)


def test_average_means_the_pieces_scores():
    # du: I-PER .6 ; ##pont: B-LOC .7 -> mean I-PER .3125+ vs B-LOC .35+.05 ... computed below
    rows = [p("B-PER"), p("I-PER", 0.6), p("B-LOC", 0.7), p("O"), p("B-LOC"), p("I-LOC")]
    mean = (rows[1] + rows[2]) / 2
    expected_tag = LABELS[int(mean.argmax())]
    entities = decode_entities(pieces(rows), LABELS, TEXT, "average")
    assert expected_tag == "B-LOC"
    assert spans(entities) == [("PER", "Jean"), ("LOC", "Dupont"), ("LOC", "Montreal")]
    assert entities[1]["score"] == pytest.approx(mean.max())


def test_inside_after_outside_starts_an_entity_and_b_splits():
    rows = [p("I-PER"), p("B-PER"), p("I-PER"), p("O"), p("I-LOC"), p("I-LOC")]
    entities = decode_entities(pieces(rows), LABELS, TEXT, "first")
    assert [(e["entity"], e["start"], e["end"]) for e in entities] == [
        ("PER", 0, 4), ("PER", 5, 11), ("LOC", 20, 28)]
    assert entities[0]["score"] == pytest.approx(0.9)


def test_unknown_strategy():
    with pytest.raises(ValueError, match="unknown aggregation strategy"):
        decode_entities([], LABELS, TEXT, "none")
