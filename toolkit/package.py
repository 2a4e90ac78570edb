"""`toolkit package`: a bundle as a Python wheel, like `spacy package`.

The wheel holds one variant of the bundle, the runtime (toolkit/runtime/, vendored under the
package's own name so that it cannot clash with an installed toolkit) and the model card as its
README; it depends on nothing but the runtime's three libraries. After `pip install NAME-*.whl`:

    import NAME
    NAME.load()("Angela Merkel visited Paris.")

It is written by hand (a wheel is a zip file with a dist-info folder), so making one needs no build
backend and no network.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import toolkit
from toolkit.config import PackageConfig
from toolkit.errors import ToolkitError
from toolkit.export.manifest import portable
from toolkit.runtime.bundle import MANIFEST_FILE, Bundle, contained_path, load_bundle, sha256_of
from toolkit.staging import staged_file

RUNTIME_DIR = Path(toolkit.__file__).parent / "runtime"

INIT_TEMPLATE = '''"""{summary}

    import {name}
    model = {name}.load()
    model("...")
"""

from pathlib import Path

from {name}._runtime import load as _load

__version__ = "{version}"
BUNDLE_DIR = Path(__file__).parent / "bundle"


def load(**options):
    """The packaged model's predictor; the files it runs are checked against the digest they were
    packaged with. Options are toolkit.runtime.load's (threads, batch_size, aggregation, ...)."""
    return _load(BUNDLE_DIR, expected_sha256="{sha256}", **options)
'''


@dataclass
class PackageResult:
    wheel_path: Path
    variant: str
    size_bytes: int


def runtime_files(name: str) -> dict[str, bytes]:
    """The runtime's modules, with its absolute imports pointed at the package's own copy."""
    files = {}
    for path in sorted(RUNTIME_DIR.glob("*.py")):
        text = path.read_text(encoding="utf-8").replace("toolkit.runtime", f"{name}._runtime")
        files[f"{name}/_runtime/{path.name}"] = text.encode("utf-8")
    return files


def base_requirements(engine: str = "onnxruntime") -> list[str]:
    """The runtime's three libraries, as the toolkit's own base install pins them, and OpenVINO for a
    variant made for it (as the [openvino] extra pins it; NNCF is for export only)."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        found = requires(toolkit.DISTRIBUTION) or []
        base = [r for r in found if "extra ==" not in r]
        if engine == "openvino":
            base += [r.split(";")[0].strip() for r in found
                     if 'extra == "openvino"' in r and r.replace(" ", "").startswith("openvino")]
        return base
    except PackageNotFoundError:
        raise ToolkitError(f"the toolkit runs from a source tree that was never installed, so the runtime's "
                           f"requirements are unknown: pip install -e . (it installs {toolkit.DISTRIBUTION}), then "
                           "package again.") from None


def bundle_files(bundle: Bundle, variant: str) -> dict[str, Path]:
    """The files the packaged bundle needs beside its manifest and card, by the path its manifest names
    them with (a file in a subdirectory stays there): the tokenizer, the variant's graph and the
    external data the graph reads."""
    entry = bundle.variants[variant]
    paths = {bundle.manifest.tokenizer: bundle.tokenizer_path, entry.file: bundle.variant_path(variant),
             **dict(zip(entry.data_files, bundle.data_paths(variant)))}
    return {PurePosixPath(name.replace("\\", "/")).as_posix(): path for name, path in paths.items()}


def _record_line(path: str, data: bytes | Path) -> list[str]:
    """A RECORD row; a bundle file is hashed in chunks (external data runs to gigabytes)."""
    raw = bytes.fromhex(sha256_of(data)) if isinstance(data, Path) else hashlib.sha256(data).digest()
    size = data.stat().st_size if isinstance(data, Path) else len(data)
    return [path, f"sha256={base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}", str(size)]


def package(cfg: PackageConfig) -> PackageResult:
    """Build a wheel holding one variant of a bundle and the runtime, and return its path."""
    cfg.check()
    bundle = load_bundle(cfg.bundle)
    variant = cfg.variant or bundle.default_variant
    bundle.verify(variant)  # a tampered or truncated model is never packaged
    output_dir = Path(cfg.output_dir)
    wheel_name = f"{cfg.name}-{cfg.version}-py3-none-any.whl"
    wheel_path = output_dir / wheel_name
    if wheel_path.exists() and not cfg.overwrite:
        raise ToolkitError(f"{wheel_path} exists: pass --overwrite to replace it, or give another --version.")

    manifest = portable(bundle.manifest.only(variant))  # a wheel installs anywhere: no path of this machine
    # read with the runtime's rules, as every other file of the bundle: a link out is refused, not packed
    card_path = contained_path(bundle.directory, "README.md", "model card")
    card = card_path.read_text(encoding="utf-8") if card_path.is_file() else f"# {cfg.name}\n"
    summary = f"{bundle.task} model ({manifest.model_type}, {variant}) packaged by toolkit {toolkit.__version__}"
    files: dict[str, bytes | Path] = {
        f"{cfg.name}/__init__.py": INIT_TEMPLATE.format(summary=summary, name=cfg.name, version=cfg.version,
                                                        sha256=bundle.variants[variant].digest).encode(),
        f"{cfg.name}/bundle/{MANIFEST_FILE}": (json.dumps(manifest.to_dict(), indent=2) + "\n").encode(),
        f"{cfg.name}/bundle/README.md": card.encode(),
        **{f"{cfg.name}/bundle/{name}": path for name, path in bundle_files(bundle, variant).items()},
        **runtime_files(cfg.name),
    }
    dist_info = f"{cfg.name}-{cfg.version}.dist-info"
    metadata = "\n".join([
        "Metadata-Version: 2.1", f"Name: {cfg.name}", f"Version: {cfg.version}", f"Summary: {summary}",
        *[f"Requires-Dist: {r}" for r in base_requirements(bundle.engine_of(variant))], "Requires-Python: >=3.10",
        "Description-Content-Type: text/markdown", "", card])
    files[f"{dist_info}/METADATA"] = metadata.encode()
    files[f"{dist_info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: toolkit {toolkit.__version__}\n"
                                   "Root-Is-Purelib: true\nTag: py3-none-any\n").encode()
    files[f"{dist_info}/top_level.txt"] = f"{cfg.name}\n".encode()
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, data in files.items():
        writer.writerow(_record_line(path, data))
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    files[f"{dist_info}/RECORD"] = record.getvalue().encode()

    with staged_file(wheel_path) as staging:
        with zipfile.ZipFile(staging, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
            for path, data in files.items():
                if isinstance(data, Path):
                    wheel.write(data, path)
                else:
                    wheel.writestr(path, data)
    return PackageResult(wheel_path=wheel_path, variant=variant, size_bytes=wheel_path.stat().st_size)
