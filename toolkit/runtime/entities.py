"""Turn per-token class scores into entity spans, as transformers' token-classification pipeline does.

Pure numpy. The strategies are the pipeline's: `simple` groups tokens by their own arg-max tag;
`first`, `average` and `max` first give every word one tag (from its first piece, the mean of its
pieces' scores, or its most confident piece), then group words. B-/I- tags are repaired on the way:
an I-X that follows O or another type starts an entity, and B-X always does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

STRATEGIES = ("simple", "first", "average", "max")


@dataclass(slots=True)  # one per token of every text: slots make them cheaper to build
class Piece:
    """One non-special token: its class scores, its characters, and whether it continues a word.
    `best`/`top` (its arg-max tag and that tag's score) may be given, computed for all of a text's
    tokens in one numpy call: per piece, numpy's scalar calls cost more than the decoding itself."""

    scores: np.ndarray
    start: int
    end: int
    is_subword: bool
    best: int = -1  # -1: not given, taken from `scores` when needed
    top: float = 0.0


def best_tag(piece: Piece) -> tuple[int, float]:
    """The piece's arg-max tag id and its score."""
    if piece.best < 0:
        best = int(piece.scores.argmax())
        return best, float(piece.scores[best])
    return piece.best, piece.top


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


@lru_cache(maxsize=256)  # called for every word and entity, over a handful of tag names
def split_tag(tag: str) -> tuple[str, str]:
    """('B'|'I', type); a tag without a B-/I- prefix counts as a continuation of its own type."""
    if tag.startswith(("B-", "I-")):
        return tag[0], tag[2:]
    return "I", tag


def word_tags(pieces: list[Piece], labels: tuple[str, ...], strategy: str) -> list[tuple[str, float, int, int]]:
    """(tag, score, start, end) per word for first/average/max, or per token for simple."""
    if strategy == "simple":
        return [(labels[best], top, p.start, p.end) for p in pieces for best, top in (best_tag(p),)]
    words: list[list[Piece]] = []
    for piece in pieces:
        if words and piece.is_subword:
            words[-1].append(piece)
        else:
            words.append([piece])
    tagged = []
    for word in words:
        if strategy == "first":
            best, top = best_tag(word[0])
        elif strategy == "max":
            best, top = max((best_tag(p) for p in word), key=lambda tag: tag[1])  # ties: the first piece
        elif strategy == "average":
            scores = np.nanmean(np.stack([p.scores for p in word]), axis=0)
            best = int(scores.argmax())
            top = float(scores[best])
        else:
            raise ValueError(f"unknown aggregation strategy {strategy!r}: expected one of {STRATEGIES}")
        tagged.append((labels[best], top, word[0].start, word[-1].end))
    return tagged


def group(tagged: list[tuple[str, float, int, int]], text: str) -> list[dict]:
    """Join adjacent words of one type into entities; drop O. Scores are the mean of the words'.

    SentencePiece and some byte-level tokenizers give a word's piece the space before it; an
    entity's span leaves spaces at its edges out (transformers' pipeline keeps them: " Merkel")."""
    groups: list[list[tuple[str, float, int, int]]] = []
    for item in tagged:
        bi, entity_type = split_tag(item[0])
        if groups and bi != "B" and split_tag(groups[-1][-1][0])[1] == entity_type:
            groups[-1].append(item)
        else:
            groups.append([item])
    entities = []
    for members in groups:
        entity_type = split_tag(members[0][0])[1]
        if entity_type == "O":
            continue
        start, end = members[0][2], members[-1][3]
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            continue
        entities.append({"entity": entity_type, "text": text[start:end], "start": start, "end": end,
                         "score": float(np.mean([m[1] for m in members]))})
    return entities


def decode_entities(pieces: list[Piece], labels: tuple[str, ...], text: str, strategy: str = "first") -> list[dict]:
    """Entities of one text from its pieces' scores."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown aggregation strategy {strategy!r}: expected one of {', '.join(STRATEGIES)}")
    return group(word_tags(pieces, labels, strategy), text)
