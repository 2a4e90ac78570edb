"""Atomic writing of one file: the old file or the whole new one, with a plain write's mode."""

import os
import subprocess
import sys

import pytest

from toolkit.staging import staged_file, write_file


@pytest.fixture
def umask():
    def set_umask(mask: int) -> None:
        os.umask(mask)

    previous = os.umask(0o022)
    os.umask(previous)
    yield set_umask
    os.umask(previous)


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_write_file_writes_text_and_bytes_with_the_umasks_mode(tmp_path, umask, mask):
    umask(mask)
    target = tmp_path / "new" / "report.md"
    write_file(target, "é\n")
    assert target.read_bytes() == "é\n".encode()
    write_file(target, b"\x89PNG")
    assert target.read_bytes() == b"\x89PNG"
    assert (target.stat().st_mode & 0o777) == 0o666 & ~mask
    assert os.listdir(target.parent) == ["report.md"]


def test_the_target_changes_only_when_the_new_file_is_complete(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with staged_file(target) as staging:
            staging.write_text("half of the ne")
            assert target.read_text() == "old"
            raise RuntimeError("killed")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["report.json"]


def test_the_temporary_file_is_hidden_beside_the_target(tmp_path):
    target = tmp_path / "report.json"
    with staged_file(target) as staging:
        assert staging.parent == tmp_path and staging.name.startswith(".report.json.tmp-")
        assert not staging.name.endswith(".json") and not target.exists()
        staging.write_text("{}")
    assert target.read_text() == "{}"


def test_a_dead_runs_leftover_is_removed_and_a_live_ones_kept(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f".report.json.tmp-{int(finished.stdout)}-abc"
    mine = tmp_path / f".report.json.tmp-{os.getpid()}-def"  # another thread of this process writing
    for leftover in (dead, mine):
        leftover.write_text("half")
    write_file(tmp_path / "report.json", "whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, "report.json"])
