"""Constrained decoding of B-/I-/O tags: the best tag path in which every I-X continues an X.

Arg-max decoding picks each token's tag alone and can emit I-X after O or after B-Y, which seqeval
then counts as a new (often wrong) entity. Viterbi over log-probabilities with those transitions
forbidden returns the most probable well-formed path instead. numpy only: the runtime uses it too.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

DECODINGS = ("argmax", "viterbi")  # per-token arg-max, or the best B-/I--consistent path


# Cached: every decode_tag_sequences call (metrics, each runtime batch) asks for the same label set's masks.
@lru_cache(maxsize=16)
def allowed_transitions(labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(start, transition) masks: which tag may open a sequence, and which may follow which."""
    n = len(labels)
    start = np.array([not name.startswith("I-") for name in labels])
    transition = np.ones((n, n), dtype=bool)
    for j, name in enumerate(labels):
        if name.startswith("I-"):
            entity = name[2:]
            for i, previous in enumerate(labels):
                transition[i, j] = previous in (f"B-{entity}", f"I-{entity}")
    return start, transition


VITERBI_CHUNK = 64  # sequences decoded together: bounds the (chunk x longest x tags) back-pointer table


def viterbi(log_probs: list[np.ndarray], start: np.ndarray, transition: np.ndarray) -> list[np.ndarray]:
    """Best allowed tag ids for each sequence of per-position log-probabilities (length x tags).

    The sequences are decoded side by side, one step for all at a time, so a call costs as many
    Python steps as its longest sequence has positions, not as all of them together; each
    sequence's sums are the ones it would get alone, so its path is too.
    """
    if not log_probs:
        return []
    tags = len(start)
    lengths = np.array([len(x) for x in log_probs])
    longest = int(lengths.max())
    table = np.zeros((len(log_probs), max(longest, 1), tags))
    for row, x in enumerate(log_probs):
        table[row, :len(x)] = x
    penalty = np.where(transition, 0.0, -np.inf)
    score = np.where(start, table[:, 0], -np.inf)
    back = np.zeros((len(log_probs), max(longest, 1), tags), dtype=np.int64)
    for t in range(1, longest):
        candidates = score[:, :, None] + penalty  # sequence x previous tag x next tag
        best = candidates.argmax(1)
        back[:, t] = best
        step = np.take_along_axis(candidates, best[:, None, :], 1)[:, 0] + table[:, t]
        score = np.where((t < lengths)[:, None], step, score)  # a finished sequence keeps its last scores
    rows = np.arange(len(log_probs))
    paths = np.zeros((len(log_probs), max(longest, 1)), dtype=np.int64)
    ended = lengths > 0
    paths[rows[ended], lengths[ended] - 1] = score[ended].argmax(1)
    for t in range(longest - 1, 0, -1):
        inside = t < lengths  # position t is in the sequence: its pointer gives the tag before it
        paths[:, t - 1] = np.where(inside, back[rows, t, paths[:, t]], paths[:, t - 1])
    return [paths[row, :length] for row, length in enumerate(lengths)]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def decode_tag_sequences(logits: list[np.ndarray], labels: tuple[str, ...]) -> list[np.ndarray]:
    """Constrained tag ids for each of many sequences of logits, decoded side by side in chunks of
    sequences of similar length."""
    start, transition = allowed_transitions(labels)
    order = sorted(range(len(logits)), key=lambda i: len(logits[i]))
    paths: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(logits)
    for first in range(0, len(order), VITERBI_CHUNK):
        chosen = order[first:first + VITERBI_CHUNK]
        found = viterbi([log_softmax(np.asarray(logits[i], dtype=np.float64)) for i in chosen], start, transition)
        for i, path in zip(chosen, found):
            paths[i] = path
    return paths
