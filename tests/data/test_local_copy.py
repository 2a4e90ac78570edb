"""`toolkit data NAME`: the local parquet layout the toolkit reads, from files a user has (offline) or the hub."""

from types import SimpleNamespace

import pyarrow.parquet as pq

from tests.conftest import cli_error
from toolkit.cli import main
from toolkit.data import load_task_data
from toolkit.tasks import TASKS

CONLL = "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\n" \
        "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n\n"


def test_conll2003_from_its_text_files_is_written_as_parquet_that_train_reads(tmp_path, capsys):
    source = tmp_path / "conll"
    source.mkdir()
    for name in ("train.txt", "valid.txt", "test.txt"):
        (source / name).write_text(CONLL)
    main(["data", "conll2003", "--source", str(source), "--output", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert f"data: {tmp_path / 'out'} (" in captured.out and "train 2" in captured.out
    assert f"next: toolkit train ner --dataset {tmp_path / 'out'}" in captured.err
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"train.parquet", "validation.parquet", "test.parquet"}
    assert pq.read_table(tmp_path / "out" / "train.parquet").to_pylist()[0] == {
        "tokens": ["EU", "rejects", "German"], "ner_tags": ["B-ORG", "O", "B-MISC"]}
    task = TASKS["ner"]
    data = load_task_data(task, SimpleNamespace(dataset=str(tmp_path / "out"), text_column=task.text_column,
                                                label_column=task.label_column, train_size="all", eval_size="all",
                                                seed=0))
    assert len(data.train) == 2 and data.eval_split == "validation"


def test_imdb_from_the_aclimdb_tree(tmp_path, capsys):
    for split in ("train", "test"):
        for label, text in (("pos", "a wonderful film"), ("neg", "a boring movie")):
            folder = tmp_path / "aclImdb" / split / label
            folder.mkdir(parents=True)
            (folder / "0_9.txt").write_text(text)
    main(["data", "imdb", "--source", str(tmp_path), "--output", str(tmp_path / "out")])
    rows = pq.read_table(tmp_path / "out" / "train.parquet").to_pylist()
    assert sorted((r["label"], r["text"]) for r in rows) == [("neg", "a boring movie"), ("pos", "a wonderful film")]
    assert (tmp_path / "out" / "test.parquet").is_file()


def test_without_the_hub_or_files_it_says_to_pass_source_and_writes_nothing(tmp_path, capsys):
    err = cli_error(capsys, "data", "conll2003", "--output", str(tmp_path / "out"))  # tests run with HF_HUB_OFFLINE=1
    assert "--source DIR" in err
    assert not (tmp_path / "out").exists()


def test_bad_data_options_are_named(tmp_path, capsys):
    assert "unknown dataset 'wnut': expected one of conll2003, imdb" in cli_error(capsys, "data", "wnut")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert "holds files a dataset does not (x)" in cli_error(capsys, "data", "imdb", "--output", str(tmp_path / "full"))
    err = cli_error(capsys, "data", "imdb", "--source", str(tmp_path / "full"), "--output", str(tmp_path / "o"))
    assert "expected the aclImdb tree" in err


def test_overwrite_replaces_only_a_dataset_and_never_touches_the_source(tmp_path, capsys):
    source = tmp_path / "conll"
    source.mkdir()
    for name in ("train.txt", "valid.txt", "test.txt"):
        (source / name).write_text(CONLL)
    thesis = tmp_path / "mine" / "thesis.txt"
    thesis.parent.mkdir()
    thesis.write_text("years of work")
    err = cli_error(capsys, "data", "conll2003", "--source", str(source), "--output", str(thesis.parent), "--overwrite")
    assert "holds files a dataset does not (thesis.txt)" in err and thesis.read_text() == "years of work"
    for output in (source, tmp_path):  # the source itself, and a folder holding it
        err = cli_error(capsys, "data", "conll2003", "--source", str(source), "--output", str(output), "--overwrite")
        assert "which this command reads" in err and (source / "train.txt").read_text() == CONLL
    main(["data", "conll2003", "--source", str(source), "--output", str(tmp_path / "out")])
    capsys.readouterr()
    assert "already holds a dataset" in cli_error(capsys, "data", "conll2003", "--source", str(source), "--output",
                                                  str(tmp_path / "out"))
    main(["data", "conll2003", "--source", str(source), "--output", str(tmp_path / "out"), "--overwrite"])
