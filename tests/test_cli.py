"""The command line: every option comes from a config field, and every option has help."""

import argparse
import dataclasses
import json
import subprocess
import sys

import pytest

import toolkit
from toolkit.cli import COMMANDS, build_parser


def subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("verb", list(COMMANDS))
def test_flags_and_config_fields_are_the_same_set(verb):
    parser = subparsers()[verb]
    dests = {a.dest for a in parser._actions if a.dest != "help"}
    assert dests == {f.name for f in dataclasses.fields(COMMANDS[verb][1])}
    for field in dataclasses.fields(COMMANDS[verb][1]):
        flags = [a.option_strings for a in parser._actions if a.dest == field.name]
        assert field.metadata["positional"] or ["--" + field.name.replace("_", "-")] in flags


@pytest.mark.parametrize("verb", list(COMMANDS))
def test_help_shows_every_option_with_its_help(verb, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([verb, "--help"])
    assert exit_info.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    for action in subparsers()[verb]._actions:
        assert action.help and action.help.strip(), f"{verb} {action.dest} has no help"
        for flag in action.option_strings:
            assert flag in shown
        assert " ".join(action.help.split()[:4]) in shown


def test_defaults_are_shown_and_come_from_the_config():
    from toolkit.config import BenchConfig, TrainConfig

    parsers = subparsers()
    train = parsers["train"].parse_args(["ner"])
    assert train.max_length == TrainConfig.max_length and train.seed == TrainConfig.seed
    assert "(default: 512)" in parsers["train"].format_help()
    bench = parsers["bench"].parse_args(["b"])
    assert bench.batch_sizes == BenchConfig(bundle="b").batch_sizes
    assert "(default: 1,8)" in " ".join(parsers["bench"].format_help().split())


def test_version_comes_from_the_installed_distribution():
    from importlib.metadata import version

    run = subprocess.run([sys.executable, "-m", "toolkit", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == f"toolkit {version(toolkit.DISTRIBUTION)}"
    assert toolkit.__version__ == version(toolkit.DISTRIBUTION)


def test_predict_into_a_closed_pipe_ends_quietly(ner_bundle):
    many = "\n".join(["Angela Merkel met John Smith in Paris ."] * 2000)
    run = subprocess.run(f"{sys.executable} -m toolkit predict {ner_bundle} | head -n 1", shell=True, input=many,
                         capture_output=True, text=True)
    assert len(run.stdout.splitlines()) == 1 and "Traceback" not in run.stderr and "BrokenPipe" not in run.stderr


@pytest.mark.parametrize("argv, message", [
    (["--batch-size", "-1"], "batch_size=-1"), (["--batch-size", "0"], "batch_size=0"),
    (["--threads", "1000"], "threads=1000"),
])
def test_predict_options_are_checked(ner_bundle, capsys, argv, message):
    from tests.conftest import cli_error

    assert message in cli_error(capsys, "predict", str(ner_bundle), "x", *argv)


def test_a_verb_whose_extra_is_missing_names_it(tmp_path):
    code = ("import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None\n"
            "from toolkit.cli import main; main(['train', 'ner', '--dataset', 'x'])")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "needs the 'train' extra" in run.stderr and "pip install 'onnxbert-toolkit[train]'" in run.stderr


def test_the_base_install_is_the_runtimes_needs():
    from importlib.metadata import requires

    base = [r for r in requires(toolkit.DISTRIBUTION) if "extra ==" not in r]
    assert sorted(r.split("=")[0].split(">")[0].split("<")[0] for r in base) == ["numpy", "onnxruntime", "tokenizers"]


def test_predict_takes_texts_after_its_options(ner_bundle, capsys):
    from toolkit.cli import main

    main(["predict", str(ner_bundle), "--variant", "fp32", "Angela Merkel met John Smith .", "Paris"])
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(answers) == 2 and all(isinstance(a, list) for a in answers)


@pytest.mark.parametrize("task, shown, hidden", [
    ("ner", ["--decoding", "--augment-copies", "--first-token-only"], ["--pooling", "--truncation"]),
    ("sentiment", ["--pooling", "--truncation"], ["--decoding", "--augment-copies", "--first-token-only"]),
])
def test_train_help_shows_only_the_tasks_options(task, shown, hidden):
    run = subprocess.run([sys.executable, "-m", "toolkit", "train", task, "--help"], capture_output=True, text=True)
    assert run.returncode == 0
    assert all(flag in run.stdout for flag in shown) and not any(flag in run.stdout for flag in hidden)
    assert "--learning-rate" in run.stdout and "--max-length" in run.stdout


def test_usage_mistakes_are_one_line_and_exit_code_1(capsys, ner_data):
    from tests.conftest import cli_error

    assert "--pooling is an option of the sentiment task, not of ner" in cli_error(
        capsys, "train", "ner", "--pooling", "mean", "--dataset", str(ner_data))
    assert "unrecognized arguments: --no-such-flag" in cli_error(capsys, "bench", "b", "--no-such-flag")
    assert "argument --device: invalid choice: 'tpu'" in cli_error(capsys, "bench", "b", "--device", "tpu")


def test_evaluate_says_what_it_evaluates_and_advances_a_bar(capsys, tmp_path, ner_checkpoint, monkeypatch):
    import toolkit.evaluation as evaluation

    advanced = []

    class Bar:
        def __init__(self, total, desc, unit="step"):
            self.total = total

        def update(self, n):
            advanced.append(n)

        def close(self):
            pass

    monkeypatch.setattr(evaluation, "bar", Bar)
    toolkit.cli.main(["evaluate", str(ner_checkpoint), "--output", str(tmp_path / "report.json")])
    err = capsys.readouterr().err
    assert "evaluating pytorch on 40 examples (40 inputs)" in err
    assert sum(advanced) == 40


def test_bench_writes_its_reports_beside_the_bundle_not_in_the_current_directory(tmp_path, ner_bundle, monkeypatch,
                                                                                 capsys):
    import shutil

    bundle = ner_bundle.parent / "ner-bench-default"  # a sibling: its relative source checkpoint still resolves
    shutil.copytree(ner_bundle, bundle, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    toolkit.cli.main(["bench", str(bundle), "--batch-sizes", "1", "--seq-lens", "8", "--warmup", "0", "--runs", "1",
                      "--variants", "fp32"])
    assert {p.name for p in (bundle / "bench").iterdir()} == {"report.json", "report.md", "report.png"}
    assert list(tmp_path.iterdir()) == []
    from toolkit.config import ExportConfig
    from toolkit.export import export

    export(ExportConfig(checkpoint=bundle / json.loads((bundle / "manifest.json").read_text())["source_checkpoint"],
                        output_dir=bundle, overwrite=True))  # a bundle with its bench reports is still a bundle


def test_package_without_a_name_says_to_give_one(capsys, tmp_path):
    from tests.conftest import cli_error

    err = cli_error(capsys, "package", str(tmp_path))
    assert "--name is missing: give the package a name, e.g. --name ner_model" in err and "''" not in err


def test_export_hints_the_next_command(capsys, tmp_path, ner_checkpoint):
    toolkit.cli.main(["export", str(ner_checkpoint), "--output-dir", str(tmp_path / "b")])
    assert f"next: toolkit bench {tmp_path / 'b'}, or toolkit serve {tmp_path / 'b'}" in capsys.readouterr().err


@pytest.mark.parametrize("argv, flag", [
    (["serve", "BUNDLE", "--max-wait-ms", "nan"], "--max-wait-ms"), (["serve", "BUNDLE", "--max-wait-ms", "inf"], "--max-wait-ms"),
    (["export", "CKPT", "--atol", "nan"], "--atol"), (["export", "CKPT", "--max-drop", "nan"], "--max-drop"),
])
def test_numbers_that_are_not_finite_are_refused(capsys, ner_bundle, ner_checkpoint, tmp_path, argv, flag):
    """nan compares false with every bound: without its own check it would pass them all (an atol of
    nan turns the parity gate off; a max-wait of nan hangs every request)."""
    from tests.conftest import cli_error

    paths = {"BUNDLE": str(ner_bundle), "CKPT": str(ner_checkpoint)}
    argv = [paths.get(a, a) for a in argv] + (["--output-dir", str(tmp_path / "b")] if argv[0] == "export" else [])
    err = cli_error(capsys, *argv)
    assert f"{flag} must be a finite number" in err and not (tmp_path / "b").exists()
