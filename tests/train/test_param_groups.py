"""Layer-wise learning-rate decay and the head's multiplier."""

import pytest

import toolkit.train.param_groups

from tests.conftest import run_train, tiny_config


def rates_by_parameter(model, groups):
    return {name: next(g for g in groups if any(p is q for q in g["params"])) for name, p in model.named_parameters()}


def test_rates_fall_by_layer_and_the_head_learns_fastest():
    from transformers import BertForTokenClassification

    from toolkit.train.param_groups import parameter_groups

    model = BertForTokenClassification(tiny_config(num_labels=3))  # 2 layers
    groups = parameter_groups(model, 1e-3, 0.01, layer_decay=0.5, head_multiplier=10)
    group_of = rates_by_parameter(model, groups)
    assert group_of["classifier.weight"]["lr"] == pytest.approx(1e-2)
    assert group_of["bert.encoder.layer.1.output.dense.weight"]["lr"] == pytest.approx(1e-3)
    assert group_of["bert.encoder.layer.0.output.dense.weight"]["lr"] == pytest.approx(5e-4)
    assert group_of["bert.embeddings.word_embeddings.weight"]["lr"] == pytest.approx(2.5e-4)
    assert group_of["bert.encoder.layer.0.output.dense.weight"]["weight_decay"] == 0.01
    assert group_of["bert.encoder.layer.0.output.dense.bias"]["weight_decay"] == 0.0
    assert group_of["bert.encoder.layer.0.output.LayerNorm.weight"]["weight_decay"] == 0.0
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))


def test_training_uses_the_groups_and_records_them(tmp_path, tiny_base, ner_data, monkeypatch):
    import toolkit.train.fit
    import toolkit.train.param_groups

    made = []

    def recording(*args, **kwargs):
        made.append(toolkit.train.param_groups.layerwise_adamw(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(toolkit.train.fit, "layerwise_adamw", recording)
    result = run_train("ner", tiny_base, ner_data, tmp_path / "out", "--layer_lr_decay", 0.8,
                       "--head_lr_multiplier", 5.0)
    rates = sorted({group["initial_lr"] for group in made[0].param_groups})
    lr = result.metrics["hyperparameters"]["learning_rate"]
    assert len(made) == 1
    assert rates == pytest.approx([lr * 0.8 ** 2, lr * 0.8, lr, 5 * lr])  # embeddings, layer 0, layer 1, head
    assert result.metrics["hyperparameters"]["layer_lr_decay"] == 0.8
    assert result.metrics["hyperparameters"]["head_lr_multiplier"] == 5.0
