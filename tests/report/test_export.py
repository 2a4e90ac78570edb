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


def snippets(card: str) -> list[str]:
    """The Python blocks a model card shows."""
    return [block.split("```", 1)[0] for block in card.split("```python\n")[1:]]


def test_every_snippet_the_ner_card_shows_runs(ner_bundle):
    card = (ner_bundle / "README.md").read_text()
    blocks = snippets(card)
    assert len(blocks) == 3  # the runtime, Optimum, Optimum with the constrained decoding
    for block in blocks:
        scope = {}
        exec(block.replace("THIS_FOLDER", str(ner_bundle)), scope)
        assert scope["model"] is not None
    labels = json.loads((ner_bundle / "manifest.json").read_text())["labels"]
    assert scope["tags"] and set(scope["tags"]) <= set(labels)


def test_every_snippet_the_mean_pooling_sentiment_card_shows_runs(sentiment_bundle):
    manifest = manifest_of(sentiment_bundle)
    assert manifest["pooling"] == "mean"
    card = (sentiment_bundle / "README.md").read_text()
    assert "trust_remote_code=True" in card and len(snippets(card)) == 2
    for block in snippets(card):
        scope = {}
        exec(block.replace("THIS_FOLDER", str(sentiment_bundle)), scope)
        assert scope["model"] is not None


def test_the_card_carries_hugging_face_metadata(ner_bundle):
    import yaml

    card = (ner_bundle / "README.md").read_text()
    assert card.startswith("---\n")
    meta = yaml.safe_load(card.split("---\n")[1])
    manifest = manifest_of(ner_bundle)
    assert meta["license"] == "unknown" and meta["pipeline_tag"] == "token-classification"
    assert meta["metrics"] == ["f1"] and "datasets" not in meta  # local data has no hub id
    result = meta["model-index"][0]["results"][0]
    assert result["dataset"]["split"] == manifest["evaluation"]["split"]
    assert result["metrics"][0]["value"] == round(manifest["variants"][manifest["default_variant"]]["accuracy"]["f1"], 4)


def test_the_ner_card_states_both_decoding_routes(ner_bundle):
    manifest = manifest_of(ner_bundle)
    pytorch = manifest["evaluation"]["pytorch"]
    card = model_card(manifest)
    assert f"f1 {pytorch['f1']:.4f} on these rows (PyTorch)" in card
    assert f"arg-max instead: f1 {pytorch['argmax']:.4f}" in card


def test_data_terms_only_for_the_datasets_that_have_them_and_the_sample_is_called_synthetic(ner_bundle):
    import yaml

    manifest = manifest_of(ner_bundle)
    card = model_card(manifest)
    assert "synthetic sample" in card and "research use" not in card
    hub = {**manifest, "base_model": "minilm",
           "training": {**manifest["training"], "dataset": "eriktks/conll2003", "synthetic": False}}
    card = model_card(hub)
    assert "CoNLL-2003 is built on Reuters news text and is for research use" in card
    assert "examples of eriktks/conll2003" in card
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["datasets"] == ["eriktks/conll2003"] and meta["license"] == "apache-2.0"
    assert meta["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"


def test_a_bundle_records_its_build_paths_relative_and_a_wheel_none(ner_bundle, ner_checkpoint, tmp_path):
    import zipfile

    from toolkit.config import PackageConfig
    from toolkit.package import package

    text = (ner_bundle / "manifest.json").read_text()
    manifest = json.loads(text)
    assert manifest["source_checkpoint"].startswith("..") and "/tmp" not in text
    assert (ner_bundle / manifest["source_checkpoint"]).resolve() == ner_checkpoint.resolve()
    assert (ner_bundle / manifest["evaluation"]["dataset"]).is_dir()
    wheel = package(PackageConfig(bundle=ner_bundle, name="ner_paths", output_dir=tmp_path)).wheel_path
    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("ner_paths/bundle/manifest.json").decode()
    assert "/tmp" not in packaged and ".." not in packaged
    assert json.loads(packaged)["source_checkpoint"] == ""


def test_a_distilled_models_card_names_its_teacher_and_the_manifest_holds_no_absolute_path(tmp_path):
    from toolkit.export.manifest import distilled_from
    from toolkit.report.export import distillation_lines

    bundle_dir = tmp_path / "exports" / "student"
    record = {"teacher": {"path": str(tmp_path / "runs" / "teacher"), "model_type": "mpnet",
                          "score": {"f1": 0.8912, "per_type": {}}},
              "temperature": 2.0, "distill_weight": 0.5, "unlabeled_rows": 13041, "unlabeled_source": "train"}
    training = distilled_from({"distillation": record}, bundle_dir)
    assert training["distillation"]["teacher"]["path"] == "../../runs/teacher"
    assert distilled_from({}, bundle_dir) == {}
    (line, _) = distillation_lines({"training": training})
    assert "teacher of model type mpnet (../../runs/teacher; on the same evaluation rows: f1 0.8912)" in line
    assert "temperature 2" in line and "13,041 unlabelled rows" in line
    assert distillation_lines({"training": {}}) == []
