"""Write a bundle directory safely: only ever over a previous bundle, built next to its target and
moved into place when complete, and recoverable when a run is killed half-way."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.runtime.bundle import MANIFEST_FILE


def _leftovers(target: Path, kind: str) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.{kind}-*")) if target.parent.is_dir() else []


def recover(target: Path) -> None:
    """Undo what a killed run left next to `target`: a previous bundle moved aside is put back when
    the new one never arrived, and staging folders are removed."""
    old = _leftovers(target, "old")
    if not target.exists() and not target.is_symlink():
        for aside in old:
            if (aside / target.name).is_dir():  # killed between the two renames of the swap
                os.replace(aside / target.name, target)
                break
    for stale in _leftovers(target, "tmp") + old:
        shutil.rmtree(stale, ignore_errors=True)


def check_target(target: Path, source_dir: Path, overwrite: bool) -> None:
    """Refuse a target whose replacement would lose anything but a previous bundle."""
    resolved, source = target.resolve(), source_dir.resolve()
    if resolved == source or source in resolved.parents or resolved in source.parents:
        raise ToolkitError(f"--output-dir {target} is, holds or sits inside the checkpoint {source_dir}: "
                           f"choose a directory outside it, e.g. exports/{source.name}.")
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise ToolkitError(f"--output-dir {target} exists and is not a directory: choose a new directory.")
    if not (target / MANIFEST_FILE).is_file():
        if any(target.iterdir()):
            raise ToolkitError(f"--output-dir {target} holds files that are not a bundle ({MANIFEST_FILE} is "
                               "missing); export only ever replaces a bundle: choose a new or empty directory.")
        return
    if not overwrite:
        raise ToolkitError(f"{target} already holds a bundle: pass --overwrite to replace it, or choose another "
                           "--output-dir.")


@contextlib.contextmanager
def staged_directory(target: Path):
    """Yield a temporary directory next to `target`; move it into place only on success.

    An existing `target` is replaced only once the new one is complete, and a failure or an
    interrupt at any point leaves neither a half-written bundle nor stray files.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; a bundle is meant to be shared
    try:
        yield staging
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / target.name)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
