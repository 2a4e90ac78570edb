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

from toolkit.runtime.answers import AnswerKind
from toolkit.runtime.errors import BundleError
from toolkit.runtime.manifest import (  # noqa: F401 - FORMAT_VERSION, MIN_MAX_LENGTH: where callers import them
    FORMAT_VERSION,
    MIN_MAX_LENGTH,
    Manifest,
    VariantEntry,
)

MANIFEST_FILE = "manifest.json"


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
    manifest: Manifest

    @property
    def task(self) -> str:
        return self.manifest.task

    @property
    def kind(self) -> AnswerKind:
        """What the bundle's predictor answers (the manifest's `decode`)."""
        return self.manifest.kind

    @property
    def labels(self) -> tuple[str, ...]:
        return self.manifest.labels

    @property
    def variants(self) -> dict[str, VariantEntry]:
        return self.manifest.variants

    @property
    def default_variant(self) -> str:
        return self.manifest.default_variant

    def engine_of(self, variant: str) -> str:
        """What the variant was made and checked for: "onnxruntime", or "openvino" (int8-openvino)."""
        entry = self.variants.get(variant)
        return entry.engine if entry else "onnxruntime"

    def default_for(self, engine: str) -> str:
        """The variant an engine loads when none is named (see Manifest.default_for)."""
        return self.manifest.default_for(engine)

    @property
    def max_length(self) -> int:
        return self.manifest.max_length

    @property
    def tokenizer_path(self) -> Path:
        return contained_path(self.directory, self.manifest.tokenizer, "tokenizer")

    def variant_path(self, variant: str | None = None) -> Path:
        """The model file of `variant` (default: the manifest's default variant); it must be present."""
        name = variant or self.default_variant
        if name not in self.variants:
            raise BundleError(f"{self.directory}: no variant {name!r}; the bundle has "
                              f"{', '.join(self.variants)}.")
        path = contained_path(self.directory, self.variants[name].file, f"file of variant {name!r}")
        if not path.is_file():
            raise BundleError(f"{self.directory}: the file {path.name} of variant {name!r} is missing; copy it "
                              f"from the full bundle or choose a variant whose file is there.")
        return path

    def verify(self, variant: str, expected_sha256: str | None = None) -> None:
        """Check the variant's file against the manifest's sha256 (and the caller's, when given)."""
        path = self.variant_path(variant)
        found = sha256_of(path)
        for expected, whose in ((self.variants[variant].sha256, "the manifest's"),
                                (expected_sha256, "the expected")):
            if expected is not None and found != expected:
                raise BundleError(f"{path}: sha256 {found[:16]}... does not match {whose} {str(expected)[:16]}...; "
                                  "the file was altered or truncated. Re-export the bundle.")


def load_bundle(directory: str | Path) -> Bundle:
    """Read a bundle's manifest into a Manifest (every field checked), and check that its tokenizer is there.

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
    bundle = Bundle(directory=directory, manifest=Manifest.from_dict(manifest, str(manifest_path)))
    if not bundle.tokenizer_path.is_file():
        raise BundleError(f"{directory}: the tokenizer file {bundle.tokenizer_path.name} named in the manifest "
                          "is missing. Copy the whole bundle directory or re-export it.")
    return bundle
