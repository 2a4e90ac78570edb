import json
from types import SimpleNamespace

import pytest

from toolkit.data.conll import iob1_to_iob2, read_conll
from toolkit.data import load_task_data
from toolkit.errors import DataError
from toolkit.tasks import TASKS


def cfg(dataset, **extra):
    task = TASKS[extra.pop("task", "ner")]
    options = dict(dataset=str(dataset), text_column=task.text_column, label_column=task.label_column,
                   train_size="all", eval_size="all", seed=42)
    options.update(extra)
    return task, SimpleNamespace(**options)


def test_iob1_becomes_iob2_and_iob2_is_unchanged():
    assert iob1_to_iob2(["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"]) == [
        "B-PER", "I-PER", "O", "B-LOC", "B-LOC", "B-ORG"]
    iob2 = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC"]
    assert iob1_to_iob2(iob2) == iob2


def test_read_conll_skips_docstart_and_keeps_last_column(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("-DOCSTART- -X- -X- O\n\nEU NNP B-NP I-ORG\nrejects VBZ B-VP O\n\n\n"
                    "Peter NNP B-NP I-PER\nBlackburn NNP I-NP I-PER\n")
    assert read_conll(path) == {"tokens": [["EU", "rejects"], ["Peter", "Blackburn"]],
                                "ner_tags": [["B-ORG", "O"], ["B-PER", "I-PER"]]}


def test_conll_directory_loads_with_string_labels_as_ids(ner_data):
    task, options = cfg(ner_data)
    data = load_task_data(task, options)
    assert data.labels[0] == "O" and set(data.labels) == {
        "O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC"} | ({"I-MISC"} & set(data.labels))
    assert len(data.train) == 120 and len(data.eval) == 40 and data.eval_split == "validation"
    row = data.train[0]
    assert len(row["tokens"]) == len(row["ner_tags"]) and all(isinstance(t, int) for t in row["ner_tags"])


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv"])
def test_tabular_formats_load(tmp_path, fmt):
    import datasets

    rows = {"text": ["good", "bad", "fine", "awful"], "label": [1, 0, 1, 0]}
    for split in ("train", "test"):
        dataset = datasets.Dataset.from_dict(rows)
        path = tmp_path / f"{split}.{fmt}"
        if fmt == "parquet":
            dataset.to_parquet(str(path))
        elif fmt == "jsonl":
            dataset.to_json(str(path))
        else:
            dataset.to_csv(str(path), index=False)
    task, options = cfg(tmp_path, task="sentiment")
    data = load_task_data(task, options)
    assert data.labels == ("neg", "pos") and sorted(data.train["label"]) == [0, 0, 1, 1]


def test_parquet_class_label_names_come_back(tmp_path):
    import datasets

    features = datasets.Features({"tokens": datasets.Sequence(datasets.Value("string")),
                                  "ner_tags": datasets.Sequence(datasets.ClassLabel(names=["O", "B-X", "I-X"]))})
    for split in ("train", "validation"):
        datasets.Dataset.from_dict({"tokens": [["a", "b"]], "ner_tags": [[0, 1]]}, features=features
                                   ).to_parquet(str(tmp_path / f"{split}.parquet"))
    task, options = cfg(tmp_path)
    assert load_task_data(task, options).labels == ("O", "B-X", "I-X")


def test_protocol_sampling_is_shuffle_then_first_rows(tmp_path):
    import datasets

    rows = {"text": [f"t{i}" for i in range(50)], "label": [i % 2 for i in range(50)]}
    for split in ("train", "test"):
        datasets.Dataset.from_dict(rows).to_parquet(str(tmp_path / f"{split}.parquet"))
    task, options = cfg(tmp_path, task="sentiment", train_size="10", eval_size="5")
    data = load_task_data(task, options)
    expected = datasets.Dataset.from_dict(rows).shuffle(seed=42).select(range(10))["text"]
    assert list(data.train["text"]) == list(expected) and len(data.eval) == 5


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def test_missing_columns_are_named(tmp_path):
    for split in ("train", "test"):
        write_jsonl(tmp_path / f"{split}.jsonl", [{"review": "x", "label": 0}])
    task, options = cfg(tmp_path, task="sentiment")
    with pytest.raises(DataError, match=r"missing 'text'; found \['label', 'review'\]"):
        load_task_data(task, options)


def test_label_id_out_of_range(tmp_path):
    for split in ("train", "test"):
        write_jsonl(tmp_path / f"{split}.jsonl", [{"text": "x", "label": 0}, {"text": "y", "label": 7}])
    task, options = cfg(tmp_path, task="sentiment")
    with pytest.raises(DataError, match="label id 7 is out of range for the 2 labels"):
        load_task_data(task, options)


def test_empty_split(tmp_path):
    (tmp_path / "train.jsonl").write_text("")
    write_jsonl(tmp_path / "test.jsonl", [{"text": "x", "label": 0}])
    task, options = cfg(tmp_path, task="sentiment")
    with pytest.raises(DataError, match="empty"):
        load_task_data(task, options)


def test_train_size_larger_than_split_says_its_size(ner_data):
    task, options = cfg(ner_data, train_size="5000")
    with pytest.raises(DataError, match="asked for 5000 train examples but the split has 120"):
        load_task_data(task, options)


def test_missing_dataset_path(tmp_path):
    task, options = cfg(tmp_path / "nope")
    with pytest.raises(DataError, match="does not exist"):
        load_task_data(task, options)


def test_a_models_labels_take_any_subset_and_refuse_unknown_ones():
    import datasets

    from toolkit.data import resolve_labels

    task = TASKS["sentiment"]
    known = ("negative", "neutral", "positive")
    named = {"test": datasets.Dataset.from_dict({"text": ["a", "b"], "label": ["positive", "negative"]})}
    labels, converted = resolve_labels(named, "label", task, known=known)
    assert labels == known and converted["test"]["label"] == [2, 0]
    declared = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["positive", "negative"])})
    ids = {"test": datasets.Dataset.from_dict({"text": ["a", "b"], "label": [0, 1]}, features=declared)}
    labels, converted = resolve_labels(ids, "label", task, known=known)
    assert labels == known and converted["test"]["label"] == [2, 0]  # ids of the file's order, as the model's
    unknown = {"test": datasets.Dataset.from_dict({"text": ["a"], "label": ["mixed"]})}
    with pytest.raises(DataError, match=r"labels the model does not know: \['mixed'\]"):
        resolve_labels(unknown, "label", task, known=known)


def test_a_tag_error_names_the_row_that_holds_it(tmp_path):
    (tmp_path / "train.txt").write_text("EU B-ORG\nrejects O\n\nPeter B-PER\nsaid O\n\nGerman B_MISC\ncall O\n")
    (tmp_path / "validation.txt").write_text("EU B-ORG\nrejects O\n")
    task, options = cfg(tmp_path)
    with pytest.raises(DataError, match=r"^train split, row 3: the ner labels .*'B_MISC'.* are not IOB tags"):
        load_task_data(task, options)
