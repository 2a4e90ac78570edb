"""`toolkit train --teacher`: a tiny BERT teacher (WordPiece) distilled into a tiny RoBERTa student (byte BPE)."""

import json
import shutil

import numpy as np
import pytest

from tests.conftest import cli_error, run_train
from toolkit.train import distill


@pytest.fixture(scope="module")
def roberta_base(tmp_path_factory):
    from toolkit.testing.architectures import build_base_model

    return build_base_model("roberta", tmp_path_factory.mktemp("roberta-base"))


@pytest.fixture
def teacher_runs(monkeypatch):
    """Count the teacher's passes over a set of texts (each one a forward over all of them)."""
    calls = []
    compute = distill.compute_teacher_outputs

    def counted(teacher, task, texts):
        calls.append(len(texts))
        return compute(teacher, task, texts)

    monkeypatch.setattr(distill, "compute_teacher_outputs", counted)
    return calls


def test_word_targets_go_to_the_students_first_piece_of_the_same_word(tokenizer_dir, roberta_base):
    from toolkit.modeling import load_tokenizer

    words = ["Merkel", "visited", "Nairobi", "with", "Greenpeace", "."]
    teacher = load_tokenizer(roberta_base, word_input=True)(words, is_split_into_words=True)
    student = load_tokenizer(tokenizer_dir, word_input=True)(words, is_split_into_words=True)
    teacher_first = distill.first_pieces(teacher.word_ids())
    student_first = distill.first_pieces(student.word_ids())
    assert teacher_first != student_first  # the two tokenizers split these words differently
    # The teacher's answer for word w, read at the teacher's first piece of w: a distribution that names w.
    word_outputs = np.stack([np.eye(len(words), dtype=np.float32)[w] for w in sorted(teacher_first)])
    targets, mask = distill.align_word_targets(word_outputs, student.word_ids())
    assert mask.sum() == len(words)
    for word, position in student_first.items():
        assert mask[position] == 1 and targets[position].argmax() == word
    continuation = [p for p, w in enumerate(student.word_ids()) if w is not None and student_first[w] != p]
    assert continuation and not mask[continuation].any()


def test_a_word_the_teacher_did_not_read_has_no_target():
    outputs = np.array([[1.0, 0.0], [np.nan, np.nan]], dtype=np.float32)
    targets, mask = distill.align_word_targets(outputs, [None, 0, 1, 1, None])
    assert mask.tolist() == [0, 1, 0, 0, 0] and targets[1].tolist() == [1.0, 0.0]


def test_loss_mixes_gold_and_teacher_and_survives_unlabelled_batches():
    import torch
    import torch.nn.functional as F

    from toolkit.train.distill_loss import distillation_loss

    logits, teacher = torch.tensor([[2.0, -1.0], [0.5, 0.3]]), torch.tensor([[-1.0, 2.0], [0.0, 1.0]])
    labels, mask = torch.tensor([0, 1]), torch.ones(2)
    gold_only = distillation_loss(logits, labels, teacher, mask, temperature=2.0, distill_weight=0.0)
    assert torch.isclose(gold_only, F.cross_entropy(logits, labels))
    soft_only = distillation_loss(logits, labels, teacher, mask, temperature=2.0, distill_weight=1.0)
    expected = F.kl_div(F.log_softmax(logits / 2, -1), F.softmax(teacher / 2, -1), reduction="batchmean") * 4
    assert torch.isclose(soft_only, expected)
    unlabelled = distillation_loss(logits, torch.tensor([-100, -100]), teacher, mask, 2.0, 0.5)
    assert torch.isfinite(unlabelled) and torch.isclose(unlabelled, 0.5 * expected)


def test_ner_student_with_another_tokenizer_learns_from_the_teacher_once(tmp_path, roberta_base, ner_checkpoint,
                                                                          ner_data, teacher_runs, caplog):
    options = ("--teacher", ner_checkpoint, "--train_size", "100", "--unlabeled_size", "20", "--temperature", 3.0)
    with caplog.at_level("INFO", logger="toolkit.train.fit"):
        run_train("ner", roberta_base, ner_data, tmp_path / "student", *options)
    assert "rows: 100 train + 20 unlabelled (the teacher's answers alone) from" in caplog.text
    assert teacher_runs == [100, 20]  # labelled rows, unlabelled rows: once each
    record = json.loads((tmp_path / "student" / "metrics.json").read_text())["distillation"]
    assert record["teacher"]["model_type"] == "bert" and record["teacher"]["task"] == "ner"
    assert record["teacher"]["path"] == str(ner_checkpoint.resolve())
    # The teacher's score is the student's metric (sub-word F1), on the same rows as its own evaluation.
    assert record["teacher"]["score"]["f1"] == pytest.approx(
        json.loads((ner_checkpoint / "metrics.json").read_text())["f1"])
    assert record["temperature"] == 3.0 and record["distill_weight"] == 0.5 and record["unlabeled_rows"] == 20
    run_train("ner", roberta_base, ner_data, tmp_path / "again", *options)
    assert teacher_runs == [100, 20]  # the second run read the training rows' answers from the cache


def test_sentiment_student_distils_and_records_the_teacher(tmp_path, roberta_base, sentiment_checkpoint,
                                                            sentiment_data, teacher_runs):
    run_train("sentiment", roberta_base, sentiment_data, tmp_path / "student", "--teacher", sentiment_checkpoint,
              "--train_size", "50", "--unlabeled_size", "all", "--distill_weight", 0.7)
    metrics = json.loads((tmp_path / "student" / "metrics.json").read_text())
    record = metrics["distillation"]
    assert teacher_runs == [50, 10, 20]
    assert record["unlabeled_rows"] == 10 and record["distill_weight"] == 0.7
    assert record["teacher"]["score"]["accuracy"] == pytest.approx(
        json.loads((sentiment_checkpoint / "metrics.json").read_text())["accuracy"])  # the same evaluation rows
    assert metrics["options"]["teacher"] == str(sentiment_checkpoint)


def test_teacher_of_another_task_is_refused_in_one_line(capsys, tmp_path, tiny_base, ner_data, sentiment_checkpoint):
    error = cli_error(capsys, "train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data),
                      "--teacher", str(sentiment_checkpoint), "--output-dir", str(tmp_path / "out"))
    assert "is a sentiment model but the student learns ner" in error


def test_teacher_with_other_labels_is_refused_naming_both(capsys, tmp_path, tiny_base, ner_data, ner_checkpoint):
    teacher = tmp_path / "teacher"
    shutil.copytree(ner_checkpoint, teacher)
    config = json.loads((teacher / "config.json").read_text())
    config["id2label"] = {k: v.replace("MISC", "EVENT") for k, v in config["id2label"].items()}
    config["label2id"] = {k.replace("MISC", "EVENT"): v for k, v in config["label2id"].items()}
    (teacher / "config.json").write_text(json.dumps(config))
    error = cli_error(capsys, "train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data),
                      "--teacher", str(teacher), "--output-dir", str(tmp_path / "out"), "--train-size", "all",
                      "--eval-size", "all")
    assert "'B-EVENT'" in error and "'B-MISC'" in error and "same labels" in error


def test_bundle_or_missing_teacher_is_refused_in_one_line(capsys, tmp_path, tiny_base, ner_data, ner_bundle):
    common = ("train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data), "--output-dir", str(tmp_path / "out"))
    assert "is an exported bundle" in cli_error(capsys, *common, "--teacher", str(ner_bundle))
    assert "no such directory" in cli_error(capsys, *common, "--teacher", str(tmp_path / "gone"))


def test_unlabelled_rows_need_a_teacher(capsys, tiny_base, ner_data):
    error = cli_error(capsys, "train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data),
                      "--unlabeled-size", "10")
    assert "pass --teacher CHECKPOINT" in error
