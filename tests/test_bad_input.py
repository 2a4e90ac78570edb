"""Every failure a user can cause is one line naming the problem and the fix, exit code 1."""

import json
import shutil

import pytest

from tests.conftest import cli_error
from toolkit.errors import ToolkitError


def conll_dir(tmp_path, train: str, validation: str | None = None, encoding="utf-8"):
    directory = tmp_path / "data"
    directory.mkdir(exist_ok=True)
    (directory / "train.txt").write_bytes(train.encode(encoding))
    (directory / "validation.txt").write_bytes((validation or train).encode(encoding))
    return directory


def train_error(capsys, tmp_path, tiny_base, dataset, *extra, task="ner"):
    return cli_error(capsys, "train", task, "--model", str(tiny_base), "--dataset", str(dataset), "--train-size",
                     "all", "--eval-size", "all", "--max-steps", "1", "--output-dir", str(tmp_path / "out"), *extra)


@pytest.mark.parametrize("train, message", [
    ("EU NNP\nrejects VBZ\n\nGerman JJ\n", "not IOB tags"),  # a POS column where the tag should be
    ("EU O\nrejects O\n\nGerman O\n", "every tag is O"),  # no entity column at all
    ("EU B-\nrejects O\n", "not IOB tags"),
    ("EU X-PER\nrejects O\n", "not IOB tags"),
])
def test_conll_without_usable_tags_is_refused(capsys, tmp_path, tiny_base, train, message):
    assert message in train_error(capsys, tmp_path, tiny_base, conll_dir(tmp_path, train))
    assert not (tmp_path / "out").exists()


def test_non_utf8_conll_is_refused(capsys, tmp_path, tiny_base):
    directory = conll_dir(tmp_path, "Müller B-PER\nsaid O\n", encoding="latin-1")
    assert "not UTF-8" in train_error(capsys, tmp_path, tiny_base, directory)


def test_non_utf8_jsonl_names_the_file_and_the_line(capsys, tmp_path, tiny_base):
    directory = tmp_path / "data"
    directory.mkdir()
    good = json.dumps({"tokens": ["Paris", "is", "nice"], "ner_tags": ["B-LOC", "O", "O"]}, ensure_ascii=False)
    bad = json.dumps({"tokens": ["Müller", "said"], "ner_tags": ["B-PER", "O"]}, ensure_ascii=False)
    (directory / "train.jsonl").write_bytes(f"{good}\n{good}\n{bad}\n".encode("latin-1"))
    (directory / "validation.jsonl").write_text(good + "\n")
    err = train_error(capsys, tmp_path, tiny_base, directory)
    assert f"{directory / 'train.jsonl'}, line 3: not UTF-8 text" in err and "unexpected" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("row, message", [
    ({"tokens": ["EU", "rejects", "it"], "ner_tags": ["B-ORG", "O"]}, "3 words but 2 tags"),
    ({"tokens": "EU rejects it", "ner_tags": ["B-ORG", "O", "O"]}, "must be a list of words"),
])
def test_malformed_ner_rows_are_refused_naming_the_row(capsys, tmp_path, tiny_base, row, message):
    directory = tmp_path / "data"
    directory.mkdir()
    good = {"tokens": ["Paris", "is", "nice"], "ner_tags": ["B-LOC", "O", "O"]}
    for split in ("train", "validation"):
        (directory / f"{split}.jsonl").write_text(json.dumps(good) + "\n" + json.dumps(row) + "\n")
    err = train_error(capsys, tmp_path, tiny_base, directory)
    assert message in err and "row 2" in err


@pytest.mark.parametrize("text", [7, None])
def test_sentiment_text_that_is_not_a_string_is_refused(capsys, tmp_path, tiny_base, text):
    directory = tmp_path / "data"
    directory.mkdir()
    rows = [{"text": "great film", "label": "pos"}, {"text": text, "label": "neg"}]
    for split in ("train", "test"):
        (directory / f"{split}.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert "the text must be a string" in train_error(capsys, tmp_path, tiny_base, directory, task="sentiment")


@pytest.mark.parametrize("flags, message", [
    (["--epochs", "0"], "--epochs must be above 0"), (["--epochs", "-1"], "--epochs must be above 0"),
    (["--learning-rate", "-1"], "--learning-rate must be above 0"), (["--batch-size", "0"], "--batch-size"),
    (["--train-size", "abc"], "--train-size must be a positive whole number or 'all'"),
    (["--max-length", "1"], "--max-length must be at least 8"),
])
def test_bad_training_numbers_are_refused_before_any_work(capsys, tmp_path, tiny_base, ner_data, flags, message):
    assert message in train_error(capsys, tmp_path, tiny_base, ner_data, *flags)
    assert not (tmp_path / "out").exists()


def test_many_bad_numbers_are_named_at_once(capsys, tmp_path, tiny_base, ner_data):
    err = train_error(capsys, tmp_path, tiny_base, ner_data, "--epochs", "0", "--learning-rate", "-1")
    assert "--epochs" in err and "--learning-rate" in err


def test_output_dir_that_is_a_file(capsys, tmp_path, tiny_base, ner_data):
    (tmp_path / "out").write_text("mine")
    assert "is a file" in train_error(capsys, tmp_path, tiny_base, ner_data)
    assert (tmp_path / "out").read_text() == "mine"


def test_output_dir_that_cannot_be_made_is_refused_before_training(capsys, tmp_path, tiny_base, ner_data):
    (tmp_path / "a-file").write_text("mine")
    err = cli_error(capsys, "train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data), "--output-dir",
                    str(tmp_path / "a-file" / "out"))
    assert f"{tmp_path / 'a-file'} is a file, not a folder; choose a writable place" in err


def test_label_only_in_the_evaluation_split_is_named(caplog, tmp_path, tiny_base):
    from tests.conftest import run_train

    directory = conll_dir(tmp_path, "Paris B-LOC\nis O\n\nRome B-LOC\nwins O\n",
                          "Paris B-LOC\nis O\n\nSiemens B-ORG\nwins O\n")
    run_train("ner", tiny_base, directory, tmp_path / "out", "--max_steps", 1)
    assert "['B-ORG'] never occur in the 2 training rows" in caplog.text


@pytest.mark.parametrize("damage, message", [
    ("config", "cannot be read as a transformers config"),
    ("metrics", "metrics.json is not valid JSON"),
    ("weights", "cannot be loaded"),
])
def test_damaged_checkpoints_are_one_line(capsys, tmp_path, ner_checkpoint, damage, message):
    checkpoint = tmp_path / "ck"
    shutil.copytree(ner_checkpoint, checkpoint)
    if damage == "config":
        (checkpoint / "config.json").write_text("{not json")
    elif damage == "metrics":
        (checkpoint / "metrics.json").write_text("[1, 2")
    else:
        weights = checkpoint / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:1000])
    assert message in cli_error(capsys, "export", str(checkpoint), "--output-dir", str(tmp_path / "b"))
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("flags, message", [
    (["--opset", "5"], "--opset must be at least 14"), (["--opset", "99"], "at most 23"),
    (["--atol", "0"], "--atol must be above 0"), (["--static"], "--static needs --quantize"),
    (["--compact"], "--compact needs --quantize"),
])
def test_bad_export_options(capsys, tmp_path, ner_checkpoint, flags, message):
    assert message in cli_error(capsys, "export", str(ner_checkpoint), "--output-dir", str(tmp_path / "b"), *flags)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("flags, message", [
    (["--batch-sizes", "0"], "--batch-sizes must list whole numbers of at least 1"),
    (["--runs", "0"], "--runs must be at least 1"), (["--seq-lens", ","], "--seq-lens"),
])
def test_bad_bench_options(capsys, tmp_path, ner_bundle, flags, message):
    assert message in cli_error(capsys, "bench", str(ner_bundle), "--output", str(tmp_path / "r.json"), *flags)


def test_bench_output_that_is_a_directory_is_refused_before_measuring(capsys, tmp_path, ner_bundle):
    assert "is a directory" in cli_error(capsys, "bench", str(ner_bundle), "--output", str(tmp_path))


def test_bench_outputs_are_checked_before_measuring(capsys, tmp_path, ner_bundle, monkeypatch):
    import toolkit.bench

    opened = []
    monkeypatch.setattr(toolkit.bench, "load_bundle", lambda *args: opened.append(args))
    (tmp_path / "a-file").write_text("")
    err = cli_error(capsys, "bench", str(ner_bundle), "--output", str(tmp_path / "a-file" / "r.json"))
    assert f"{tmp_path / 'a-file'} is a file, not a folder" in err
    (tmp_path / "r.png").write_bytes(b"mine")
    err = cli_error(capsys, "bench", str(ner_bundle), "--output", str(tmp_path / "r.json"))
    assert f"{tmp_path / 'r.png'} already exists; pass --overwrite" in err
    err = cli_error(capsys, "bench", str(ner_bundle), "--output", str(ner_bundle / "README.json"), "--overwrite")
    assert f"lies in {ner_bundle}, which this command reads" in err
    assert not opened and (tmp_path / "r.png").read_bytes() == b"mine"


def test_predict_outputs_are_checked_before_the_bundle_is_read(capsys, tmp_path, ner_bundle, monkeypatch):
    import toolkit.runtime

    monkeypatch.setattr(toolkit.runtime, "load_bundle", lambda *args: pytest.fail("the bundle was read"))
    (tmp_path / "in.jsonl").write_text('{"text": "Paris"}\n')
    (tmp_path / "a-file").write_text("")
    err = cli_error(capsys, "predict", str(ner_bundle), "--input", str(tmp_path / "in.jsonl"), "--output",
                    str(tmp_path / "a-file" / "answers.jsonl"))
    assert f"{tmp_path / 'a-file'} is a file, not a folder" in err


def test_training_never_replaces_a_folder_that_is_not_a_checkpoint(capsys, tmp_path, tiny_base, ner_data,
                                                                   monkeypatch):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    err = train_error(capsys, tmp_path, tiny_base, ner_data, "--overwrite")
    assert "holds files that are not a checkpoint (notes.txt)" in err
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"
    monkeypatch.chdir(tmp_path / "out")
    assert "not a checkpoint" in cli_error(capsys, "train", "ner", "--model", str(tiny_base), "--dataset",
                                           str(ner_data), "--output-dir", ".", "--overwrite")


def test_a_failed_final_save_keeps_the_previous_checkpoint(tmp_path, tiny_base, ner_data, monkeypatch):
    import transformers

    from tests.conftest import run_train

    out = tmp_path / "out"
    run_train("ner", tiny_base, ner_data, out, "--max_steps", 1)
    before = (out / "model.safetensors").read_bytes()

    def disk_full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(transformers.Trainer, "save_model", disk_full)
    with pytest.raises(ToolkitError, match=f"the disk holding {out} is full .* while saving"):
        run_train("ner", tiny_base, ner_data, out, "--max_steps", 2, "--overwrite", True)
    assert (out / "model.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left behind


@pytest.fixture
def small_disk(tmp_path):
    """A real 300 KB filesystem (tmpfs), so that writing fills it up: needs the right to mount."""
    import subprocess

    mount = tmp_path / "small-disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.decode().strip()}); the simulated full disk of "
                    "test_a_failed_final_save_keeps_the_previous_checkpoint still runs")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_export_onto_a_full_disk_is_one_line_and_leaves_nothing(capsys, small_disk, ner_checkpoint):
    err = cli_error(capsys, "export", str(ner_checkpoint), "--quantize", "--output-dir", str(small_disk / "bundle"))
    assert "No space left on device" in err or "no space left on the disk" in err
    assert list(small_disk.iterdir()) == []


def test_overwrite_never_replaces_a_folder_with_foreign_files(capsys, tmp_path, ner_bundle, ner_checkpoint, tiny_base,
                                                              ner_data):
    bundle = tmp_path / "bundle"
    shutil.copytree(ner_bundle, bundle)
    (bundle / "my-notes.txt").write_text("mine")
    err = cli_error(capsys, "export", str(ner_checkpoint), "--output-dir", str(bundle), "--overwrite")
    assert "holds files a bundle does not (my-notes.txt)" in err and (bundle / "my-notes.txt").exists()
    project = tmp_path / "project"
    project.mkdir()
    (project / "config.json").write_text("{}")
    (project / "main.py").write_text("print('mine')")
    assert "holds files a checkpoint does not (main.py)" in cli_error(
        capsys, "train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data), "--output-dir", str(project),
        "--overwrite")
    assert (project / "main.py").read_text() == "print('mine')"


def test_export_into_the_current_directory_is_refused_before_any_work(capsys, tmp_path, ner_bundle, ner_checkpoint,
                                                                     monkeypatch):
    import toolkit.modeling

    monkeypatch.setattr(toolkit.modeling, "load_tokenizer", lambda *args: pytest.fail("export started"))
    work = tmp_path / "work"
    shutil.copytree(ner_bundle, work)
    before = sorted(p.name for p in work.iterdir())
    monkeypatch.chdir(work)
    for target in (".", str(work), ".."):
        err = cli_error(capsys, "export", str(ner_checkpoint), "--output-dir", target, "--overwrite")
        assert "is or holds the current directory, which a finished bundle cannot replace" in err
    assert sorted(p.name for p in work.iterdir()) == before and sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    (tmp_path / "a-file").write_text("")
    err = cli_error(capsys, "export", str(ner_checkpoint), "--output-dir", str(tmp_path / "a-file" / "bundle"))
    assert f"{tmp_path / 'a-file'} is a file, not a folder; choose a writable place" in err


@pytest.mark.parametrize("failing_rename", [1, 2])
def test_a_failed_swap_keeps_the_previous_directory_and_leaves_nothing(tmp_path, monkeypatch, failing_rename):
    import os

    import toolkit.staging
    from toolkit.staging import staged_directory

    target = tmp_path / "bundle"
    target.mkdir()
    (target / "model.onnx").write_text("previous")
    renames, real = [], os.replace

    def busy_on_one_rename(source, destination):
        renames.append(source)
        if len(renames) == failing_rename:
            raise OSError(16, "Device or resource busy", str(source))
        real(source, destination)

    monkeypatch.setattr(toolkit.staging.os, "replace", busy_on_one_rename)
    with pytest.raises(OSError, match="busy"):
        with staged_directory(target) as staging:
            (staging / "model.onnx").write_text("new")
    assert (target / "model.onnx").read_text() == "previous" and sorted(p.name for p in tmp_path.iterdir()) == [
        "bundle"]


def test_a_live_runs_staging_folder_is_left_alone(tmp_path):
    import os

    from toolkit.staging import recover

    live = tmp_path / f".bundle.tmp-{os.getppid()}-abc"
    dead = tmp_path / ".bundle.tmp-999999999-abc"
    live.mkdir()
    dead.mkdir()
    recover(tmp_path / "bundle")
    assert live.exists() and not dead.exists()


@pytest.mark.parametrize("argv, message", [
    (["--default-variant", "int8"], "--default-variant int8: this export keeps"),
    (["--variants", "fp32", "--fp16"], "--variants names every variant to keep"),
])
def test_export_option_mistakes_are_refused_before_any_work(capsys, tmp_path, ner_checkpoint, argv, message):
    assert message in cli_error(capsys, "export", str(ner_checkpoint), "--output-dir", str(tmp_path / "b"), *argv)
    assert not (tmp_path / "b").exists()


def test_corpus_options_without_input_are_named(capsys, ner_bundle, tmp_path):
    err = cli_error(capsys, "predict", str(ner_bundle), "--output", str(tmp_path / "o.jsonl"), "hello")
    assert "--output apply to a corpus: add --input" in err
