"""`toolkit package`: a wheel that installs in a fresh environment and answers, sha256 checked."""

import json
import shutil
import subprocess
import sys
import time
import zipfile

import pytest

from tests.conftest import cli_error
from tests.runtime.test_integrity import read_manifest, save_with_external_data, write_manifest
from toolkit.cli import main

TEXT = "Angela Merkel met John Smith in Paris ."


@pytest.fixture(scope="module")
def wheel(ner_bundle, tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    main(["package", str(ner_bundle), "--name", "ner_model", "--version", "1.2.0", "--output-dir", str(dist)])
    return dist / "ner_model-1.2.0-py3-none-any.whl"


def move_variant(bundle, variant: str, folder: str) -> None:
    """Put a variant's graph in a subdirectory of the bundle, as the manifest may name it."""
    manifest = read_manifest(bundle)
    entry = manifest["variants"][variant]
    (bundle / folder).mkdir()
    (bundle / entry["file"]).rename(bundle / folder / entry["file"])
    entry["file"] = f"{folder}/{entry['file']}"
    write_manifest(bundle, manifest)


@pytest.fixture(scope="module")
def wheels(wheel, ner_bundle, tmp_path_factory):
    """Each kind of wheel package builds, by package name: (wheel, bundle, variant). The bundle's own
    graph; a graph in a subdirectory; a graph in a subdirectory with its weights in external data."""
    made = {"ner_model": (wheel, ner_bundle, read_manifest(ner_bundle)["default_variant"])}
    dist = tmp_path_factory.mktemp("kinds")
    for name, variant, external in (("ner_nested", "optimized", False), ("ner_external", "fp32", True)):
        bundle = dist / name
        shutil.copytree(ner_bundle, bundle)
        move_variant(bundle, variant, "graphs")
        if external:
            save_with_external_data(bundle, variant, "model.onnx_data")
        main(["package", str(bundle), "--name", name, "--variant", variant, "--output-dir", str(dist)])
        made[name] = (dist / f"{name}-0.1.0-py3-none-any.whl", bundle, variant)
    return made


def answer_code(name: str) -> str:
    return f"import json, {name}; print(json.dumps({name}.load()({TEXT!r})))"


def test_every_kind_of_wheel_loads_from_its_files(wheels, tmp_path):
    from toolkit.runtime import load

    names = zipfile.ZipFile(wheels["ner_external"][0]).namelist()
    assert {"ner_external/bundle/graphs/model.onnx", "ner_external/bundle/graphs/model.onnx_data"} <= set(names)
    assert "ner_nested/bundle/graphs/model_optimized.onnx" in zipfile.ZipFile(wheels["ner_nested"][0]).namelist()
    for name, (wheel_path, bundle, variant) in wheels.items():
        site = tmp_path / name
        zipfile.ZipFile(wheel_path).extractall(site)  # what pip installs: the wheel's files as they are
        run = subprocess.run([sys.executable, "-c", answer_code(name)], capture_output=True, text=True,
                             cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
        assert run.returncode == 0, f"{name}: {run.stderr[-2000:]}"
        assert json.loads(run.stdout) == load(bundle, variant=variant)(TEXT)


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


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtual environment, shared by the tests that pip-install wheels into it."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    return venv


@pytest.mark.e2e
def test_pip_install_in_a_fresh_venv_then_import_and_answer(wheel, tmp_path, ner_bundle, venv):
    from toolkit.runtime import load

    started = time.perf_counter()
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-2000:]
    code = answer_code("ner_model")
    run = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    answer = json.loads(run.stdout)
    assert answer and answer == load(ner_bundle)(TEXT)
    print(f"fresh venv, pip install and first answer: {time.perf_counter() - started:.1f} s")
    check = subprocess.run([str(venv / "bin" / "pip"), "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    # the packaged model is pinned: an altered file is refused, whatever the manifest inside says
    site = next((venv / "lib").glob("python*/site-packages/ner_model/bundle"))
    model = next(site.glob("*.onnx"))
    model.write_bytes(model.read_bytes()[:-10])
    run = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode != 0 and "does not match" in run.stderr


@pytest.mark.e2e
def test_every_kind_of_wheel_installs_in_a_fresh_venv_and_loads(wheels, tmp_path, venv):
    from toolkit.runtime import load

    for name, (wheel_path, bundle, variant) in wheels.items():
        if name == "ner_model":
            continue  # installed and altered by the test above
        pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel_path)], capture_output=True,
                             text=True)
        assert pip.returncode == 0, pip.stderr[-2000:]
        run = subprocess.run([str(venv / "bin" / "python"), "-c", answer_code(name)], capture_output=True, text=True,
                             cwd=tmp_path)
        assert run.returncode == 0, f"{name}: {run.stderr[-2000:]}"
        assert json.loads(run.stdout) == load(bundle, variant=variant)(TEXT)
    # the external weights are pinned with the graph: replaced, they are refused
    data = next((venv / "lib").glob("python*/site-packages/ner_external/bundle/graphs/model.onnx_data"))
    data.write_bytes(bytes(data.stat().st_size))
    run = subprocess.run([str(venv / "bin" / "python"), "-c", answer_code("ner_external")], capture_output=True,
                         text=True, cwd=tmp_path)
    assert run.returncode != 0 and "does not match" in run.stderr


@pytest.mark.parametrize("argv, message", [
    (["--name", "Bad-Name"], "is not a package name"), (["--name", "ok", "--version", "one"], "is not a version"),
    (["--name", "import"], "is a Python keyword"), (["--name", "class"], "is a Python keyword"),
    (["--name", "os"], "is a module of the standard library"), (["--name", "json"], "is a module of the standard"),
    (["--name", "numpy"], "of the wheel's requirements"), (["--name", "onnxruntime"], "of the wheel's requirements"),
    (["--name", "tokenizers"], "of the wheel's requirements"), (["--name", "toolkit"], "or the toolkit"),
    (["--name", "pip"], "installed distribution"), (["--name", "torch"], "installed distribution"),
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


def test_a_model_card_linking_out_of_the_bundle_is_never_packaged(capsys, tmp_path, ner_bundle):
    bundle = tmp_path / "bundle"
    shutil.copytree(ner_bundle, bundle)
    secret = tmp_path / "secret.txt"
    secret.write_text("API_KEY=do-not-ship\n")
    (bundle / "README.md").unlink()
    (bundle / "README.md").symlink_to(secret)
    err = cli_error(capsys, "package", str(bundle), "--name", "m", "--output-dir", str(tmp_path / "dist"))
    assert "outside the bundle" in err and not (tmp_path / "dist").exists()


def test_a_wheel_is_never_written_into_the_bundle_it_reads(capsys, ner_bundle):
    before = sorted(p.name for p in ner_bundle.iterdir())
    err = cli_error(capsys, "package", str(ner_bundle), "--name", "ner_model", "--output-dir", str(ner_bundle / "dist"))
    assert "lies in the bundle" in err and sorted(p.name for p in ner_bundle.iterdir()) == before
