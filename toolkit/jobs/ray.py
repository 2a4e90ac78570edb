"""The batch job on Ray Data: read the files, answer chunks on a pool of actors, hand tables back in order."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import ray

from toolkit.config import PredictConfig
from toolkit.errors import ToolkitError
from toolkit.jobs.corpus import answer_columns, answers_to_table, format_groups, input_columns
from toolkit.ray_cluster import init_ray
from toolkit.runtime import load

ACTORS = 2  # predictors in the pool, each loading the model once


class CorpusPredictor:
    """A Ray Data actor: loads the bundle once, then answers every chunk it is given."""

    def __init__(self, bundle_dir: str, text_column: str, id_column: str | None, options: dict):
        self.predictor = load(bundle_dir, **options)
        self.text_column, self.id_column = text_column, id_column

    def __call__(self, chunk: pa.Table) -> pa.Table:
        columns = answer_columns(self.predictor, chunk.column(self.text_column).to_pylist())
        ids = chunk.column(self.id_column) if self.id_column else None
        return answers_to_table(columns, self.predictor.kind, ids, self.id_column)


def read_files(paths: list[str], kind: str, text_column: str, id_column: str | None) -> ray.data.Dataset:
    """One dataset over files of one format, in order, with the text (and id) columns."""
    columns = input_columns(text_column, id_column)
    if kind == "parquet":
        return ray.data.read_parquet(paths, columns=columns)
    if kind == "csv":
        options = pacsv.ConvertOptions(column_types={text_column: pa.string()}, include_columns=columns)
        return ray.data.read_csv(paths, convert_options=options)
    return ray.data.read_json(paths).select_columns(columns)  # Arrow's reader, as the local job's: JSON lines


def wait_for_cpus(needed: float, actors: int, timeout_s: float = 60.0) -> None:
    """Wait for `needed` free CPUs (a finished job's actors take a moment to go), or raise: Ray Data would wait
    for them forever."""
    deadline = time.monotonic() + timeout_s
    while (free := ray.available_resources().get("CPU", 0.0)) < needed - 1e-6:
        if time.monotonic() > deadline:
            raise ToolkitError(f"Ray has {free:g} CPUs free, this job needs {needed:g}: one for reading and a share "
                               f"for each of its {actors} predictors. Stop other Ray work (such as a Serve "
                               "app), or give Ray more CPUs.")
        time.sleep(0.5)


def ray_tables(cfg: PredictConfig, files: list[Path], options: dict):
    """Answer tables in input order from a pool of actors, each holding one predictor made with `options`
    (toolkit.jobs.predictor_options); one ONNX Runtime thread each unless `options` name more."""
    init_ray(cfg.address)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # row numbers and the output follow the input's order
    context.enable_progress_bars = False  # the job shows one bar of its own
    # The actors must leave a whole CPU to the read tasks, or reading never starts on a small machine.
    actor_cpus = max(0.0, min(1.0, (ray.cluster_resources().get("CPU", 0.0) - 1.0) / ACTORS))
    wait_for_cpus(1.0 + actor_cpus * ACTORS, ACTORS)
    actor = {"bundle_dir": str(Path(cfg.bundle).resolve()), "text_column": cfg.text_column,
             "id_column": cfg.id_column, "options": {**options, "threads": options.get("threads") or 1}}
    # Consecutive files of one format make one dataset, answered in turn: Ray's union does not keep
    # its inputs' order, even with preserve_order.
    for kind, paths in format_groups(files):
        # Blocks of exactly one chunk, streamed: the local job's chunks (see corpus.read_chunks), and
        # work for every actor even when a file is read as one block.
        blocks = read_files([str(p) for p in paths], kind, cfg.text_column, cfg.id_column)
        dataset = blocks.repartition(target_num_rows_per_block=cfg.chunk_size, strict=True).map_batches(
            CorpusPredictor, batch_size=cfg.chunk_size, batch_format="pyarrow", fn_constructor_kwargs=actor,
            compute=ray.data.ActorPoolStrategy(size=ACTORS), num_cpus=actor_cpus)
        for table in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
            yield table, "the Ray dataset"
