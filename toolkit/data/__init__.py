"""Load a task's dataset (hub id or a local directory of parquet, jsonl, csv or CoNLL files), check it,
and sample it by the protocol."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from toolkit.data.conll import read_conll
from toolkit.data.encoding import check_utf8
from toolkit.errors import DataError
from toolkit.hub import looks_like_path, require_hub
from toolkit.tasks import Task

log = logging.getLogger(__name__)

LOADERS = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".csv": "csv"}
CONLL_SUFFIXES = {".txt", ".conll", ".iob", ".bio"}
SPLIT_ALIASES = {
    "train": ("train", "training"),
    "validation": ("validation", "valid", "val", "dev", "eng.testa"),
    "test": ("test", "eng.testb"),
}


@dataclass
class TaskData:
    """The sampled train and evaluation splits, with label ids mapped to `labels`."""

    train: object  # datasets.Dataset
    eval: object  # datasets.Dataset
    labels: tuple[str, ...]
    eval_split: str


def parse_size(value: str | int | None) -> int | None:
    """'all' (or None) means the whole split; anything else is a positive row count."""
    if value is None or str(value).lower() == "all":
        return None
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size <= 0:
        raise DataError(f"expected a positive size or 'all', found {value!r}.")
    return size


def _split_files(directory: Path) -> dict[str, list[Path]]:
    """Group the data files of a directory by split name, from their file names."""
    found: dict[str, list[Path]] = {}
    for path in sorted(directory.iterdir()):
        suffix = path.suffix.lower()
        if suffix not in LOADERS and suffix not in CONLL_SUFFIXES:
            continue
        stem = path.name[: -len(path.suffix)].lower()
        for split, aliases in SPLIT_ALIASES.items():
            if any(stem == a or stem.startswith(a + "-") or stem.endswith("." + a) for a in aliases):
                found.setdefault(split, []).append(path)
    return found


def _load_files(paths: list[Path]):
    import datasets

    suffixes = {p.suffix.lower() for p in paths}
    if suffixes <= CONLL_SUFFIXES:
        columns = {"tokens": [], "ner_tags": []}
        for path in paths:
            for key, values in read_conll(path).items():
                columns[key].extend(values)
        return datasets.Dataset.from_dict(columns)
    if len(suffixes) > 1:
        raise DataError(f"expected one file format per split, found {sorted(str(p) for p in paths)}.")
    if all(p.stat().st_size == 0 for p in paths):
        raise DataError(f"{paths[0].parent}: the {paths[0].stem} split is empty "
                        f"({', '.join(p.name for p in paths)}): expected at least one example.")
    loader = LOADERS[suffixes.pop()]
    if loader != "parquet":
        for path in paths:
            check_utf8(path)
    try:
        return datasets.load_dataset(loader, data_files=[str(p) for p in paths], split="train")
    except Exception as error:  # pyarrow and datasets raise many types for a malformed file
        raise DataError(f"could not read {', '.join(map(str, paths))} as {loader}: "
                        f"{type(error).__name__}: {error}. Fix the file's format.") from error


def _load_local(directory: Path) -> dict:
    if not directory.is_dir():
        raise DataError(f"dataset path {directory} is not a directory: pass a directory holding "
                        "train and validation/test files (parquet, jsonl, csv or CoNLL text).")
    files = _split_files(directory)
    if not files:  # which splits are needed is the caller's business (training needs train)
        raise DataError(
            f"{directory}: expected files named by split (train, validation, test) in parquet, jsonl, csv "
            f"or CoNLL text, e.g. train.parquet; found {sorted(p.name for p in directory.iterdir())}."
        )
    return {split: _load_files(paths) for split, paths in files.items()}


def load_hub_splits(name: str, local_flag: str = "--dataset") -> dict:
    """A hub dataset's splits, failing at once where the hub cannot be reached; a failure names
    `local_flag`, the option that takes the same data from a local directory instead."""
    import datasets

    require_hub(name, "dataset", local_flag)
    try:
        return dict(datasets.load_dataset(name))
    except Exception as error:  # the hub raises many types; the user needs one line
        raise DataError(f"could not load dataset {name!r} from the hub ({type(error).__name__}: "
                        f"{(str(error).splitlines() or [''])[0][:200]}); pass {local_flag} DIR with the files "
                        "you have.") from error


def load_raw_splits(dataset: str) -> dict:
    """All splits of a hub dataset or a local directory, as `datasets.Dataset`s by split name."""
    if looks_like_path(dataset):
        path = Path(dataset).expanduser()
        if not path.exists():
            raise DataError(f"dataset path {dataset} does not exist: pass an existing directory "
                            "or a hub id such as eriktks/conll2003.")
        return _load_local(path)
    return load_hub_splits(dataset)


def pick_eval_split(splits: dict, wanted: str) -> str:
    """The evaluation split: the task's own, else the first of validation/test that exists."""
    for name in (wanted, "validation", "test"):
        if name in splits:
            return name
    raise DataError(f"expected a {wanted!r} split for evaluation, found splits {sorted(splits)}. "
                    f"Add a {wanted} file next to the train file.")


def _check_columns(split_name: str, dataset, task_columns: tuple[str, str]) -> None:
    missing = [c for c in task_columns if c not in dataset.column_names]
    if missing:
        raise DataError(
            f"{split_name} split: expected columns {', '.join(map(repr, task_columns))}, missing "
            f"{', '.join(map(repr, missing))}; found {sorted(dataset.column_names)}. "
            "Pass --text-column/--label-column to name them."
        )


def check_rows(split_name: str, dataset, text_column: str, label_column: str, task: Task) -> None:
    """Raise on the first row the task cannot use, naming it."""
    for number, (text, labels) in enumerate(zip(dataset[text_column], dataset[label_column]), start=1):
        problem = task.check_example(text, labels)
        if problem:
            raise DataError(f"{split_name} split, row {number}: {problem}. Fix or remove the row.")


def _declared_labels(feature) -> tuple[str, ...] | None:
    """Label names a ClassLabel (or a sequence of them) carries, if any."""
    inner = getattr(feature, "feature", feature)
    names = getattr(inner, "names", None)
    return tuple(names) if names else None


def first_bad_row(task: Task, splits: dict, label_column: str) -> str | None:
    """Where the first row whose own labels break the task's label rules is, e.g. "train split, row 7"; None
    when no single row does (a set-wide problem, such as no entity at all)."""
    for name, split in splits.items():
        for number, row_labels in enumerate(split[label_column], start=1):
            own = task.flat_labels([row_labels])
            if own and isinstance(own[0], str) and task.check_labels(tuple(dict.fromkeys([*task.default_labels,
                                                                                           *own]))):
                return f"{name} split, row {number}"
    return None


def _raise_label_problem(task: Task, labels: tuple[str, ...], splits: dict | None = None,
                         label_column: str | None = None) -> None:
    problem = task.check_labels(labels)
    if problem:
        where = first_bad_row(task, splits, label_column) if splits else None
        raise DataError(f"{where + ': ' if where else ''}the {task.name} labels {list(labels)[:12]}: {problem}.")


def _check_known(names, known: tuple[str, ...], source: str) -> None:
    """Rows may hold any subset of a model's labels; a label the model does not know is an error."""
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise DataError(f"{source} holds labels the model does not know: {unknown[:12]}; the model knows "
                        f"{list(known)}. Pass data labelled with the model's labels (a subset of them is fine).")


def _map_names(splits: dict, label_column: str, task: Task, labels: tuple[str, ...], mapping) -> dict:
    """Every split's labels rewritten as ids of `labels`, by `mapping` from a label as stored."""
    return {name: split.map(lambda b: {label_column: task.map_labels(b[label_column], mapping)}, batched=True,
                            features=None)
            for name, split in splits.items()}


def resolve_labels(splits: dict, label_column: str, task: Task,
                   known: tuple[str, ...] | None = None) -> tuple[tuple[str, ...], dict]:
    """Find the label set and convert string labels to ids; check ids are in range.

    With `known` (a trained model's labels), the label set is `known`: the rows may hold any subset of it,
    and their labels become the model's ids.
    """
    first = next(iter(splits.values()))
    declared = _declared_labels(first.features[label_column])
    first_labels = task.flat_labels(first[:1][label_column])
    if first_labels and isinstance(first_labels[0], str):
        names: set[str] = set()
        for split in splits.values():
            names.update(task.flat_labels(split[label_column]))
        if known is not None:
            _check_known(names, known, f"the {' and '.join(splits)} split")
        labels = known or task.order_labels(names)
        index = {name: i for i, name in enumerate(labels)}
        _raise_label_problem(task, labels, splits, label_column)
        return labels, _map_names(splits, label_column, task, labels, index.__getitem__)
    if known is not None and declared and declared != known:  # ids of another order: rewrite them as the model's
        _check_known(declared, known, f"the {' and '.join(splits)} split's declared label set")
        import datasets

        index = {i: known.index(name) for i, name in enumerate(declared)}
        plain = datasets.Value("int64")  # the file's ClassLabel would refuse the model's ids beyond its own
        splits = {name: split.cast_column(label_column, datasets.Sequence(plain) if task.word_input else plain)
                  for name, split in splits.items()}
        return known, _map_names(splits, label_column, task, known, index.__getitem__)
    labels = known or declared or task.default_labels
    _raise_label_problem(task, labels)
    for name, split in splits.items():
        bad = [v for v in task.flat_labels(split[label_column]) if not isinstance(v, int) or not 0 <= v < len(labels)]
        if bad:
            raise DataError(
                f"{name} split: label id {bad[0]!r} is out of range for the {len(labels)} labels "
                f"{list(labels)}. Fix the data or give labels as names (strings) instead of ids."
            )
    return labels, splits


def sample(split, size: int | None, seed: int, split_name: str):
    """The protocol's sample: shuffle with `seed`, then the first `size` rows (all when None)."""
    if len(split) == 0:
        raise DataError(f"the {split_name} split is empty: expected at least one example.")
    if size is None:
        return split.shuffle(seed=seed)
    if size > len(split):
        raise DataError(f"asked for {size} {split_name} examples but the split has {len(split)}: "
                        f"pass a size up to {len(split)} or 'all'.")
    return split.shuffle(seed=seed).select(range(size))


def fingerprint(rows, columns: tuple[str, str]) -> str:
    """A short hash of the rows' texts and labels, in order: the same rows give the same fingerprint
    wherever the data lives."""
    import hashlib
    import json

    digest = hashlib.sha256()
    for column in columns:
        digest.update(json.dumps(list(rows[column]), ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:16]


def load_task_data(task: Task, cfg) -> TaskData:
    """Load, check and sample the train and evaluation splits that `cfg` describes."""
    splits = load_raw_splits(cfg.dataset)
    eval_name = pick_eval_split(splits, task.eval_split)
    chosen = {"train": splits.get("train"), eval_name: splits[eval_name]}
    if chosen["train"] is None:
        raise DataError(f"dataset {cfg.dataset!r} has no 'train' split; found {sorted(splits)}.")
    for name, split in chosen.items():
        _check_columns(name, split, (cfg.text_column, cfg.label_column))
        check_rows(name, split, cfg.text_column, cfg.label_column, task)
    labels, chosen = resolve_labels(chosen, cfg.label_column, task)
    train = sample(chosen["train"], parse_size(cfg.train_size), cfg.seed, "train")
    evaluation = sample(chosen[eval_name], parse_size(cfg.eval_size), cfg.seed, eval_name)
    unseen = set(range(len(labels))) - set(task.flat_labels(train[cfg.label_column]))
    if unseen:
        log.warning("labels %s never occur in the %d training rows: the model cannot learn them, and they "
                    "count as errors wherever the evaluation rows hold them", [labels[i] for i in sorted(unseen)],
                    len(train))
    return TaskData(train=train, eval=evaluation, labels=labels, eval_split=eval_name)
