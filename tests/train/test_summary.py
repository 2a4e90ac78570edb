"""What `toolkit train` tells its user: the start summary, evaluations during training, the best checkpoint,
early stopping, Trainer's integrations, and nothing of bars or loss dictionaries off a terminal."""

import json

from tests.conftest import cli_error


def train_cli(capsys, tiny_base, ner_data, out, *extra):
    from toolkit.cli import main

    main(["train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data), "--train-size", "all",
          "--eval-size", "all", "--batch-size", "8", "--output-dir", str(out), *extra])
    return capsys.readouterr()


def test_start_summary_comes_before_training_and_no_bars_or_loss_dicts_reach_a_log(capsys, tmp_path, tiny_base,
                                                                                   ner_data):
    captured = train_cli(capsys, tiny_base, ner_data, tmp_path / "ner", "--max-steps", "2")
    err = captured.err
    assert "training ner:" in err and "k parameters)" in err
    assert "labels (8): O, B-" in err
    assert "rows: 120 train" in err and "40 evaluation (validation split)" in err
    assert "steps: 2 of batch 8" in err and "estimate: about" in err
    # Off a terminal (pytest captures both streams): no bar redraws, no Trainer dictionaries.
    for stream in (captured.out, captured.err):
        assert "\r" not in stream and "it/s" not in stream and "'train_runtime'" not in stream
    assert f"next: toolkit export {tmp_path / 'ner'} --quantize" in err


def test_eval_every_n_steps_echoes_a_score_per_evaluation(capsys, tmp_path, tiny_base, ner_data):
    err = train_cli(capsys, tiny_base, ner_data, tmp_path / "ner", "--max-steps", "4", "--eval-every", "2").err
    scored = [line for line in err.splitlines() if ": f1 " in line]
    assert [line.split(":")[0].split("(")[-1] for line in scored] == ["step 2)", "step 4)"]


def test_early_stopping_stops_when_the_score_stops_improving(capsys, tmp_path, tiny_base, ner_data):
    # A rate this small leaves the scores unchanged: the second evaluation does not improve on the first.
    out = tmp_path / "ner"
    err = train_cli(capsys, tiny_base, ner_data, out, "--max-steps", "8", "--eval-every", "1",
                    "--early-stopping", "1", "--learning-rate", "1e-12").err
    assert len([line for line in err.splitlines() if ": f1 " in line]) == 2
    options = json.loads((out / "metrics.json").read_text())["options"]
    assert options["early_stopping"] == 1 and options["eval_every"] == "1"


def test_keep_best_loads_the_best_checkpoint_at_the_end(tmp_path, tiny_base, ner_data, monkeypatch):
    import transformers

    seen = {}
    real_train = transformers.Trainer.train

    def spy(self, *args, **kwargs):
        result = real_train(self, *args, **kwargs)
        seen["best"] = self.state.best_model_checkpoint
        seen["args"] = self.args
        return result

    monkeypatch.setattr(transformers.Trainer, "train", spy)
    from tests.conftest import run_train

    run_train("ner", tiny_base, ner_data, tmp_path / "ner", "--max_steps", 4, "--eval_every", "2",
              "--keep_best", True)
    assert seen["args"].load_best_model_at_end and seen["args"].metric_for_best_model == "f1"
    assert seen["best"] is not None and "checkpoint-" in seen["best"]


def test_bad_training_options_are_named_at_once(capsys, tiny_base, ner_data):
    err = cli_error(capsys, "train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data),
                    "--eval-every", "sometimes", "--early-stopping", "0")
    assert "--eval-every must be 'epoch'" in err and "--early-stopping must be at least 1" in err
    err = cli_error(capsys, "train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data),
                    "--eval-every", "no", "--keep-best")
    assert "leave out --eval-every no" in err


def test_report_to_an_integration_that_is_not_installed_names_the_fix(capsys, tmp_path, tiny_base, ner_data,
                                                                      monkeypatch):
    from transformers import integrations

    monkeypatch.setattr(integrations, "get_available_reporting_integrations", lambda: ["tensorboard"])
    err = cli_error(capsys, "train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data),
                    "--output-dir", str(tmp_path / "o"), "--max-steps", "1", "--report-to", "wandb")
    assert "--report-to wandb: not installed here (pip install wandb)" in err and "installed: tensorboard" in err


def test_report_to_passes_trainer_the_installed_integrations(monkeypatch):
    from transformers import integrations

    from toolkit.train.prepare import report_integrations

    monkeypatch.setattr(integrations, "get_available_reporting_integrations", lambda: ["tensorboard", "mlflow"])
    assert report_integrations(["none"]) == ["none"]
    assert report_integrations(["tensorboard"]) == ["tensorboard"]
    assert report_integrations(["all"]) == ["tensorboard", "mlflow"]


def test_evaluating_during_training_trains_the_same_model(tmp_path, tiny_base, ner_data):
    """Evaluation draws from the global random generators (its data loader); without putting them
    back, every later dropout mask moves and the run trains another model."""
    from safetensors.numpy import load_file

    from tests.conftest import run_train

    weights = {}
    for every in ("2", "no"):
        run_train("ner", tiny_base, ner_data, tmp_path / every, "--max_steps", 6, "--eval_every", every)
        weights[every] = load_file(str(tmp_path / every / "model.safetensors"))
    assert weights["2"].keys() == weights["no"].keys()
    assert all((weights["2"][k] == weights["no"][k]).all() for k in weights["2"])
