"""`toolkit predict`: texts given directly or on stdin (the protocol in `toolkit.jobs.stdin`), or every
text of a corpus answered into one parquet or jsonl file, in this process or on Ray Data.

    from toolkit.config import PredictConfig
    from toolkit.jobs import predict_corpus
    predict_corpus(PredictConfig("exports/ner-minilm", input=Path("texts.parquet"), output=Path("answers.parquet")))

Importing this package is light: pyarrow and tqdm (`pip install 'onnxbert-toolkit[serve]'`) and Ray
(`'onnxbert-toolkit[ray]'`) load with a corpus job.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from toolkit.config import PredictConfig
from toolkit.errors import ToolkitError
from toolkit.runtime import load
from toolkit.runtime.answers import AnswerKind

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobResult:
    """What a job wrote: the output file, its rows, the input files read and the time it took."""

    output_path: Path
    rows: int
    files: int
    seconds: float


def load_predictor(cfg: PredictConfig):
    """The bundle's predictor for texts given directly, with the options `toolkit predict` was given."""
    predictor = load(cfg.bundle, variant=cfg.variant, verify=not cfg.no_verify, batch_size=cfg.batch_size,
                     threads=cfg.threads, engine=cfg.engine)
    if "aggregation" in predictor.kind.request_options:
        predictor.aggregation = cfg.aggregation
    return predictor


def predictor_options(cfg: PredictConfig, kind: AnswerKind) -> dict:
    """What each predictor of a corpus job is loaded with: the variant, threads, and the request options
    its kind takes (sentiment takes no aggregation)."""
    options = {"variant": cfg.variant, "threads": cfg.threads}
    if "aggregation" in kind.request_options:
        options["aggregation"] = cfg.aggregation
    return options


def predict_corpus(cfg: PredictConfig) -> JobResult:
    """Answer every text of `cfg.input` (a parquet/jsonl/csv file or a directory of them) into `cfg.output`
    (parquet or jsonl, by its suffix), on Ray Data with `cfg.ray`."""
    cfg.check()
    if cfg.input is None:
        raise ToolkitError("a corpus job reads --input: name a parquet, jsonl or csv file, or a directory of them.")
    from toolkit.jobs.corpus import check_job, local_tables, write_answers
    from toolkit.runtime import load_bundle

    files = check_job(cfg)  # every file's columns are checked before anything is answered
    bundle = load_bundle(cfg.bundle)
    options = predictor_options(cfg, bundle.kind)
    if cfg.ray:
        from toolkit.jobs.ray import ray_tables

        bundle.verify(cfg.variant or bundle.default_variant)  # refuse a tampered model before starting any actor
        tables = ray_tables(cfg, files, options)
    else:
        tables = local_tables(load(cfg.bundle, **options), files, cfg)
    started = time.perf_counter()
    rows = write_answers(tables, cfg, bundle.kind, files)
    seconds = time.perf_counter() - started
    logger.info("answered %d texts from %d files in %.1f s into %s", rows, len(files), seconds, cfg.output)
    return JobResult(output_path=Path(cfg.output), rows=rows, files=len(files), seconds=seconds)
