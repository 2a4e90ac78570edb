"""Benchmark a bundle: accuracy and latency of every variant next to the PyTorch checkpoint."""

from __future__ import annotations

import logging
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

from toolkit import versions
from toolkit.backends import TorchBackend, variant_backend
from toolkit.bench.decision_check import recheck_decisions
from toolkit.bench.latency import latency_row, synthetic_inputs, time_calls
from toolkit.bench.peers import PeerSource, peer_variant, pick_peers
from toolkit.checkpoint import evaluation_set, source_checkpoint
from toolkit.config import BenchConfig
from toolkit.errors import ToolkitError
from toolkit.progress import bar
from toolkit.runtime.bundle import load_bundle
from toolkit.runtime.cpu import cpu_flags, cpu_name
from toolkit.runtime.environment import has_cuda_provider
from toolkit.runtime.openvino import INSTALL as OPENVINO_INSTALL
from toolkit.runtime.openvino import installed
from toolkit.runtime.predict import PREDICTORS
from toolkit.scoring import EVAL_BATCH_SIZE, collect_logits, drop_interval, points_lost, score

log = logging.getLogger(__name__)



@dataclass
class BenchResult:
    bundle: str
    task: str
    device: str
    environment: dict
    results: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    partial: bool = False  # interrupted: only the models in `results` were measured

    def as_dict(self) -> dict:
        return {"bundle": self.bundle, "task": self.task, "device": self.device, "partial": self.partial,
                "environment": self.environment, "results": self.results, "notes": self.notes}


def check_device(device: str) -> None:
    """Fail in one line when CUDA is asked for and cannot be used."""
    if device != "cuda":
        return
    if not has_cuda_provider():
        raise ToolkitError("--device cuda: ONNX Runtime has no CUDA execution provider here (install "
                           "onnxruntime-gpu, see README 'GPU', on a machine with an NVIDIA GPU).")
    import torch

    if not torch.cuda.is_available():
        raise ToolkitError("--device cuda: PyTorch sees no CUDA GPU on this machine; run on a GPU machine.")


def environment(cfg: BenchConfig, backends) -> dict:
    import torch

    gpu = torch.cuda.get_device_name(0) if cfg.device == "cuda" else None
    found = versions("torch", "transformers", "onnxruntime")
    for backend in backends:
        found.update(getattr(backend, "versions", {}))
    return {"cpu": cpu_name(), "cpu_flags": sorted(f for f in cpu_flags() if f.startswith(("avx", "amx", "asimd"))), "cores": os.cpu_count(), "threads": cfg.threads, "gpu": gpu,
            "device": cfg.device, "python": platform.python_version(),
            "versions": found,
            "providers": {b.name: b.providers for b in backends},
            "iobinding": cfg.device == "cuda",
            "copies_included": False if cfg.device == "cuda" else None,
            "warmup": cfg.warmup, "runs": cfg.runs,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def pick_variants(bundle, cfg: BenchConfig, notes: list[str]) -> list[str]:
    wanted = cfg.variants or list(bundle.variants)
    unknown = [v for v in wanted if v not in bundle.variants]
    if unknown:
        raise ToolkitError(f"--variants {', '.join(unknown)}: not in the bundle, which has "
                           f"{', '.join(bundle.variants)}.")
    # int8 kernels are CPU ones, fp16 is for GPUs: each variant runs where the manifest says it is meant to.
    chosen = [v for v in wanted if bundle.variants[v].runs_on(cfg.device)]
    for skipped in sorted(set(wanted) - set(chosen)):
        notes.append(f"{skipped} skipped on {cfg.device}: it is meant for "
                     f"{', '.join(bundle.variants[skipped].devices)}")
    on_openvino = [v for v in chosen if bundle.engine_of(v) == "openvino"]
    if on_openvino and not installed("openvino"):
        for skipped in on_openvino:
            notes.append(f"{skipped} skipped: it runs on OpenVINO, which is not installed ({OPENVINO_INSTALL})")
            chosen.remove(skipped)
    return chosen


def measure_latency(backend, cfg: BenchConfig, vocab_size: int, max_length: int, notes: list[str],
                    progress=None) -> list[dict]:
    rows = []
    for seq_len in cfg.seq_lens:
        if seq_len > max_length:
            if backend.name == "pytorch":
                notes.append(f"seq_len {seq_len} skipped: the model takes at most {max_length} tokens")
            continue
        for batch_size in cfg.batch_sizes:
            arrays = synthetic_inputs(batch_size, seq_len, vocab_size, backend.input_names)
            call = backend.timed_call(arrays)
            rows.append(latency_row(batch_size, seq_len, time_calls(call, cfg.warmup, cfg.runs, backend.synchronize)))
            if progress is not None:
                progress.set_postfix_str(f"{backend.name} b{batch_size} x {seq_len}")
                progress.update(1)
    return rows


def end_to_end(bundle, backend, texts: list[str]) -> dict:
    """Raw text in, answers out, through the runtime's predictor with this backend's model."""
    predictor = PREDICTORS[bundle.kind](bundle, session=backend, batch_size=EVAL_BATCH_SIZE)
    setup_before = getattr(backend, "setup_s", 0.0)
    started = time.perf_counter()
    predictor(texts)
    # a peer compiling a graph for a shape not met before counts that in setup_s, not here
    seconds = time.perf_counter() - started - (getattr(backend, "setup_s", 0.0) - setup_before)
    return {"examples": len(texts), "seconds": round(seconds, 3), "examples_per_s": len(texts) / seconds}


def bench(cfg: BenchConfig, echo=lambda line: None) -> BenchResult:
    """Measure accuracy and latency of PyTorch, of every bundle variant and of the peers asked for, on one
    device.

    `echo` receives the plan before anything is measured. Ctrl-C stops the measuring and returns
    what was measured so far, marked partial, so a report can still be written."""
    cfg.check()
    bundle = load_bundle(cfg.bundle)
    check_device(cfg.device)
    result = BenchResult(bundle=str(cfg.bundle), task=bundle.task, device=cfg.device, environment={})
    variants = pick_variants(bundle, cfg, result.notes)
    peers = pick_peers(cfg.peers, bundle, cfg.device, result.notes)
    for variant in variants + [peer_variant(peer, bundle) for peer in peers if peer.reads]:
        bundle.verify(variant)  # a tampered or truncated model is never benchmarked
    checkpoint, problem = source_checkpoint(bundle, Path(cfg.checkpoint) if cfg.checkpoint else None)
    if checkpoint is None:
        raise ToolkitError(f"{problem}: bench measures every variant against it; pass --checkpoint DIR.")
    checkpoint_dir = checkpoint.directory
    evaluation = evaluation_set(checkpoint, max_length=bundle.max_length, dataset=cfg.dataset,
                                split=cfg.split, eval_size=cfg.eval_size)
    if evaluation is None:
        result.notes.append("no evaluation data (pass --dataset): accuracy and end-to-end not measured")
    else:
        result.environment["evaluation"] = evaluation.description
    backends = [TorchBackend(checkpoint_dir, checkpoint.task.model_class, cfg.device, cfg.threads)]
    backends += [variant_backend(bundle, v, cfg.device, cfg.threads) for v in variants]
    source = PeerSource(bundle, checkpoint_dir, checkpoint.task.model_class, backends[0].input_names)
    backends += [peer(source, cfg.device, cfg.threads) for peer in peers]
    vocab_size = int(getattr(checkpoint.config, "vocab_size", 30522))
    lengths = [n for n in cfg.seq_lens if n <= bundle.max_length]
    cells = len(backends) * len(lengths) * len(cfg.batch_sizes)
    echo(f"bench: {len(backends)} models ({', '.join(b.name for b in backends)}) x {len(cfg.batch_sizes)} batch "
         f"sizes x {len(lengths)} lengths, {cfg.warmup} warm-up + {cfg.runs} timed calls each"
         + (f"; accuracy and end-to-end on {evaluation.description['examples']} evaluation rows per model"
            if evaluation is not None else "") + ". Ctrl-C stops and keeps what was measured.")
    progress = bar(cells + (2 * len(backends) if evaluation is not None else 0), "bench", unit="step")
    try:
        measure_all(backends, cfg, checkpoint, evaluation, bundle, vocab_size, result, progress)
    except KeyboardInterrupt:
        result.partial = True
        result.notes.append("interrupted (Ctrl-C): this report holds only what was measured before")
    finally:
        progress.close()
    result.environment.update(environment(cfg, backends))
    return result


def measure_all(backends, cfg: BenchConfig, checkpoint, evaluation, bundle, vocab_size: int, result: BenchResult,
                progress) -> None:
    """Measure every backend in turn, appending each one's entry to `result` when it is complete."""
    reference = None  # PyTorch's logits: every variant's loss is measured against them, on the same rows
    logits_by_name = {}  # for re-taking export's default decision on this machine
    for backend in backends:
        log.info("benchmarking %s", backend.name)
        peer = getattr(backend, "peer", False)
        entry = {"variant": backend.name, "peer": peer, "providers": backend.providers, "metrics": None,
                 "latency": [], "end_to_end": None}
        if evaluation is not None:
            logits = collect_logits(backend.logits, evaluation.features, EVAL_BATCH_SIZE, backend.input_names)
            metrics = score(checkpoint.task, logits, evaluation.features, checkpoint.labels, checkpoint.decoding)
            metrics.pop("per_type", None)
            reference = reference or (logits, metrics)
            logits_by_name["pytorch" if backend is backends[0] else backend.name] = logits
            metric = checkpoint.task.primary_metric
            metrics["drop_points"] = points_lost(reference[1][metric], metrics[metric])
            metrics["drop_interval"] = list(drop_interval(checkpoint.task, reference[0], logits, evaluation.features,
                                                          checkpoint.labels, checkpoint.decoding))
            entry["metrics"] = metrics
            progress.update(1)
            entry["end_to_end"] = end_to_end(bundle, backend, evaluation.texts)
            progress.update(1)
        entry["latency"] = measure_latency(backend, cfg, vocab_size, bundle.max_length,
                                           result.notes, progress)
        if peer:
            entry["setup_s"] = round(backend.setup_s, 3)
            entry["recipe"] = backend.recipe
            result.notes.append(f"{backend.name} (peer): {backend.summary}; {backend.setup_s:.1f} s to set up "
                                "(load, quantize or compile, first calls), not in its latency")
        result.results.append(entry)
    if evaluation is not None:
        by_name = {"pytorch" if b is backends[0] else b.name: b for b in backends}
        max_drop = (bundle.manifest.options or {}).get("max_drop", 0.5)
        here, notes = recheck_decisions(bundle, checkpoint, evaluation, by_name, logits_by_name, max_drop)
        result.environment["decisions_here"] = here
        if here and not notes:
            verdicts = ", ".join(f"{name}: {d['verdict']} on {d['rows']:,} rows" for name, d in here.items())
            notes = [f"the default decision holds on this CPU ({verdicts})"]
        result.notes += notes
