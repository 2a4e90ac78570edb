"""What `toolkit export` shows and writes: the variants table and the bundle's model card."""

import json

from toolkit.report.export import export_table, model_card


def manifest_of(bundle) -> dict:
    return json.loads((bundle / "manifest.json").read_text())


def test_the_model_card_has_no_placeholder_and_no_paths(ner_bundle, ner_checkpoint):
    card = model_card(manifest_of(ner_bundle))
    assert card == (ner_bundle / "README.md").read_text()  # the card export wrote
    for section in ("## Intended use", "## Training data", "## Metrics", "## Limitations", "## Licence"):
        assert section in card
    assert "ORTModelForTokenClassification.from_pretrained" in card and "..." not in card
    assert str(ner_checkpoint.parent) not in card and "/tmp" not in card
    assert "PER" in card and "[" in card  # entity types, and the points lost with their interval


def test_the_export_table_has_pytorch_then_every_variant_the_default_starred(ner_bundle):
    manifest = manifest_of(ner_bundle)
    lines = export_table(manifest).splitlines()
    assert lines[0].split()[:2] == ["variant", "size_mb"] and lines[2].startswith("pytorch")
    names = [line.split()[0] for line in lines[3:]]
    assert names == list(manifest["variants"])
    assert f"{manifest['default_variant']} *" in export_table(manifest)
