"""Read and verify an export bundle's manifest. Imports nothing heavier than the standard library.

A bundle often comes from someone else, so nothing in its manifest is trusted: every field the
runtime uses is checked for its type and range, and every path it names must stay inside the
bundle's directory (no absolute paths, no `..`, no symbolic link leading out). The manifest is not
signed: its sha256 values catch a damaged file, not a crafted bundle. An app that pins a bundle
passes the variant's digest it expects (`load(..., expected_sha256=...)`): the model file's sha256,
or for a graph with external data a digest over every file it runs (VariantEntry.digest).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from toolkit.runtime.answers import AnswerKind
from toolkit.runtime.errors import BundleError
from toolkit.runtime.external_data import MalformedModel, external_locations
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


def check_sha256(path: Path, expected: str) -> None:
    """Refuse a file whose sha256 is not the manifest's."""
    found = sha256_of(path)
    if found != expected:
        raise BundleError(f"{path}: sha256 {found[:16]}... does not match the manifest's {str(expected)[:16]}...; "
                          "the file was altered or truncated. Re-export the bundle.")


def data_files_of(directory: Path, file: str) -> list[str]:
    """The external data files the graph `directory / file` reads, by their path in the bundle; each
    must stay inside the bundle."""
    path = contained_path(directory, file, "model file")
    try:
        locations = external_locations(path)
    except MalformedModel as error:
        raise BundleError(f"{path} is not an ONNX model ({error}): the file is damaged; re-export the bundle.") from None
    names = []
    for location in sorted(locations):
        contained_path(path.parent, location, f"external data of {file}")
        names.append((PurePosixPath(file.replace("\\", "/")).parent / location.replace("\\", "/")).as_posix())
    return names


def hash_data_files(directory: Path, file: str) -> dict[str, str]:
    """Each external data file the graph reads, with its sha256 (what export records per variant)."""
    return {name: sha256_of(contained_path(directory, name, "external data file"))
            for name in data_files_of(directory, file)}


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

    def data_paths(self, variant: str) -> list[Path]:
        """The external data files of `variant` its manifest pins; each must be present."""
        paths = []
        for name in self.variants[variant].data_files:
            path = contained_path(self.directory, name, f"data file of variant {variant!r}")
            if not path.is_file():
                raise BundleError(f"{self.directory}: the data file {name} of variant {variant!r} is missing; copy "
                                  "it from the full bundle or choose a variant whose files are there.")
            paths.append(path)
        return paths

    def verify(self, variant: str, expected_sha256: str | None = None) -> None:
        """Check every file the variant runs (its graph and the external data the graph reads) against
        the manifest's sha256 values, and their digest against the caller's, when given."""
        path = self.variant_path(variant)
        entry = self.variants[variant]
        check_sha256(path, entry.sha256)  # first: the graph read next is the one the manifest pinned
        data_paths = self.data_paths(variant)
        unpinned = sorted(set(data_files_of(self.directory, entry.file)) - set(entry.data_files))
        if unpinned:
            raise BundleError(f"{path}: the graph reads external data {', '.join(unpinned)} that the manifest does "
                              "not pin (data_files); its weights could be anything. Re-export the bundle.")
        for data_path, expected in zip(data_paths, entry.data_files.values()):
            check_sha256(data_path, expected)
        if expected_sha256 is not None and entry.digest != expected_sha256:
            what = "the model file's sha256" if not entry.data_files else "the digest of the files it runs"
            raise BundleError(f"{path}: {what} {entry.digest[:16]}... does not match the expected "
                              f"{str(expected_sha256)[:16]}...; the file was altered or truncated, or the bundle is "
                              "another one. Re-export the bundle or pin its digest.")


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
    except RecursionError:  # json's parser recurses once per nested array or object
        raise BundleError(f"{manifest_path} nests its arrays or objects too deeply to be a manifest; re-export the "
                          "bundle.") from None
    bundle = Bundle(directory=directory, manifest=Manifest.from_dict(manifest, str(manifest_path)))
    if not bundle.tokenizer_path.is_file():
        raise BundleError(f"{directory}: the tokenizer file {bundle.tokenizer_path.name} named in the manifest "
                          "is missing. Copy the whole bundle directory or re-export it.")
    return bundle
