"""`toolkit package`: a wheel that installs in a fresh environment and answers, sha256 checked."""

import json
import shutil
import subprocess
import sys
import time
import zipfile

import pytest

from tests.conftest import cli_error
from toolkit.cli import main


@pytest.fixture(scope="module")
def wheel(ner_bundle, tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    main(["package", str(ner_bundle), "--name", "ner_model", "--version", "1.2.0", "--output-dir", str(dist)])
    return dist / "ner_model-1.2.0-py3-none-any.whl"


def test_the_wheel_holds_one_variant_the_runtime_and_the_card(wheel, ner_bundle):
    manifest = json.loads((ner_bundle / "manifest.json").read_text())
    names = zipfile.ZipFile(wheel).namelist()
    default_file = manifest["variants"][manifest["default_variant"]]["file"]
    assert f"ner_model/bundle/{default_file}" in names and "ner_model/_runtime/predict.py" in names
    assert sum(n.endswith(".onnx") for n in names) == 1
    metadata = zipfile.ZipFile(wheel).read("ner_model-1.2.0.dist-info/METADATA").decode()
    requires = sorted(line.split(":")[1].strip().split("=")[0].split(">")[0].split("<")[0]
                      for line in metadata.splitlines() if line.startswith("Requires-Dist"))
    assert requires == ["numpy", "onnxruntime", "tokenizers"]
    source = zipfile.ZipFile(wheel).read("ner_model/_runtime/predict.py").decode()
    assert "toolkit.runtime" not in source and "ner_model._runtime" in source


@pytest.mark.e2e
def test_pip_install_in_a_fresh_venv_then_import_and_answer(wheel, tmp_path, ner_bundle):
    from toolkit.runtime import load

    venv = tmp_path / "venv"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-2000:]
    code = "import json, ner_model; print(json.dumps(ner_model.load()('Angela Merkel met John Smith in Paris .')))"
    run = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    answer = json.loads(run.stdout)
    assert answer and answer == load(ner_bundle)("Angela Merkel met John Smith in Paris .")
    print(f"fresh venv, pip install and first answer: {time.perf_counter() - started:.1f} s")
    check = subprocess.run([str(venv / "bin" / "pip"), "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    # the packaged model is pinned: an altered file is refused, whatever the manifest inside says
    site = next((venv / "lib").glob("python*/site-packages/ner_model/bundle"))
    model = next(site.glob("*.onnx"))
    model.write_bytes(model.read_bytes()[:-10])
    run = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode != 0 and "does not match" in run.stderr


@pytest.mark.parametrize("argv, message", [
    (["--name", "Bad-Name"], "is not a package name"), (["--name", "ok", "--version", "one"], "is not a version"),
])
def test_bad_names(capsys, tmp_path, ner_bundle, argv, message):
    assert message in cli_error(capsys, "package", str(ner_bundle), "--output-dir", str(tmp_path), *argv)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_wheel_is_not_replaced_without_overwrite(capsys, wheel, ner_bundle):
    before = wheel.read_bytes()
    err = cli_error(capsys, "package", str(ner_bundle), "--name", "ner_model", "--version", "1.2.0",
                    "--output-dir", str(wheel.parent))
    assert "exists: pass --overwrite" in err and wheel.read_bytes() == before


def test_a_tampered_bundle_is_never_packaged(capsys, tmp_path, ner_bundle):
    bundle = tmp_path / "bundle"
    shutil.copytree(ner_bundle, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    model = bundle / manifest["variants"][manifest["default_variant"]]["file"]
    model.write_bytes(model.read_bytes()[:-10])
    err = cli_error(capsys, "package", str(bundle), "--name", "m", "--output-dir", str(tmp_path / "dist"))
    assert "does not match" in err and not (tmp_path / "dist").exists()
