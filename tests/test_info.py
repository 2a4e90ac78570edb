"""`toolkit info`: what a bundle or a checkpoint is, from its own files."""

import json

from tests.conftest import cli_error
from toolkit.cli import main


def test_info_of_a_bundle_names_variants_default_and_why_scores_and_cpu(capsys, ner_bundle):
    main(["info", str(ner_bundle)])
    out = capsys.readouterr().out
    manifest = json.loads((ner_bundle / "manifest.json").read_text())
    assert f"bundle: {ner_bundle}" in out and "task: ner" in out and "labels (" in out
    assert f"default: {manifest['default_variant']}: " in out
    decision = manifest["variants"]["int8-dynamic"]["decision"]
    assert decision["verdict"] in out and f"decided on: {decision['cpu']}" in out
    for name in manifest["variants"]:
        assert name in out
    assert "per_channel" in out or "target=" in out  # the recipe
    assert f"{manifest['evaluation']['examples']} examples" in out


def test_info_of_a_checkpoint_names_its_scores_and_recipe(capsys, ner_checkpoint):
    main(["info", str(ner_checkpoint)])
    out = capsys.readouterr().out
    metrics = json.loads((ner_checkpoint / "metrics.json").read_text())
    assert f"checkpoint: {ner_checkpoint}" in out and f"f1 {metrics['f1']:.4f}" in out
    assert "learning_rate=" in out and f"next: toolkit export {ner_checkpoint} --quantize" in out


def test_info_as_json(capsys, ner_bundle):
    main(["info", str(ner_bundle), "--json"])
    facts = json.loads(capsys.readouterr().out)
    assert facts["kind"] == "bundle" and facts["default_variant"] in facts["variants"]


def test_info_of_something_else_says_what_it_expects(capsys, tmp_path):
    assert "is neither a bundle" in cli_error(capsys, "info", str(tmp_path))
    assert "is not a directory" in cli_error(capsys, "info", str(tmp_path / "none"))
