"""Write a file or a directory safely: built next to its target and moved into place when complete (a
crash never leaves half of it), and recoverable when a run is killed half-way through a directory's swap."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def _leftovers(target: Path, kind: str) -> list[Path]:
    """Folders a run that has ended left next to `target` (their names carry the pid that made them;
    those of a run still going are not touched)."""
    if not target.parent.is_dir():
        return []
    return sorted(p for p in target.parent.glob(f".{target.name}.{kind}-*") if not _alive(p.name))


def _alive(name: str) -> bool:
    pid = name.rsplit(".", 1)[-1].split("-")[1] if "-" in name.rsplit(".", 1)[-1] else ""
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def recover(target: Path) -> None:
    """Undo what a killed run left next to `target`: a previous version moved aside is put back when
    the new one never arrived, and staging folders are removed."""
    old = _leftovers(target, "old")
    if not target.exists() and not target.is_symlink():
        for aside in old:
            if (aside / target.name).is_dir():  # killed between the two renames of the swap
                os.replace(aside / target.name, target)
                break
    for stale in _leftovers(target, "tmp") + old:
        shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def staged_directory(target: Path):
    """Yield a temporary directory next to `target`; move it into place only on success.

    An existing `target` is replaced only once the new one is complete, and a failure or an
    interrupt at any point leaves neither a half-written bundle nor stray files.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private; a bundle is meant to be shared
    try:
        yield staging
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
            try:
                os.replace(target, old / target.name)
            except OSError:  # e.g. a mount point or a directory in use (EBUSY): it stays where it is
                old.rmdir()
                raise
        try:
            os.replace(staging, target)
        except OSError:
            if old is not None:  # put the previous version back rather than leave nothing at `target`
                os.replace(old / target.name, target)
                old.rmdir()
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def staged_file(target: Path):
    """Yield a temporary path next to `target` to write; on success flush it to disk and move it into place.

    A reader of `target` sees the previous file or the complete new one, never a part of it, whenever the
    process stops. The temporary name starts with a dot and carries the pid, so no glob for `target`'s
    suffix finds it, and the next write removes what a killed run left.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}.tmp-{os.getpid()}-"
    for stale in _leftovers(target, "tmp"):
        if stale.is_file() and not stale.name.startswith(prefix):  # this process's: another thread writes it
            stale.unlink(missing_ok=True)
    handle, name = tempfile.mkstemp(prefix=prefix, dir=target.parent)
    os.close(handle)
    staging = Path(name)
    try:
        yield staging
        os.chmod(staging, 0o666 & ~_umask())  # mkstemp makes it private; keep the mode a plain write gives
        _fsync(staging)
        os.replace(staging, target)
        _fsync_directory(target.parent)
    finally:
        staging.unlink(missing_ok=True)


def write_file(target: Path, data: str | bytes) -> None:
    """Write `data` (text as UTF-8) to `target` atomically: the old file or the new one, never half."""
    with staged_file(target) as staging:
        staging.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; a platform that cannot open a directory (Windows) skips it."""
    try:
        _fsync(directory)
    except OSError:
        pass


def _umask() -> int:
    # os.umask can only be read by setting it: set it back at once.
    mask = os.umask(0)
    os.umask(mask)
    return mask
