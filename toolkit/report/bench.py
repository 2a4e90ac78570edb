"""What `toolkit bench` shows and writes: the terminal table, report.json, report.md and report.png."""

from __future__ import annotations

import io
import json
from pathlib import Path

from toolkit.config import BENCH_REPORTS
from toolkit.report import NOT_MEASURED, format_cell, format_table, one_decimal
from toolkit.report.export import drop_text
from toolkit.options import report_paths
from toolkit.staging import write_file

PEER_MARK = " (peer)"
BENCH_HEADER = ["variant", "f1", "accuracy", "pts lost [95%]", "batch", "seq", "p50_ms", "p90_ms", "p99_ms",
                "seq/s", "e2e_ex/s"]


def row_name(entry: dict) -> str:
    """A result's name as the table, Markdown and plot show it: peers are marked as such."""
    return entry["variant"] + (PEER_MARK if entry.get("peer") else "")


def bench_rows(result) -> list[list]:
    """One row per variant and latency cell: metrics, points lost against PyTorch, percentiles, throughput."""
    rows = []
    for entry in result.results:
        metrics = entry["metrics"] or {}
        e2e = (entry["end_to_end"] or {}).get("examples_per_s")
        for i, cell in enumerate(entry["latency"] or [{}]):
            first = i == 0
            rows.append([
                row_name(entry) if first else "",
                metrics.get("f1") if first else None, metrics.get("accuracy") if first else None,
                (drop_text(metrics) if metrics else NOT_MEASURED) if first else None,
                cell.get("batch_size"), cell.get("seq_len"), *map(one_decimal, (cell.get("p50_ms"), cell.get("p90_ms"),
                                                                   cell.get("p99_ms"), cell.get("throughput"))),
                one_decimal(e2e) if first else None,
            ])
    return rows


def bench_table(result) -> str:
    """The terminal table of `toolkit bench`, with notes below it."""
    env = result.environment
    lines = [("PARTIAL (interrupted) " if result.partial else "") + f"{result.task} bundle {result.bundle} on "
             f"{result.device}: {env.get('cpu')}, {env.get('threads')} threads" + (f", {env['gpu']}" if env.get("gpu") else ""),
             format_table(BENCH_HEADER, bench_rows(result))]
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines)


def bench_markdown(result) -> str:
    """A Markdown report: environment, then the same table as the terminal's."""
    env = result.environment
    header = "| " + " | ".join(BENCH_HEADER) + " |"
    rule = "|" + "---|" * len(BENCH_HEADER)
    body = ["| " + " | ".join(format_cell(c) for c in row) + " |" for row in bench_rows(result)]
    return "\n".join([
        f"# Benchmark: {result.task} bundle `{result.bundle}`" + (" (PARTIAL: interrupted)" if result.partial else ""),
        "",
        f"- device: {result.device}; CPU: {env.get('cpu')} ({env.get('cores')} cores), threads: {env.get('threads')}"
        + (f"; GPU: {env['gpu']} (IO binding, copies excluded)" if env.get("gpu") else ""),
        f"- versions: {', '.join(f'{k} {v}' for k, v in env.get('versions', {}).items())}",
        f"- providers: {', '.join(f'{k}: {v}' for k, v in env.get('providers', {}).items())}",
        f"- latency: {env.get('warmup')} warm-up then {env.get('runs')} timed runs on identical synthetic inputs; "
        "e2e: raw text in, answers out, length-sorted batches of 32",
        *(["- peers: other runtimes on the same rows, inputs and threads; their set-up time is in the notes, "
            "not in their latency"] if any(e.get("peer") for e in result.results) else []), "",
        header, rule, *body, "", *[f"- note: {n}" for n in result.notes], ""])


def bench_plot(result) -> bytes:
    """A PNG of latency (p50) against batch size, one line per variant and sequence length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for entry in result.results:
        for seq_len in sorted({c["seq_len"] for c in entry["latency"]}):
            cells = sorted((c for c in entry["latency"] if c["seq_len"] == seq_len), key=lambda c: c["batch_size"])
            axis.plot([c["batch_size"] for c in cells], [c["p50_ms"] for c in cells], marker="o",
                      linestyle="--" if entry.get("peer") else "-", label=f"{row_name(entry)} (seq {seq_len})")
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    axis.set_xlabel("batch size")
    axis.set_ylabel("p50 latency (ms)")
    axis.set_title(f"{result.task}: latency on {result.device} ({result.environment.get('threads')} threads)")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, format="png", dpi=120)
    plt.close(figure)
    return image.getvalue()


def write_reports(result, json_path) -> list[Path]:
    """Write report.json, and report.md and report.png next to it, each atomically; return the paths."""
    json_path = Path(json_path)
    paths = report_paths(json_path, BENCH_REPORTS)  # .md, then .png
    contents = [json.dumps(result.as_dict(), indent=2) + "\n", bench_markdown(result), bench_plot(result)]
    for path, content in zip(paths, contents):  # rendered first: a renderer's failure leaves no file changed
        write_file(path, content)
    return paths
