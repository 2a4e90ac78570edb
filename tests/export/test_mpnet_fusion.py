"""MPNet's attention in the optimized variant (toolkit/export/fusion_mpnet.py): one fused Attention op per
layer with the relative position bias as its attention_bias, and logits within --atol of PyTorch."""

import json

import numpy as np
import onnx
import pytest

from tests.conftest import export_bundle, run_train
from toolkit.testing.architectures import build_base_model

ATOL = 1e-4  # export's default --atol, which fp32 and optimized must keep
TEXTS = ["Angela Merkel met Emmanuel Macron in Paris .", "Hi .", "The European Commission said on Thursday it "
         "disagreed with German advice to consumers ."]


@pytest.fixture(scope="module")
def mpnet(ner_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("mpnet")
    base = build_base_model("mpnet", root / "base")
    run_train("ner", base, ner_data, root / "checkpoint")
    return root / "checkpoint", export_bundle(root / "checkpoint", root / "bundle", quantize=True)


def attention_nodes(path):
    return [node for node in onnx.load(str(path)).graph.node if node.op_type == "Attention"]


def test_every_layer_is_one_attention_op_with_the_position_bias(mpnet):
    _, bundle = mpnet
    manifest = json.loads((bundle / "manifest.json").read_text())
    layers = json.loads((bundle / "config.json").read_text())["num_hidden_layers"]
    graph = onnx.load(str(bundle / "model_optimized.onnx")).graph
    fused = attention_nodes(bundle / "model_optimized.onnx")
    assert len(fused) == layers == manifest["variants"]["optimized"]["recipe"]["fused_operators"].get("Attention")
    # input 5 is attention_bias: every layer adds the one bias the encoder computes from its buckets
    biases = {node.input[5] if len(node.input) > 5 else "" for node in fused}
    assert len(biases) == 1 and biases != {""}
    assert any(biases <= set(node.output) for node in graph.node)
    assert not [node for node in graph.node if node.op_type == "Softmax"]
    assert manifest["variants"]["optimized"]["parity"]["max_abs_diff"] <= ATOL


def test_the_fused_graph_answers_as_pytorch_on_a_padded_batch(mpnet):
    import onnxruntime
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    checkpoint, bundle = mpnet
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    encoded = tokenizer(TEXTS, padding=True, return_tensors="np")
    with torch.no_grad():
        model = AutoModelForTokenClassification.from_pretrained(checkpoint).eval()
        expected = model(**{k: torch.from_numpy(v) for k, v in encoded.items()}).logits.numpy()
    session = onnxruntime.InferenceSession(str(bundle / "model_optimized.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {i.name: encoded[i.name] for i in session.get_inputs()})[0]
    real = encoded["attention_mask"].astype(bool)
    assert real.sum(1).min() < real.shape[1]  # the batch has padding: the mask reaches the fused op
    assert np.abs(got - expected)[real].max() <= ATOL


def test_int8_dynamic_still_comes_from_the_plain_graph(mpnet):
    _, bundle = mpnet
    int8 = json.loads((bundle / "manifest.json").read_text())["variants"]["int8-dynamic"]
    assert int8["recipe"]["source"] == "fp32" and int8["parity"]["label_agreement"] >= 0.9
    assert not attention_nodes(bundle / int8["file"])


def test_fp16_keeps_the_fused_attention(mpnet, tmp_path):
    """Export checks fp16 on CUDA only; here its graph is made from the optimized one and run on the CPU."""
    import onnxruntime

    from toolkit.export.variants import convert_fp16

    _, bundle = mpnet
    convert_fp16(None, bundle / "model_optimized.onnx", tmp_path / "fp16.onnx")
    layers = json.loads((bundle / "config.json").read_text())["num_hidden_layers"]
    assert len(attention_nodes(tmp_path / "fp16.onnx")) == layers
    feeds = {"input_ids": np.array([[0, 40, 41, 42, 2], [0, 43, 2, 1, 1]]),
             "attention_mask": np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])}
    half, full = (onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
                  for path in (tmp_path / "fp16.onnx", bundle / "model.onnx"))
    real = feeds["attention_mask"].astype(bool)
    assert np.abs(half - full)[real].max() < 1e-2
