"""Time a model call: warm-up, repeated runs, percentiles, on identical synthetic inputs."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np


def percentiles(timings_ms: list[float]) -> dict:
    """p50/p90/p99 of timings in milliseconds (linear interpolation, as numpy does)."""
    values = np.asarray(timings_ms, dtype=np.float64)
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return {"p50_ms": float(p50), "p90_ms": float(p90), "p99_ms": float(p99), "mean_ms": float(values.mean())}


def time_calls(call: Callable[[], object], warmup: int, runs: int,
               synchronize: Callable[[], None] = lambda: None) -> list[float]:
    """Milliseconds of `runs` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    synchronize()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        synchronize()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def synthetic_inputs(batch_size: int, seq_len: int, vocab_size: int, input_names: list[str],
                     seed: int = 0) -> dict[str, np.ndarray]:
    """Random token ids (past the special tokens) with a full attention mask: same for every model."""
    rng = np.random.default_rng(seed)
    first_word = min(1000, vocab_size // 10)  # BERT vocabularies keep special and unused ids below 1000
    ids = rng.integers(first_word, vocab_size, size=(batch_size, seq_len), dtype=np.int64)
    arrays = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    return {name: arrays[name] for name in input_names}


def latency_row(batch_size: int, seq_len: int, timings_ms: list[float]) -> dict:
    """One row of the report: percentiles and sequences per second at the median."""
    stats = percentiles(timings_ms)
    return {"batch_size": batch_size, "seq_len": seq_len, **stats,
            "throughput": batch_size / (stats["p50_ms"] / 1000) if stats["p50_ms"] > 0 else 0.0,
            "runs": len(timings_ms)}
