"""Read and verify an export bundle's manifest. Imports nothing heavier than the standard library."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from toolkit.runtime.errors import BundleError

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1
TOKENIZER_FILE = "tokenizer.json"


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Bundle:
    """A bundle directory and its manifest."""

    directory: Path
    manifest: dict

    @property
    def task(self) -> str:
        return self.manifest["task"]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.manifest["labels"])

    @property
    def variants(self) -> dict:
        return self.manifest["variants"]

    @property
    def default_variant(self) -> str:
        return self.manifest["default_variant"]

    def variant_path(self, variant: str | None = None) -> Path:
        """The model file of `variant` (default: the manifest's default variant)."""
        name = variant or self.default_variant
        if name not in self.variants:
            raise BundleError(f"{self.directory}: no variant {name!r}; the bundle has "
                              f"{', '.join(self.variants)}.")
        return self.directory / self.variants[name]["file"]

    def verify(self, variant: str) -> None:
        """Check the variant's file against the manifest's sha256; a mismatch is never run."""
        path = self.variant_path(variant)
        expected = self.variants[variant]["sha256"]
        found = sha256_of(path)
        if found != expected:
            raise BundleError(f"{path}: sha256 {found[:16]}... does not match the manifest's "
                              f"{expected[:16]}...; the file was altered or truncated. Re-export the bundle.")


def load_bundle(directory: str | Path) -> Bundle:
    """Read a bundle's manifest and check that every file it names is there."""
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
    missing = [v["file"] for v in manifest["variants"].values() if not (directory / v["file"]).is_file()]
    if not (directory / TOKENIZER_FILE).is_file():
        missing.append(TOKENIZER_FILE)
    if missing:
        raise BundleError(f"{directory}: files named in the manifest are missing: {', '.join(missing)}. "
                          "Copy the whole bundle directory or re-export it.")
    return Bundle(directory=directory, manifest=manifest)
