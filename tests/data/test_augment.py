"""Mention replacement for NER training data."""

from tests.conftest import run_train
from toolkit.data.augment import mention_spans, swap_mentions

ROWS = [
    ("John Smith lives in Paris".split(), ["B-PER", "I-PER", "O", "O", "B-LOC"]),
    ("Acme hired Mary".split(), ["B-ORG", "O", "B-PER"]),
    ("Nothing here".split(), ["O", "O"]),
    ("New York Times".split(), ["B-ORG", "I-ORG", "I-ORG"]),
]


def test_mention_spans_follow_iob2():
    assert mention_spans(["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-ORG"]) == [
        (0, 2, "PER"), (3, 4, "LOC"), (4, 5, "LOC")]


def test_every_swap_keeps_type_alignment_and_context():
    mentions = {("PER", ("John", "Smith")), ("PER", ("Mary",)), ("LOC", ("Paris",)),
                ("ORG", ("Acme",)), ("ORG", ("New", "York", "Times"))}
    made = swap_mentions(ROWS, copies=20, swap_probability=1.0, seed=0)
    assert len(made) == 20 * 3  # sentences without a mention are not copied
    swapped_somewhere = False
    for tokens, tags in made:
        assert len(tokens) == len(tags)
        for start, end, kind in mention_spans(tags):
            assert (kind, tuple(tokens[start:end])) in mentions
        outside = [t for t, tag in zip(tokens, tags) if tag == "O"]
        assert any(outside == [t for t, g in zip(r, rt) if g == "O"] for r, rt in ROWS)
        swapped_somewhere |= (tokens, tags) not in ROWS
    assert swapped_somewhere


def test_same_seed_same_copies():
    assert swap_mentions(ROWS, 2, 0.5, seed=3) == swap_mentions(ROWS, 2, 0.5, seed=3)
    assert swap_mentions(ROWS, 1, 0.0, seed=3) == [r for r in ROWS if r[0] != ["Nothing", "here"]]


def test_training_with_copies_sees_more_rows(tmp_path, tiny_base, ner_data):
    result = run_train("ner", tiny_base, ner_data, tmp_path / "out", "--augment_copies", 1)
    assert result.metrics["train_rows_with_augmentation"] > result.metrics["train_examples"]
