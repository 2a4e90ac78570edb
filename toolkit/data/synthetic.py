"""Write small synthetic datasets (NER in CoNLL format, sentiment as JSON lines), so the demo, the
tests and the architecture bench run with no download."""

from __future__ import annotations

import random
from pathlib import Path

PEOPLE = ["Angela Merkel", "John Smith", "Maria Garcia", "Li Wei", "Ahmed Hassan", "Olga Petrova",
          "James Brown", "Yuki Tanaka", "Pierre Dubois", "Anna Kowalski", "David Cohen", "Sara Berg",
          "Carlos Mendes", "Emma Wilson", "Raj Patel", "Ingrid Olsen"]
ORGS = ["Reuters", "Siemens", "the United Nations", "Toyota", "Barclays", "Ajax", "Microsoft",
        "the World Bank", "Nestle", "Manchester United", "Greenpeace", "Airbus", "Samsung", "NATO"]
PLACES = ["Paris", "Berlin", "Tokyo", "New York", "Cairo", "Moscow", "Madrid", "Brazil", "London",
          "Sydney", "Canada", "Nairobi", "Lisbon", "South Korea", "Oslo", "Mexico"]
MISC = ["German", "French", "Olympic", "Japanese", "Euro", "Brazilian", "Nobel", "Christmas"]
TEMPLATES = [
    "{PER} met {PER} in {LOC} on Monday .",
    "{ORG} said on Tuesday that profits rose in {LOC} .",
    "{PER} , a spokesman for {ORG} , declined to comment .",
    "The {MISC} minister visited {LOC} and {LOC} last week .",
    "Shares of {ORG} fell 3 percent after {PER} resigned .",
    "{PER} scored twice as {ORG} beat {ORG} 2-1 in {LOC} .",
    "Police in {LOC} arrested two men , {ORG} reported .",
    "{PER} won the {MISC} prize for her work in {LOC} .",
    "Talks between {ORG} and {ORG} ended without a deal .",
    "Heavy rain hit {LOC} , leaving {NUM} people without power .",
    "{PER} told {ORG} that the {MISC} economy would grow .",
    "The match in {LOC} was watched by {NUM} fans .",
]
KINDS = {"PER": PEOPLE, "ORG": ORGS, "LOC": PLACES, "MISC": MISC}


def make_sentence(rng: random.Random) -> tuple[list[str], list[str]]:
    """One templated sentence as words and IOB2 tags."""
    words, tags = [], []
    for piece in rng.choice(TEMPLATES).split():
        kind = piece.strip("{}") if piece.startswith("{") else None
        if kind == "NUM":
            words.append(str(rng.randint(2, 90000)))
            tags.append("O")
        elif kind:
            name = rng.choice(KINDS[kind]).split()
            if name[0] == "the":  # "the United Nations": the article is not part of the entity
                words.append("the")
                tags.append("O")
                name = name[1:]
            words += name
            tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(name) - 1)
        else:
            words.append(piece)
            tags.append("O")
    return words, tags


# Written beside the sample's files: a model card then says "a synthetic sample", not a dataset's name.
SYNTHETIC_MARKER = "SYNTHETIC.md"


def mark_synthetic(directory: Path) -> None:
    (directory / SYNTHETIC_MARKER).write_text("Synthetic sentences written by toolkit.data.synthetic from templates: "
                                              "a sample for demos and tests, not real data.\n", encoding="utf-8")


def is_synthetic(dataset: str | None) -> bool:
    """True when `dataset` is a directory this module wrote."""
    return bool(dataset) and (Path(dataset).expanduser() / SYNTHETIC_MARKER).is_file()


def write_sample_ner(directory: Path, train_size: int = 400, eval_size: int = 100, seed: int = 0) -> Path:
    """Write train.txt and validation.txt in CoNLL format to `directory` and return it."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for split, size in (("train", train_size), ("validation", eval_size)):
        lines = ["-DOCSTART- O", ""]
        for _ in range(size):
            words, tags = make_sentence(rng)
            lines += [f"{w} {t}" for w, t in zip(words, tags)] + [""]
        (directory / f"{split}.txt").write_text("\n".join(lines), encoding="utf-8")
    mark_synthetic(directory)
    return directory


def write_sample_sentiment(directory: Path, train_size: int = 60, test_size: int = 20, seed: int = 0) -> Path:
    """Write train.jsonl and test.jsonl of short reviews with string labels (neg/pos) and return `directory`."""
    import json

    rng = random.Random(seed)
    good, bad = ["great film", "wonderful movie", "a great movie"], ["bad film", "boring movie", "a bad movie"]
    directory.mkdir(parents=True, exist_ok=True)
    for split, size in (("train", train_size), ("test", test_size)):
        rows = []
        for _ in range(size):
            label = rng.choice(["neg", "pos"])
            rows.append({"text": rng.choice(good if label == "pos" else bad), "label": label})
        (directory / f"{split}.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    mark_synthetic(directory)
    return directory
