"""Mean-pooled classification: trained, exported and served as mean pooling, never silently as [CLS]."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from tests.conftest import cli_error, export_bundle, run_train

TEXTS = ["great film", "a boring movie , a bad film and a boring bad movie"]  # different lengths: padding


def plain_transformers_logits(checkpoint, expected):
    """transformers alone, in a fresh process without the toolkit: it refuses the checkpoint, or
    with trust_remote_code=True loads it as trained (never silently as a [CLS] classifier)."""
    code = textwrap.dedent(f"""
        import sys, json
        sys.modules["toolkit"] = None
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        try:
            AutoModelForSequenceClassification.from_pretrained({str(checkpoint)!r})
            print("loaded without trust_remote_code")
            sys.exit(1)
        except ValueError as error:
            assert "trust_remote_code" in str(error), error
        model = AutoModelForSequenceClassification.from_pretrained({str(checkpoint)!r}, trust_remote_code=True)
        tokenizer = AutoTokenizer.from_pretrained({str(checkpoint)!r})
        with torch.no_grad():
            logits = model.eval()(**tokenizer({TEXTS!r}, padding=True, return_tensors="pt")).logits
        print("LOGITS", json.dumps(logits.tolist()))
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=checkpoint.parent,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    printed = run.stdout.rpartition("LOGITS ")[2]  # after transformers' prompt, which ends without a newline
    np.testing.assert_allclose(np.asarray(json.loads(printed)), expected, atol=1e-5)


@pytest.mark.e2e
def test_mean_pooling_survives_training_export_and_runtime(tmp_path, tiny_base, sentiment_data):
    import onnxruntime as ort
    from transformers import AutoTokenizer

    from toolkit.modeling import load_model
    from toolkit.runtime import load

    checkpoint = tmp_path / "checkpoint"
    run_train("sentiment", tiny_base, sentiment_data, checkpoint, "--max_steps", 20, "--learning_rate", 5e-3,
              "--pooling", "mean")
    assert json.loads((checkpoint / "config.json").read_text())["toolkit_pooling"] == "mean"
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    encoded = tokenizer(TEXTS, padding=True, return_tensors="pt")
    model = load_model(checkpoint, "AutoModelForSequenceClassification").eval()
    with torch.no_grad():
        logits = model(**encoded).logits.numpy()
        hidden = model.bert(**encoded).last_hidden_state
        mask = encoded["attention_mask"].unsqueeze(-1).float()
        by_hand = model.classifier((hidden * mask).sum(1) / mask.sum(1)).numpy()
    np.testing.assert_allclose(logits, by_hand, atol=1e-5)
    plain_transformers_logits(checkpoint, logits)

    bundle = export_bundle(checkpoint, tmp_path / "bundle")
    session = ort.InferenceSession(str(bundle / "model.onnx"), providers=["CPUExecutionProvider"])
    onnx_logits = session.run(None, {k: v.numpy() for k, v in encoded.items()})[0]
    np.testing.assert_allclose(onnx_logits, logits, atol=1e-4)
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["variants"]["fp32"]["parity"]["max_abs_diff"] <= 1e-4
    answers = load(bundle).predict(TEXTS)
    assert [a["label"] for a in answers] == [model.config.id2label[i] for i in logits.argmax(-1)]


def test_pooling_is_refused_for_token_tasks(capsys, tmp_path, tiny_base, ner_data):
    from toolkit.errors import ToolkitError

    with pytest.raises(ToolkitError, match="--pooling mean is for sentence classification"):
        run_train("ner", tiny_base, ner_data, tmp_path / "out", "--pooling", "mean", "--max_steps", 1)
    err = cli_error(capsys, "train", "ner", "--model", str(tiny_base), "--dataset", str(ner_data),
                    "--output-dir", str(tmp_path / "out"), "--pooling", "mean", "--max-steps", "1")
    assert "--pooling is an option of the sentiment task, not of ner" in err


def test_augmentation_is_refused_for_sentiment(capsys, tmp_path, tiny_base, sentiment_data):
    from toolkit.errors import ToolkitError

    with pytest.raises(ToolkitError, match="for NER only"):
        run_train("sentiment", tiny_base, sentiment_data, tmp_path / "out", "--augment_copies", 1, "--max_steps", 1)
    err = cli_error(capsys, "train", "sentiment", "--model", str(tiny_base), "--dataset", str(sentiment_data),
                    "--output-dir", str(tmp_path / "out"), "--augment-copies", "1", "--max-steps", "1")
    assert "--augment-copies is an option of the ner task, not of sentiment" in err
