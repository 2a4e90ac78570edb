"""Constrained decoding of B-/I-/O tags: the best tag path in which every I-X continues an X.

Arg-max decoding picks each token's tag alone and can emit I-X after O or after B-Y, which seqeval
then counts as a new (often wrong) entity. Viterbi over log-probabilities with those transitions
forbidden returns the most probable well-formed path instead. numpy only: the runtime uses it too.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

DECODINGS = ("argmax", "viterbi")  # per-token arg-max, or the best B-/I--consistent path


# Cached: decode_tags runs once per text (runtime) or sentence (metrics) over the same label set.
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


def viterbi(log_probs: np.ndarray, start: np.ndarray, transition: np.ndarray) -> np.ndarray:
    """Best allowed tag ids for one sequence of per-position log-probabilities (length x tags)."""
    length = len(log_probs)
    if length == 0:
        return np.zeros(0, dtype=np.int64)
    penalty = np.where(transition, 0.0, -np.inf)
    score = np.where(start, log_probs[0], -np.inf)
    back = np.zeros((length, log_probs.shape[1]), dtype=np.int64)
    for t in range(1, length):
        candidates = score[:, None] + penalty  # previous tag x next tag
        back[t] = candidates.argmax(0)
        score = candidates.max(0) + log_probs[t]
    path = [int(score.argmax())]
    for t in range(length - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return np.asarray(path[::-1], dtype=np.int64)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def decode_tags(logits: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """Constrained tag ids for one sequence of logits (length x tags)."""
    start, transition = allowed_transitions(labels)
    return viterbi(log_softmax(np.asarray(logits, dtype=np.float64)), start, transition)
