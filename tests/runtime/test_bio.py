import numpy as np

from toolkit.runtime.bio import allowed_transitions, decode_tag_sequences

LABELS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")


def logits_for(*rows):
    return np.log(np.asarray(rows, dtype=float))


def decode_one(logits: np.ndarray) -> np.ndarray:
    """The constrained path of one sequence, decoded alone."""
    return decode_tag_sequences([logits], LABELS)[0]


def test_transitions_forbid_inside_without_its_begin():
    start, transition = allowed_transitions(LABELS)
    assert start.tolist() == [True, True, False, True, False]
    assert transition[LABELS.index("B-PER"), LABELS.index("I-PER")]
    assert transition[LABELS.index("I-PER"), LABELS.index("I-PER")]
    assert not transition[LABELS.index("O"), LABELS.index("I-PER")]
    assert not transition[LABELS.index("B-LOC"), LABELS.index("I-PER")]


def test_viterbi_repairs_what_argmax_breaks():
    #        O     B-PER  I-PER  B-LOC  I-LOC
    rows = [[.45,  .10,   .40,   .03,   .02],    # argmax O, though the next token is surely I-PER
            [.025, .025,  .90,   .025,  .025],
            [.175, .025,  .025,  .025,  .75]]    # argmax I-LOC right after a PER
    argmax = [LABELS[i] for i in np.argmax(rows, axis=1)]
    assert argmax == ["O", "I-PER", "I-LOC"]
    # B-PER I-PER O: .10*.90*.175 = .0158 beats O B-LOC I-LOC: .45*.025*.75 = .0084
    path = [LABELS[i] for i in decode_one(logits_for(*rows))]
    assert path == ["B-PER", "I-PER", "O"]
    start, transition = allowed_transitions(LABELS)
    ids = decode_one(logits_for(*rows))
    assert start[ids[0]] and all(transition[a, b] for a, b in zip(ids, ids[1:]))


def test_viterbi_keeps_a_well_formed_argmax_path():
    rows = [[.1, .8, .05, .03, .02], [.1, .1, .7, .05, .05], [.9, .025, .025, .025, .025]]
    assert decode_one(logits_for(*rows)).tolist() == [1, 2, 0]


def test_viterbi_metrics_count_the_repaired_entity():
    from toolkit.tasks.ner import compute_metrics

    rows = [[.5, .05, .4, .03, .02], [.05, .05, .8, .05, .05]]
    logits = logits_for(*rows)[None]
    gold = np.array([[1, 2]])
    assert compute_metrics(logits, gold, LABELS, "argmax")["f1"] == 0.0
    assert compute_metrics(logits, gold, LABELS, "viterbi")["f1"] == 1.0


def test_runtime_follows_the_manifest_decoding(ner_bundle):
    import json

    from toolkit.runtime import load

    manifest = json.loads((ner_bundle / "manifest.json").read_text())
    ner = load(ner_bundle)
    assert ner.decoding == manifest["decoding"] == "viterbi"  # the auto preset's choice
    for entities in ner(["Angela Merkel met John Smith in Paris .", "Olga Petrova of Siemens"]):
        for entity in entities:
            assert entity["entity"] in ("PER", "ORG", "LOC", "MISC")


def best_path_by_enumeration(logits: np.ndarray, labels) -> list[int]:
    """The most probable allowed path, found by trying every path (short sequences only)."""
    import itertools

    start, transition = allowed_transitions(labels)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    best, best_score = [], -np.inf
    for path in itertools.product(range(len(labels)), repeat=len(logits)):
        if not start[path[0]] or not all(transition[a, b] for a, b in zip(path, path[1:])):
            continue
        score = sum(log_probs[t, tag] for t, tag in enumerate(path))
        if score > best_score:
            best, best_score = list(path), score
    return best


def test_sequences_decoded_side_by_side_get_the_paths_they_get_alone():
    from toolkit.runtime.bio import VITERBI_CHUNK

    rng = np.random.default_rng(0)
    short = [rng.normal(size=(n, len(LABELS))) * 3 for n in (0, 1, 2, 3, 4, 1, 4, 2)]
    decoded = decode_tag_sequences(short, LABELS)
    assert [p.tolist() for p in decoded] == [best_path_by_enumeration(x, LABELS) if len(x) else [] for x in short]
    # more sequences than a chunk, of mixed lengths: each path is the one its sequence gets alone
    mixed = [rng.normal(size=(int(n), len(LABELS))) * 3 for n in rng.integers(0, 60, 2 * VITERBI_CHUNK + 5)]
    together = decode_tag_sequences(mixed, LABELS)
    assert all(np.array_equal(a, decode_one(x)) for a, x in zip(together, mixed))
    assert [len(p) for p in together] == [len(x) for x in mixed]
