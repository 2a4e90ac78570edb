"""The terminal table of `toolkit train`."""

import json

from toolkit.report.train import train_table


def test_the_training_table_shows_only_the_tasks_own_settings(ner_checkpoint):
    table = train_table(json.loads((ner_checkpoint / "metrics.json").read_text()))
    assert "decoding=" in table and "pooling=" not in table and "truncation=" not in table
    assert "always 'O'" in table  # the majority baseline beside the model
