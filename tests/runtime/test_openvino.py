"""The runtime's engine="openvino": the bundle's own file run by OpenVINO answers as ONNX Runtime does."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from toolkit.errors import OptionError
from toolkit.runtime import load
from toolkit.runtime.windows import make_windows, pad_batch, tokenize

TEXTS = ["Angela Merkel met John Smith in Paris on Monday .",
         "Shares of Barclays fell 3 percent after Maria Garcia resigned .",
         "Café Müller in Nairobi 🎉 said Greenpeace .", ""]


@pytest.mark.e2e
@pytest.mark.parametrize("variant", ["fp32", "int8-static"])
def test_openvino_engine_answers_as_onnx_runtime(full_ner_bundle, variant):
    pytest.importorskip("openvino")
    ours = load(full_ner_bundle, variant=variant, engine="openvino", threads=1, aggregation="simple")
    reference = load(full_ner_bundle, variant=variant, threads=1, aggregation="simple")
    assert ours.session.get_providers() == ["openvino-CPU"]
    windows = make_windows(tokenize(ours.tokenizer, TEXTS[:3]), ours.max_length, 16, ours.prefix, ours.suffix)
    batch = pad_batch(windows, ours.input_names, ours.pad_id)
    logits, expected = ours.session.run(["logits"], batch)[0], reference.session.run(["logits"], batch)[0]
    assert logits.shape == expected.shape == (3, batch["input_ids"].shape[1], len(ours.labels))
    # fp32 is the same arithmetic; OpenVINO's int8 kernels round activations their own way
    assert np.abs(logits - expected).max() < (1e-4 if variant == "fp32" else 0.5)
    answers, expected_answers = ours(TEXTS), reference(TEXTS)
    if variant == "fp32":
        assert [[(e["entity"], e["start"], e["end"]) for e in a] for a in answers] == [
            [(e["entity"], e["start"], e["end"]) for e in a] for a in expected_answers]
        assert sum(map(len, answers)) > 0  # real entities were compared
    assert answers[-1] == []


def test_openvino_engine_serves_sentiment(sentiment_bundle):
    pytest.importorskip("openvino")
    ours = load(sentiment_bundle, variant="fp32", engine="openvino")
    reference = load(sentiment_bundle, variant="fp32")
    texts = ["a wonderful, moving film", "dull and far too long " * 60]  # the second is windowed
    for a, b in zip(ours(texts), reference(texts)):
        assert a["label"] == b["label"]
        assert a["scores"] == pytest.approx(b["scores"], abs=1e-5)


def test_openvino_engine_refuses_what_it_cannot_do(ner_bundle):
    with pytest.raises(OptionError, match="engine='tensorrt' is not allowed"):
        load(ner_bundle, engine="tensorrt")
    with pytest.raises(OptionError, match="engine='openvino' runs on the CPU"):
        load(ner_bundle, engine="openvino", device="cuda")
    with pytest.raises(OptionError, match="engine='openvino' runs on the CPU"):
        load(ner_bundle, engine="openvino", io_binding=True)


def test_openvino_missing_is_one_clear_line(ner_bundle):
    code = textwrap.dedent(f"""
        import sys
        sys.modules["openvino"] = None  # as if the [openvino] extra were not installed
        from toolkit.runtime import OptionError, load
        try:
            load({str(ner_bundle)!r}, engine="openvino")
        except OptionError as error:
            print(error)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "pip install 'onnxbert-toolkit[openvino]'" in run.stdout and "engine='onnxruntime'" in run.stdout


def test_predict_command_takes_the_engine(ner_bundle, capsys, monkeypatch):
    pytest.importorskip("openvino")
    from tests.conftest import cli_error
    from toolkit.cli import main
    from toolkit.runtime.openvino import OpenVinoSession

    calls = []
    run = OpenVinoSession.run
    monkeypatch.setattr(OpenVinoSession, "run", lambda self, *args: calls.append(1) or run(self, *args))
    text = "Angela Merkel met John Smith in Paris on Monday ."
    answers = {}
    for engine in ("onnxruntime", "openvino"):
        main(["predict", str(ner_bundle), "--variant", "fp32", "--engine", engine, text])
        answers[engine] = json.loads(capsys.readouterr().out)
        assert bool(calls) == (engine == "openvino")  # OpenVINO answered exactly when asked to
    assert answers["openvino"]  # entities were found, and they are ONNX Runtime's
    assert [(e["entity"], e["start"], e["end"]) for e in answers["openvino"]] == [
        (e["entity"], e["start"], e["end"]) for e in answers["onnxruntime"]]
    assert [e["score"] for e in answers["openvino"]] == pytest.approx([e["score"] for e in answers["onnxruntime"]],
                                                                    abs=1e-5)
    error = cli_error(capsys, "predict", str(ner_bundle), "--engine", "openvino", "--input", "x.jsonl",
                      "--output", "y.jsonl")
    assert "--engine apply to texts given directly" in error


def test_the_service_runs_on_openvino_when_asked(ner_bundle, capsys):
    pytest.importorskip("openvino")
    from fastapi.testclient import TestClient

    from tests.conftest import cli_error
    from toolkit.serve.app import create_app

    body = {"texts": TEXTS}
    answers = {}
    for engine in ("onnxruntime", "openvino"):
        with TestClient(create_app(ner_bundle, variant="fp32", engine=engine)) as client:
            serving = client.get("/v1/metadata").json()["serving"]
            assert serving["engine"] == engine
            assert serving["providers"][0] == ("openvino-CPU" if engine == "openvino" else "CPUExecutionProvider")
            answers[engine] = client.post("/v1/predict", json=body).json()["answers"]
    assert sum(map(len, answers["openvino"])) > 0
    assert [[(e["entity"], e["start"], e["end"]) for e in a] for a in answers["openvino"]] == [
        [(e["entity"], e["start"], e["end"]) for e in a] for a in answers["onnxruntime"]]
    error = cli_error(capsys, "serve", str(ner_bundle), "--engine", "openvino", "--ray")
    assert "--engine openvino serves from this process only" in error


def test_threads_share_one_openvino_predictor(ner_bundle):
    pytest.importorskip("openvino")
    from concurrent.futures import ThreadPoolExecutor

    predictor = load(ner_bundle, variant="fp32", engine="openvino")
    texts = [TEXTS[i % 3] + " " + "x" * (i % 5) for i in range(24)]
    alone = [predictor(t) for t in texts]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(predictor, texts))
    assert together == alone and sum(map(len, alone)) > 0
    assert predictor.session._requests.request is not None  # this thread kept its infer request
