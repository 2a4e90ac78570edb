"""int8-dynamic answers a text the same whether it runs alone, in a batch of 32, or beside other
neighbours: its activations are quantized with one scale per token (toolkit/export/per_token.py)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from toolkit.export.per_token import correction_rows
from toolkit.runtime import load

TEXTS = ["Angela Merkel met Emmanuel Macron in Paris.", "Hi.", "Greenpeace said on Tuesday it would go to Nairobi.",
         "The film was great.", "Merkel", "Emmanuel Macron and Angela Merkel met Greenpeace in Nairobi and Paris "
         "on Tuesday, then again in Paris on Thursday with the European Commission."] * 6


def answers_three_ways(predictor, texts):
    order = list(range(len(texts)))
    random.Random(0).shuffle(order)
    alone = [predictor.predict([text], batch_size=1)[0] for text in texts]
    together = predictor.predict(texts, batch_size=32)
    shuffled = [None] * len(texts)
    for start in range(0, len(order), 5):  # batches of 5 with other neighbours and other padding
        chunk = order[start:start + 5]
        for i, answer in zip(chunk, predictor.predict([texts[i] for i in chunk], batch_size=5)):
            shuffled[i] = answer
    return alone, together, shuffled


def spans(answer):
    return [(e["entity"], e["start"], e["end"]) for e in answer]


def test_int8_dynamic_answers_a_text_alike_in_any_batch(ner_bundle):
    predictor = load(ner_bundle, variant="int8-dynamic")
    assert predictor.bundle.variants["int8-dynamic"].recipe["batch_invariant"] is True
    alone, together, shuffled = answers_three_ways(predictor, TEXTS)
    assert any(alone), "the tiny model answers some entities, so the comparison means something"
    for a, b, c in zip(alone, together, shuffled):
        assert spans(a) == spans(b) == spans(c)
        for x, y, z in zip(a, b, c):
            assert abs(x["score"] - y["score"]) <= 1e-4 and abs(x["score"] - z["score"]) <= 1e-4


def test_sentiment_int8_dynamic_is_batch_invariant_too(sentiment_bundle):
    predictor = load(sentiment_bundle, variant="int8-dynamic")
    alone, together, shuffled = answers_three_ways(predictor, TEXTS)
    for a, b, c in zip(alone, together, shuffled):
        assert a["label"] == b["label"] == c["label"]
        assert max(abs(a["scores"][k] - b["scores"][k]) for k in a["scores"]) <= 1e-4
        assert max(abs(a["scores"][k] - c["scores"][k]) for k in a["scores"]) <= 1e-4


def test_per_tensor_activations_would_move_with_the_batch(ner_bundle, tmp_path):
    """The control: ONNX Runtime's own dynamic recipe (one scale per tensor) on the same fp32 graph
    gives a short sentence other logits beside a long one, which the check above would catch."""
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    per_tensor = tmp_path / "per_tensor.onnx"
    quantize_dynamic(str(ner_bundle / "model.onnx"), str(per_tensor), op_types_to_quantize=["MatMul"],
                     per_channel=True, reduce_range=True, weight_type=QuantType.QInt8)
    per_token = ner_bundle / "model_int8_dynamic.onnx"
    predictor = load(ner_bundle, variant="fp32")
    short, long = (predictor.tokenizer.encode(t).ids[:48] for t in (TEXTS[1], TEXTS[5]))  # within 64 positions

    def logits_of_short(path, with_neighbour: bool):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        rows = [short, long] if with_neighbour else [short]
        width = max(map(len, rows))
        ids = np.array([r + [0] * (width - len(r)) for r in rows], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": (np.arange(width) < np.array([[len(r)] for r in rows])).astype(
            np.int64), "token_type_ids": np.zeros_like(ids)}
        feeds = {i.name: feeds[i.name] for i in session.get_inputs()}
        return session.run(None, feeds)[0][0, :len(short)]

    moved = np.abs(logits_of_short(per_tensor, True) - logits_of_short(per_tensor, False)).max()
    kept = np.abs(logits_of_short(per_token, True) - logits_of_short(per_token, False)).max()
    assert moved > 1e-3 and kept <= 1e-5


@pytest.mark.parametrize("limit", [63, 127])
def test_correction_rows_cancel_the_column_sums_within_the_kernel_limit(limit):
    weights = np.random.default_rng(0).integers(-limit, limit + 1, size=(384, 12)).astype(np.int8)
    rows = correction_rows(weights, limit)
    assert np.abs(rows.astype(int)).max() <= limit
    assert (rows.astype(np.int64).sum(0) == -weights.astype(np.int64).sum(0)).all()


def test_per_token_int8_loads_at_the_lowest_opset_export_takes(ner_checkpoint, tmp_path):
    """The rewrite's operators exist at every --opset export accepts (Shape's `end` would need 15)."""
    from tests.conftest import export_bundle
    from toolkit.config import OPSETS

    bundle = export_bundle(ner_checkpoint, tmp_path / "b", variants=["int8-dynamic"], opset=OPSETS[0])
    predictor = load(bundle, variant="int8-dynamic")
    alone, together, _ = answers_three_ways(predictor, TEXTS[:6])
    assert [spans(a) for a in alone] == [spans(b) for b in together]
