"""`toolkit data NAME`: write a task's dataset as the local parquet layout the toolkit reads (train.parquet,
validation.parquet, test.parquet), from the hub where it is reachable, or from files the user already has:
CoNLL-2003's text files, or IMDB's aclImdb tree."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from toolkit.data import load_hub_splits
from toolkit.data.conll import read_conll
from toolkit.data.encoding import check_utf8
from toolkit.errors import DataError
from toolkit.staging import staged_directory

log = logging.getLogger(__name__)

# Each dataset `toolkit data` writes: the task that reads it (whose default_dataset is its hub id).
DATASETS = {"conll2003": "ner", "imdb": "sentiment"}
IMDB_LABELS = ("neg", "pos")  # aclImdb's folder names, as the labels the files get


@dataclass
class LocalDataset:
    output_dir: Path
    rows: dict[str, int]  # rows per split written
    source: str  # the hub id or the directory read


def conll_splits(source: Path) -> dict:
    """CoNLL text files named by split (train.txt, valid.txt or eng.testa, test.txt or eng.testb) as columns."""
    from toolkit.data import CONLL_SUFFIXES, _split_files

    files = {split: [p for p in paths if p.suffix.lower() in CONLL_SUFFIXES]
             for split, paths in _split_files(source).items()}
    files = {split: paths for split, paths in files.items() if paths}
    if "train" not in files:
        raise DataError(f"{source}: expected CoNLL-2003 text files named by split (train.txt, valid.txt, test.txt), "
                        f"found {sorted(p.name for p in source.iterdir())}.")
    splits = {}
    for split, paths in files.items():
        columns = {"tokens": [], "ner_tags": []}
        for path in paths:
            for key, values in read_conll(path).items():
                columns[key].extend(values)
        splits[split] = columns
    return splits


def imdb_splits(source: Path) -> dict:
    """The aclImdb tree (train/ and test/, each with pos/ and neg/ of one review per .txt file) as columns."""
    root = source / "aclImdb" if (source / "aclImdb").is_dir() else source
    splits = {}
    for split in ("train", "test"):
        texts, labels = [], []
        for label in IMDB_LABELS:
            for path in sorted((root / split / label).glob("*.txt")):
                check_utf8(path)  # one line naming the review and the byte, as every text reader says it
                texts.append(path.read_text(encoding="utf-8"))
                labels.append(label)
        if texts:
            splits[split] = {"text": texts, "label": labels}
    if "train" not in splits:
        raise DataError(f"{root}: expected the aclImdb tree (train/pos, train/neg, test/pos, test/neg holding .txt "
                        "reviews); download it from https://ai.stanford.edu/~amaas/data/sentiment/ and pass its folder.")
    return splits


def write_local_dataset(name: str, output_dir: Path, source: Path | None = None) -> LocalDataset:
    """Write `name`'s splits to `output_dir` as parquet: from `source` when given, else from the hub."""
    import datasets

    from toolkit.tasks import TASKS

    hub_id = TASKS[DATASETS[name]].default_dataset
    if source is not None:
        if not Path(source).is_dir():
            raise DataError(f"--source {source} is not a directory: pass the folder holding the {name} files.")
        columns = conll_splits(Path(source)) if name == "conll2003" else imdb_splits(Path(source))
        splits = {split: datasets.Dataset.from_dict(data) for split, data in columns.items()}
    else:
        splits = load_hub_splits(hub_id, "--source")
    with staged_directory(Path(output_dir)) as staging:
        for split, rows in splits.items():
            rows.to_parquet(str(staging / f"{split}.parquet"))
    return LocalDataset(output_dir=Path(output_dir), rows={split: len(rows) for split, rows in splits.items()},
                        source=str(source) if source is not None else hub_id)
