"""Batch jobs: answer every text of a corpus into one parquet or jsonl file, locally or with Ray Data.

The output is written to `.NAME.partial` next to it and moved into place only when complete, so
an interrupted run leaves no output (and no half file to append to): running it again answers
every row once.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from toolkit.errors import DataError
from toolkit.runtime import load, load_bundle
from toolkit.serve.corpus import (
    ROW_COLUMN,
    OutputWriter,
    answer_columns,
    answers_to_table,
    count_rows,
    format_groups,
    input_files,
    open_input,
    output_kind,
    read_chunks,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobResult:
    """What a job wrote: the output file, its rows, the input files read and the time it took."""

    output_path: Path
    rows: int
    files: int
    seconds: float


def local_tables(predictor, files: list[Path], text_column: str, id_column: str | None, batch_size: int):
    """Answer tables in input order, one per chunk of `batch_size` rows, with this process's predictor."""
    for _, paths in format_groups(files):
        for chunk, path in read_chunks(paths, text_column, id_column, batch_size):
            columns = answer_columns(predictor, chunk.column(text_column).to_pylist())
            ids = chunk.column(id_column) if id_column else None
            yield answers_to_table(columns, predictor.kind, ids, id_column), path


def predict_corpus(bundle_dir: str | Path, input_path: str | Path, output_path: str | Path, text_column: str = "text",
                   id_column: str | None = None, batch_size: int = 256, overwrite: bool = False,
                   use_ray: bool = False, progress: bool = True, variant: str | None = None,
                   threads: int | None = None, aggregation: str | None = None, address: str | None = None,
                   concurrency: int = 2) -> JobResult:
    """Answer every text of a parquet/jsonl/csv file or directory into a parquet or jsonl file (by its suffix).

    `aggregation` applies to NER bundles (sentiment ones ignore it, as `toolkit predict` does);
    `use_ray` answers on Ray Data with `concurrency` actors, on the cluster at `address` or a local Ray.
    """
    from tqdm.auto import tqdm

    input_path, output_path = Path(input_path), Path(output_path)
    kind = output_kind(output_path)
    if output_path.exists() and not overwrite:
        raise DataError(f"{output_path} already exists; pass --overwrite to replace it, or another --output.")
    if batch_size < 1:
        raise DataError(f"batch_size must be >= 1, found {batch_size}; pass --chunk-size 1 or more.")
    files = input_files(input_path, skip=(output_path,))
    for path in files:  # every file's columns are checked before anything is answered
        open_input(path, text_column, id_column)
    bundle = load_bundle(bundle_dir)
    options = {"aggregation": aggregation} if aggregation is not None and "aggregation" in bundle.kind.request_options else {}
    if use_ray:
        from toolkit.serve.ray_jobs import ray_tables

        bundle.verify(variant or bundle.default_variant)  # refuse a tampered model before starting any actor
        tables = ray_tables(bundle_dir, files, text_column, id_column, batch_size, variant=variant,
                            threads=threads, address=address, concurrency=concurrency, **options)
    else:
        predictor = load(bundle_dir, variant=variant, threads=threads, **options)
        tables = local_tables(predictor, files, text_column, id_column, batch_size)

    id_name = id_column or ROW_COLUMN
    empty = answers_to_table({name: [] for name in bundle.kind.field_names}, bundle.kind,
                             pa.array([], pa.int64()), id_name)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(f".{output_path.name}.partial")
    writer = OutputWriter(partial, kind, empty)
    started = time.perf_counter()
    try:
        with tqdm(total=count_rows(files), unit="texts", disable=not progress, desc=output_path.name) as bar:
            for table, source in tables:
                if id_column is None:
                    table = table.add_column(0, ROW_COLUMN, pa.array(range(writer.rows, writer.rows + table.num_rows),
                                                                     pa.int64()))
                writer.write(table, source)
                bar.update(table.num_rows)
        writer.close()
        os.replace(partial, output_path)
    except BaseException:  # interrupted or failed: leave nothing a re-run could mistake for output
        writer.close()
        partial.unlink(missing_ok=True)
        raise
    seconds = time.perf_counter() - started
    logger.info("answered %d texts from %d files in %.1f s into %s", writer.rows, len(files), seconds, output_path)
    return JobResult(output_path=output_path, rows=writer.rows, files=len(files), seconds=seconds)
