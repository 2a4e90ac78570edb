import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from toolkit.errors import BundleError
from toolkit.runtime import load
from toolkit.runtime.windows import make_windows, merge_token_scores, tokenize

TRICKY = [
    "Angela  Merkel\tmet John Smith in   Paris .",
    "Café Müller in Nairobi 🎉 said Greenpeace .",
    "  Reuters , Toyota and Siemens  ",
    "日本 Tokyo — Olga Petrova ✓",
    "",
]


def test_import_works_with_torch_transformers_and_datasets_blocked(ner_bundle):
    code = textwrap.dedent(f"""
        import sys
        for name in ("torch", "transformers", "optimum", "datasets"):
            sys.modules[name] = None
        from toolkit.runtime import load
        ner = load({str(ner_bundle)!r})
        print(len(ner(["Angela Merkel met John Smith in Paris ."])))
        assert not any(m.split(".")[0] in ("torch", "transformers", "optimum", "datasets")
                       for m, v in sys.modules.items() if v is not None)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "1"


def test_offsets_point_into_the_original_text(ner_bundle):
    ner = load(ner_bundle, variant="fp32")
    for text, entities in zip(TRICKY, ner(TRICKY)):
        for entity in entities:
            assert text[entity["start"]:entity["end"]] == entity["text"]
            assert entity["text"] == entity["text"].strip() and entity["text"]


@pytest.mark.parametrize("strategy", ["simple", "first", "average", "max"])
def test_answers_equal_the_transformers_pipeline(ner_bundle, ner_checkpoint, strategy):
    from transformers import pipeline

    reference = pipeline("token-classification", model=str(ner_checkpoint), aggregation_strategy=strategy)
    ner = load(ner_bundle, variant="fp32", aggregation=strategy, decoding="argmax")
    texts = TRICKY[:4] + ["Angela Merkel met John Smith in Paris on Monday .",
                          "Shares of Barclays fell 3 percent after Maria Garcia resigned ."]
    found = 0
    for text, ours in zip(texts, ner(texts)):
        theirs = reference(text)
        assert [(e["entity"], e["start"], e["end"]) for e in ours] == [
            (e["entity_group"], e["start"], e["end"]) for e in theirs]
        assert [e["score"] for e in ours] == pytest.approx([float(e["score"]) for e in theirs], abs=1e-4)
        found += len(ours)
    assert found > 0  # the comparison covered real entities


def test_long_text_is_windowed_and_every_token_covered_once(ner_bundle):
    ner = load(ner_bundle, variant="fp32", stride=8)
    max_length = ner.max_length
    sentence = "Angela Merkel met John Smith in Paris on Monday . "
    text = sentence * (3 * max_length // 10 + 1)
    tokenized = tokenize(ner.tokenizer, [text])
    assert len(tokenized[0].ids) > 3 * max_length
    windows = make_windows(tokenized, max_length, 8, ner.prefix, ner.suffix)
    assert len(windows) >= 4 and all(len(w.input_ids) <= max_length for w in windows)
    covered = sorted({w.first_token + i for w in windows for i in range(w.content.stop - w.content.start)})
    assert covered == list(range(len(tokenized[0].ids)))
    entities = ner(text)
    assert entities and entities[-1]["end"] > len(text) - len(sentence)  # nothing truncated
    starts = [e["start"] for e in entities]
    assert starts == sorted(set(starts))  # no character answered twice
    # each repeat of the sentence far from window edges is answered as the short sentence is
    short = [(e["entity"], e["text"]) for e in ner(sentence)]
    assert [(e["entity"], e["text"]) for e in entities[: len(short)]] == short


def test_merge_prefers_the_window_with_more_context():
    import numpy as np

    windows = [SimpleNamespace(first_token=0, content=slice(1, 5)), SimpleNamespace(first_token=2, content=slice(1, 5))]
    first, second = np.zeros((6, 1)), np.zeros((6, 1))
    first[1:5, 0], second[1:5, 0] = 1, 2
    merged = merge_token_scores(6, windows, [first, second])
    # token 2 is at offset 2 of window one (margin 1) and offset 0 of window two (margin 0)
    assert merged[:, 0].tolist() == [1, 1, 1, 2, 2, 2]


def test_sentiment_long_text_averages_windows(sentiment_bundle):
    sentiment = load(sentiment_bundle, variant="fp32", stride=4)
    answer = sentiment("great film " * 200)
    assert set(answer) == {"label", "score", "scores"} and answer["label"] in ("neg", "pos")
    assert sum(answer["scores"].values()) == pytest.approx(1.0)
    assert sentiment("")["label"] is None  # nothing to read: no answer (tests/runtime/test_empty_texts.py)


def test_one_predictor_shared_by_threads_answers_as_alone(ner_bundle):
    # answers are compared batch for batch too, though int8-dynamic answers alike in any batch
    ner = load(ner_bundle, variant="int8-dynamic")
    texts = TRICKY * 10
    chunks = [texts[i:i + 7] for i in range(0, len(texts), 7)]
    expected = [ner(t) for t in texts]
    expected_batches = [ner(chunk, batch_size=3) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda t: ner(t), texts))
        batches = list(pool.map(lambda chunk: ner(chunk, batch_size=3), chunks))
    assert answers == expected
    assert batches == expected_batches


def test_empty_string_and_bad_items(ner_bundle):
    ner = load(ner_bundle)
    assert ner("") == [] and ner([]) == []
    with pytest.raises(TypeError, match="item 1 is NoneType"):
        ner(["fine", None])
    with pytest.raises(TypeError, match="item 0 is int"):
        ner([3])
    with pytest.raises(TypeError, match="found NoneType"):
        ner(None)


def test_tampered_model_is_refused_unless_verification_is_off(tmp_path, ner_bundle):
    bundle = tmp_path / "b"
    shutil.copytree(ner_bundle, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["variants"]["fp32"]["sha256"] = "0" * 64
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="does not match the manifest"):
        load(bundle, variant="fp32")
    assert load(bundle, variant="fp32", verify=False)("Paris") is not None
    model = bundle / manifest["variants"]["optimized"]["file"]
    model.write_bytes(model.read_bytes()[:-1000])  # truncated
    with pytest.raises(BundleError, match="altered or truncated"):
        load(bundle, variant="optimized")


def test_missing_files_and_unknown_format(tmp_path, ner_bundle):
    bundle = tmp_path / "b"
    shutil.copytree(ner_bundle, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    default = manifest["default_variant"]
    (bundle / manifest["variants"][default]["file"]).unlink()
    with pytest.raises(BundleError, match=f"of variant '{default}' is missing"):
        load(bundle)
    (bundle / "tokenizer.json").unlink()
    with pytest.raises(BundleError, match="tokenizer file tokenizer.json named in the manifest is missing"):
        load(bundle, variant="fp32")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["format_version"] = 99
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="format_version 99 is not supported"):
        load(bundle)
    with pytest.raises(BundleError, match="not a bundle"):
        load(tmp_path)


def test_predict_command_with_arguments(ner_bundle, sentiment_bundle):
    run = subprocess.run([sys.executable, "-m", "toolkit", "predict", str(sentiment_bundle), "great film", "bad"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(answers) == 2 and all(a["label"] in ("neg", "pos") for a in answers)


def test_runtime_imports_nothing_outside_itself():
    import ast

    import toolkit.runtime

    for path in Path(toolkit.runtime.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith("toolkit") or name.startswith("toolkit.runtime"), f"{path.name}: {name}"


def test_a_copy_of_runtime_alone_answers(tmp_path, ner_bundle):
    """What the README tells app authors: copy toolkit/runtime/ into the app, nothing else."""
    import shutil

    import toolkit.runtime

    app = tmp_path / "app"
    shutil.copytree(Path(toolkit.runtime.__file__).parent, app / "toolkit" / "runtime")
    (app / "toolkit" / "__init__.py").write_text("")
    code = textwrap.dedent(f"""
        import sys
        for name in ("torch", "transformers", "optimum", "datasets"):
            sys.modules[name] = None
        import toolkit.runtime
        assert toolkit.runtime.__file__.startswith({str(app)!r}), toolkit.runtime.__file__
        print(len(toolkit.runtime.load({str(ner_bundle)!r})(["Angela Merkel met John Smith in Paris ."])))
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=app,
                         env={"PYTHONPATH": str(app), "PATH": os.environ.get("PATH", "")})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "1"


def test_token_probabilities_of_all_texts_at_once_equal_each_alone():
    from toolkit.runtime.entities import softmax
    from toolkit.runtime.predict import keep_path, token_probabilities

    rng = np.random.default_rng(0)
    merged = [rng.normal(size=(n, 5)).astype(np.float32) for n in (3, 0, 1, 7)]
    merged[1] = np.zeros((0, 0), dtype=np.float32)  # an empty text, as merge_token_scores gives it
    paths = [rng.integers(0, 5, size=len(m)) for m in merged]
    for chosen in (None, paths):
        together = token_probabilities(merged, chosen)
        assert [t.shape for t in together] == [m.shape for m in merged]
        for index, (logits, result) in enumerate(zip(merged, together)):
            if len(logits):
                alone = softmax(logits) if chosen is None else keep_path(softmax(logits), chosen[index])
                np.testing.assert_allclose(result, alone, rtol=1e-6)
    assert token_probabilities([np.zeros((0, 0))], None)[0].shape == (0, 0)
