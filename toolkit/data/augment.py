"""Mention replacement: more NER training sentences made from the training sentences themselves.

Each copy of a sentence has its entity mentions swapped, with probability `swap_probability`
each, for a mention of the same type taken from elsewhere in the training data (Dai & Adel, 2020,
"An Analysis of Simple Data Augmentation for Named Entity Recognition"). The model sees more
names in more contexts, so it leans on context rather than memorising the few names it was given.
Uses nothing but the training split: the copies carry no new labels, only new combinations.
"""

from __future__ import annotations

import random


def mention_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, type) of each IOB2 mention: a B-X and the I-X that follow it."""
    spans, start, kind = [], None, None
    for i, tag in enumerate([*tags, "O"]):
        continues = start is not None and tag == f"I-{kind}"
        if start is not None and not continues:
            spans.append((start, i, kind))
            start = kind = None
        if tag.startswith("B-"):
            start, kind = i, tag[2:]
    return spans


def swap_mentions(rows: list[tuple[list[str], list[str]]], copies: int, swap_probability: float,
                  seed: int) -> list[tuple[list[str], list[str]]]:
    """`copies` new (tokens, tags) rows per row that has a mention, mentions swapped by type."""
    rng = random.Random(seed)
    pool: dict[str, list[list[str]]] = {}
    for tokens, tags in rows:
        for start, end, kind in mention_spans(tags):
            pool.setdefault(kind, []).append(tokens[start:end])
    made = []
    for _ in range(copies):
        for tokens, tags in rows:
            spans = mention_spans(tags)
            if not spans:
                continue
            new_tokens, new_tags, cursor = [], [], 0
            for start, end, kind in spans:
                mention = tokens[start:end]
                if rng.random() < swap_probability:
                    mention = rng.choice(pool[kind])
                new_tokens += tokens[cursor:start] + mention
                new_tags += tags[cursor:start] + [f"B-{kind}"] + [f"I-{kind}"] * (len(mention) - 1)
                cursor = end
            made.append((new_tokens + tokens[cursor:], new_tags + tags[cursor:]))
    return made


def augment_ner_split(split, text_column: str, label_column: str, labels: tuple[str, ...], copies: int,
                      swap_probability: float = 0.5, seed: int = 42):
    """The split followed by its mention-swapped copies (a datasets.Dataset of the same columns)."""
    from datasets import Dataset, concatenate_datasets

    index = {name: i for i, name in enumerate(labels)}
    rows = [(list(tokens), [labels[t] for t in tags])
            for tokens, tags in zip(split[text_column], split[label_column])]
    made = swap_mentions(rows, copies, swap_probability, seed)
    extra = Dataset.from_dict(
        {text_column: [tokens for tokens, _ in made], label_column: [[index[t] for t in tags] for _, tags in made]},
        features=split.select_columns([text_column, label_column]).features,
    )
    return concatenate_datasets([split.select_columns([text_column, label_column]), extra])
