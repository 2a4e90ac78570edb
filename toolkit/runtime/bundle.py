"""Read and verify an export bundle's manifest. Imports nothing heavier than the standard library.

A bundle often comes from someone else, so nothing in its manifest is trusted: every field the
runtime uses is checked for its type and range, and every path it names must stay inside the
bundle's directory (no absolute paths, no `..`, no symbolic link leading out). The manifest is not
signed: its sha256 values catch a damaged file, not a crafted bundle. An app that pins a bundle
passes the model file's hash it expects (`load(..., expected_sha256=...)`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from toolkit.runtime.answers import KINDS, AnswerKind
from toolkit.runtime.errors import BundleError

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1
TOKENIZER_FILE = "tokenizer.json"
MIN_MAX_LENGTH = 8  # room for the special tokens and a few content tokens per window


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def contained_path(directory: Path, name, what: str) -> Path:
    """`directory / name`, refusing any name that could lead outside `directory`."""
    if not isinstance(name, str) or not name:
        raise BundleError(f"{directory}: the manifest's {what} must be a file name, found {name!r}; re-export "
                          "the bundle.")
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or Path(name).is_absolute():
        raise BundleError(f"{directory}: the manifest's {what} {name!r} points outside the bundle; a bundle only "
                          "names files inside its own directory. Re-export it, or do not trust it.")
    path = directory / name
    if path.exists() and directory.resolve() not in path.resolve().parents:
        raise BundleError(f"{directory}: {name!r} is a link to {path.resolve()}, outside the bundle; a bundle only "
                          "holds its own files. Re-export it, or do not trust it.")
    return path


@dataclass(frozen=True)
class Bundle:
    """A bundle directory and its manifest."""

    directory: Path
    manifest: dict

    @property
    def task(self) -> str:
        return self.manifest["task"]

    @property
    def kind(self) -> AnswerKind:
        """What the bundle's predictor answers (the manifest's `decode`)."""
        return KINDS[self.manifest["decode"]]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.manifest["labels"])

    @property
    def variants(self) -> dict:
        return self.manifest["variants"]

    @property
    def default_variant(self) -> str:
        return self.manifest["default_variant"]

    def engine_of(self, variant: str) -> str:
        """What the variant was made and checked for: "onnxruntime", or "openvino" (int8-openvino)."""
        return self.variants.get(variant, {}).get("engine", "onnxruntime")

    def default_for(self, engine: str) -> str:
        """The variant an engine loads when none is named: the manifest's per-engine choice (int8-openvino
        for OpenVINO, where it kept accuracy), else the default variant."""
        chosen = (self.manifest.get("engine_defaults") or {}).get(engine)
        return chosen if chosen in self.variants else self.default_variant

    @property
    def max_length(self) -> int:
        return self.manifest["max_length"]

    @property
    def tokenizer_path(self) -> Path:
        return contained_path(self.directory, self.manifest.get("tokenizer", TOKENIZER_FILE), "tokenizer")

    def variant_path(self, variant: str | None = None) -> Path:
        """The model file of `variant` (default: the manifest's default variant); it must be present."""
        name = variant or self.default_variant
        if name not in self.variants:
            raise BundleError(f"{self.directory}: no variant {name!r}; the bundle has "
                              f"{', '.join(self.variants)}.")
        path = contained_path(self.directory, self.variants[name].get("file"), f"file of variant {name!r}")
        if not path.is_file():
            raise BundleError(f"{self.directory}: the file {path.name} of variant {name!r} is missing; copy it "
                              f"from the full bundle or choose a variant whose file is there.")
        return path

    def verify(self, variant: str, expected_sha256: str | None = None) -> None:
        """Check the variant's file against the manifest's sha256 (and the caller's, when given)."""
        path = self.variant_path(variant)
        found = sha256_of(path)
        for expected, whose in ((self.variants[variant].get("sha256"), "the manifest's"),
                                (expected_sha256, "the expected")):
            if expected is not None and found != expected:
                raise BundleError(f"{path}: sha256 {found[:16]}... does not match {whose} {str(expected)[:16]}...; "
                                  "the file was altered or truncated. Re-export the bundle.")


def check_manifest(directory: Path, manifest) -> list[str]:
    """Every problem of a manifest's fields that the runtime relies on."""
    if not isinstance(manifest, dict):
        return [f"expected a JSON object, found {type(manifest).__name__}"]
    problems = []
    if manifest.get("decode") not in KINDS:
        problems.append(f"decode must be one of {', '.join(KINDS)}, found {manifest.get('decode')!r}")
    labels = manifest.get("labels")
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) and x for x in labels):
        problems.append(f"labels must be a list of at least two names, found {labels!r}")
    max_length = manifest.get("max_length")
    if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < MIN_MAX_LENGTH:
        problems.append(f"max_length must be a whole number of at least {MIN_MAX_LENGTH}, found {max_length!r}")
    variants = manifest.get("variants")
    if not isinstance(variants, dict) or not variants:
        problems.append(f"variants must map variant names to their files, found {variants!r}")
    else:
        for name, variant in variants.items():
            if not isinstance(variant, dict) or not isinstance(variant.get("file"), str):
                problems.append(f"variant {name!r} has no file")
        if manifest.get("default_variant") not in variants:
            problems.append(f"default_variant {manifest.get('default_variant')!r} is not among the variants")
    if not isinstance(manifest.get("pad_token_id", 0), int):
        problems.append(f"pad_token_id must be a whole number, found {manifest.get('pad_token_id')!r}")
    return problems


def load_bundle(directory: str | Path) -> Bundle:
    """Read a bundle's manifest, check its fields, and check that its tokenizer is there.

    Model files are checked when a variant is chosen: a slimmed bundle holding only the variant
    an app uses loads as well as a full one.
    """
    directory = Path(directory)
    manifest_path = directory / MANIFEST_FILE
    if not directory.is_dir():
        raise BundleError(f"{directory} is not a directory: pass a bundle made by `toolkit export`.")
    if not manifest_path.is_file():
        raise BundleError(f"{directory} is not a bundle: {MANIFEST_FILE} is missing. "
                          "Make one with `toolkit export CHECKPOINT`.")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BundleError(f"{manifest_path} is not valid JSON ({error}); re-export the bundle.") from None
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version != FORMAT_VERSION:
        raise BundleError(f"{manifest_path}: format_version {version!r} is not supported (this "
                          f"toolkit reads {FORMAT_VERSION}); re-export the bundle with this version.")
    problems = check_manifest(directory, manifest)
    if problems:
        raise BundleError(f"{manifest_path}: {'; '.join(problems)}. Re-export the bundle.")
    bundle = Bundle(directory=directory, manifest=manifest)
    if not bundle.tokenizer_path.is_file():
        raise BundleError(f"{directory}: the tokenizer file {bundle.tokenizer_path.name} named in the manifest "
                          "is missing. Copy the whole bundle directory or re-export it.")
    return bundle
