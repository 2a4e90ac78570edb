"""What `toolkit bench` shows and writes, and that a killed write never leaves half a report."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from toolkit.report.bench import bench_markdown, bench_plot, bench_table, write_reports

REPOSITORY = Path(__file__).resolve().parents[2]


def fake_result(padding: int = 0) -> SimpleNamespace:
    """A bench result of two rows (one a peer); `padding` kilobytes of notes make report.json large."""
    cell = {"batch_size": 1, "seq_len": 8, "p50_ms": 1.0, "p90_ms": 2.0, "p99_ms": 3.0, "throughput": 100.0}
    results = [{"variant": "fp32", "peer": False, "end_to_end": {"examples_per_s": 12.34},
                "metrics": {"f1": 0.5, "drop_points": 0.1, "drop_interval": [0.0, 0.2]},
                "latency": [cell, {**cell, "batch_size": 2, "p50_ms": 1.5}]},
               {"variant": "openvino-fp32", "peer": True, "metrics": None, "end_to_end": None, "latency": [cell]}]
    environment = {"cpu": "test cpu", "cores": 2, "threads": 2, "versions": {"onnxruntime": "1"},
                   "providers": {"fp32": ["CPUExecutionProvider"]}, "warmup": 1, "runs": 2}
    notes = ["x" * 1000] * padding
    result = SimpleNamespace(task="ner", bundle="bundle", device="cpu", partial=False, notes=["a note"],
                             environment=environment, results=results)
    result.as_dict = lambda: {"task": "ner", "results": results, "environment": environment, "padding": notes}
    return result


def test_the_table_and_markdown_show_every_row_and_mark_peers():
    result = fake_result()
    table = bench_table(result)
    assert "openvino-fp32 (peer)" in table and "+0.10 [+0.00, +0.20]" in table and "not measured" in table
    assert table.endswith("note: a note")
    markdown = bench_markdown(result)
    assert markdown.startswith("# Benchmark: ner bundle `bundle`") and "- note: a note" in markdown
    assert sum(line.startswith("| ") for line in markdown.splitlines()) == 1 + 3  # header, then three rows


def test_the_plot_is_a_png():
    assert bench_plot(fake_result())[:8] == b"\x89PNG\r\n\x1a\n"


def test_reports_are_written_whole_and_nothing_else_is_left(tmp_path):
    paths = write_reports(fake_result(), tmp_path / "out" / "report.json")
    assert [p.name for p in paths] == ["report.json", "report.md", "report.png"]
    assert json.loads(paths[0].read_text())["task"] == "ner"
    assert paths[1].read_text() == bench_markdown(fake_result()) and paths[2].read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in paths[0].parent.iterdir()) == ["report.json", "report.md", "report.png"]


# Writing past RLIMIT_FSIZE makes the kernel stop the write with SIGXFSZ, whatever code writes; the handler
# turns that into SIGKILL, so the process dies in the middle of writing report.json with no chance to tidy.
KILLED_WRITE = """
import os, resource, signal, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot  # its font cache is written before the limit
from tests.report.test_bench import fake_result
from toolkit.report.bench import write_reports

result = fake_result(padding=int(sys.argv[3]))
signal.signal(signal.SIGXFSZ, lambda *_: os.kill(os.getpid(), signal.SIGKILL))
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
write_reports(result, sys.argv[1])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE and SIGXFSZ (POSIX)")
@pytest.mark.parametrize("previous", [True, False], ids=["over-a-report", "first-report"])
def test_a_write_killed_midway_leaves_the_old_report_or_none(tmp_path, previous):
    target = tmp_path / "report.json"
    if previous:
        write_reports(fake_result(), target)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    limit, padding = 256 * 1024, 1024  # report.json is about 1 MB: the kill comes a quarter of the way in
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))}
    child = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(target), str(limit), str(padding)],
                           cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]  # killed while writing, not finished

    visible = {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.name.startswith(".")}
    assert visible == before  # the previous complete reports, byte for byte, or none at all
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert all(".tmp-" in name and not name.endswith((".json", ".md", ".png")) for name in left)
    assert list(tmp_path.glob("*.json")) == ([target] if previous else [])  # no temp file passes for a report

    write_reports(fake_result(), target)  # the next run writes whole reports and removes what the killed one left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md", "report.png"]
    assert json.loads(target.read_text())["task"] == "ner"
