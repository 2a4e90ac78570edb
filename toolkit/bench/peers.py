"""Peers: other runtimes measured beside a bundle's variants, each behind the backends' interface.

A peer offers what TorchBackend and OrtBackend offer (`logits`, `run`, `get_inputs`, `timed_call`,
`synchronize`, `input_names`, `providers`), so `toolkit bench` scores and times it on the same rows,
inputs and threads as a variant. It adds `setup_s`, the seconds spent making it ready (loading,
quantizing, compiling, first calls), which never count in its latency or end-to-end time, and
`recipe`, how it was made.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import toolkit
from toolkit.backends import OpenVinoBackend, TorchBackend
from toolkit.errors import ToolkitError
from toolkit.runtime.openvino import installed

EXTRA = f"pip install '{toolkit.DISTRIBUTION}[peers]'"


@dataclass(frozen=True)
class PeerSource:
    """What every peer may be made from: the bundle and its PyTorch checkpoint."""

    bundle: object  # toolkit.runtime.bundle.Bundle
    checkpoint_dir: Path
    model_class: str
    input_names: list[str]  # what the tokenizer gives the PyTorch model


class TorchInt8Backend(TorchBackend):
    """PyTorch's own dynamic int8: every Linear's weights in int8, activations quantized per call."""

    name = "torch-int8"
    devices = ("cpu",)  # quantized Linear kernels are CPU ones (fbgemm / onednn)
    needs = None  # the Python module the peer needs beyond the toolkit's dependencies
    reads = None  # the recipe tool of the bundle variant whose file the peer reads (None: none)
    peer = True

    def __init__(self, source: PeerSource, device: str = "cpu", threads: int | None = None):
        started = time.perf_counter()
        super().__init__(source.checkpoint_dir, source.model_class, device, threads, source.input_names)
        torch = self.torch
        with warnings.catch_warnings():
            # torch.ao.quantization is deprecated in favour of torchao (pytorch/ao#2259) but is still
            # PyTorch's built-in dynamic int8; the warnings say nothing a bench reader can act on.
            warnings.simplefilter("ignore")
            self.model = torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8)
        self.setup_s = time.perf_counter() - started
        self.recipe = {"tool": "torch.ao.quantization.quantize_dynamic", "modules": ["Linear"],
                       "weights": "int8 (per tensor)", "activations": "quantized per call",
                       "engine": torch.backends.quantized.engine}
        self.summary = "PyTorch dynamic int8 on every Linear (torch.ao.quantization.quantize_dynamic)"


class TorchCompileBackend(TorchBackend):
    """The PyTorch model compiled by inductor, with dynamic shapes: one graph serves every batch
    size and length, and inductor compiles one more for each pattern of sizes equal to 1 (it
    specializes on them)."""

    name = "torch-compile"
    devices = ("cpu", "cuda")
    needs = None
    reads = None
    peer = True

    def __init__(self, source: PeerSource, device: str = "cpu", threads: int | None = None):
        started = time.perf_counter()
        super().__init__(source.checkpoint_dir, source.model_class, device, threads, source.input_names)
        # dynamic=True rather than a graph per shape: evaluation and end-to-end batches are padded to
        # their own longest text, so per-shape graphs would recompile on almost every batch and, past
        # dynamo's recompile limit, fall back to eager without a word.
        self.model = self.torch.compile(self.model, backend="inductor", dynamic=True)
        self.compiled: set[tuple[bool, ...]] = set()
        self.setup_s = time.perf_counter() - started
        self.recipe = {"tool": "torch.compile", "backend": "inductor", "dynamic": True, "graphs": 0}
        self.summary = ("torch.compile (inductor) with dynamic shapes: one graph for all batch sizes and lengths, "
                        "one more where a size is 1")

    def _tensors(self, arrays: dict[str, np.ndarray]) -> dict:
        # Made outside inference_mode, always: a tensor made inside it has another dispatch key set,
        # which fails dynamo's guards and recompiles the model.
        return {k: self.torch.from_numpy(v).to(self.device) for k, v in arrays.items() if k in self.input_names}

    def _forward(self, inputs: dict):
        """Run the compiled model; a call that compiles a new graph counts in setup_s."""
        pattern = tuple(size == 1 for size in inputs["input_ids"].shape)
        with self.torch.inference_mode():
            if pattern in self.compiled:
                return self.model(**inputs).logits
            started = time.perf_counter()
            logits = self.model(**inputs).logits
            self.synchronize()
        self.setup_s += time.perf_counter() - started
        self.compiled.add(pattern)
        self.recipe["graphs"] = len(self.compiled)
        return logits

    def logits(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return self._forward(self._tensors(arrays)).float().cpu().numpy()

    def timed_call(self, arrays: dict[str, np.ndarray]):
        inputs = self._tensors(arrays)
        self._forward(inputs)  # compiled here if new, so no timed call ever compiles, even with --warmup 0
        torch, model = self.torch, self.model

        def call():
            with torch.inference_mode():
                return model(**inputs).logits

        return call


class OpenVinoPeer(OpenVinoBackend):
    """OpenVINO's CPU runtime reading one of the bundle's ONNX files, as the runtime's
    engine="openvino" runs it, with as many threads as the others."""

    name: str
    reads: str
    export_with: str  # what makes the variant it reads, for a note when the bundle lacks it
    devices = ("cpu",)
    needs = "openvino"
    peer = True

    def __init__(self, source: PeerSource, device: str = "cpu", threads: int | None = None):
        started = time.perf_counter()
        path = source.bundle.variant_path(peer_variant(type(self), source.bundle))
        super().__init__(self.name, path, device, threads)
        self.versions = {"openvino": self.session.version}
        products = self.session.matrix_products()
        self.recipe = {"tool": "openvino", "file": path.name,
                       "config": {k: str(v) for k, v in self.session.config.items()}, "matrix_products": products}
        self.summary = (f"OpenVINO {self.session.version.split('-')[0]} reading {path.name} (f32 precision hint), "
                        f"{products.get('int8', 0)} of {sum(products.values())} matrix products in int8")
        self.setup_s = time.perf_counter() - started


class OpenVinoFp32Backend(OpenVinoPeer):
    name = "openvino-fp32"
    reads = "optimum.exporters.onnx"  # the plain export: OpenVINO cannot read the fused graph's contrib ops
    export_with = "the default variants"


class OpenVinoInt8Backend(OpenVinoPeer):
    name = "openvino-int8"
    # ONNX Runtime's static QDQ graph, which OpenVINO runs in int8; int8-dynamic's ops it would not
    reads = "onnxruntime.quantization.quantize_static"
    export_with = "--quantize --static"


PEERS = {peer.name: peer for peer in (TorchInt8Backend, TorchCompileBackend, OpenVinoFp32Backend,
                                      OpenVinoInt8Backend)}


def peer_variant(peer, bundle) -> str | None:
    """The bundle variant whose file `peer` reads: the one made by the recipe tool it reads (None: the
    peer reads none, or the bundle has no such variant)."""
    if not peer.reads:
        return None
    return next((name for name, entry in bundle.variants.items() if entry.recipe.get("tool") == peer.reads), None)


def unavailable(peer, bundle, device: str) -> str | None:
    """Why `peer` cannot run on this bundle and device (None: it can)."""
    if device not in peer.devices:
        return f"it runs on {', '.join(peer.devices)}, not {device}"
    if peer.reads and peer_variant(peer, bundle) is None:
        return f"it reads the variant {peer.reads} makes, which the bundle lacks (export with {peer.export_with})"
    return None


def pick_peers(names: list[str] | None, bundle, device: str, notes: list[str]) -> list[type]:
    """The peer classes `--peers` asks for that can run here; the others get a note. Raises when a
    name is unknown or a peer's module is not installed."""
    wanted = list(PEERS) if names == ["all"] else list(names or [])
    unknown = [name for name in wanted if name not in PEERS]
    if unknown:
        raise ToolkitError(f"--peers {', '.join(unknown)}: unknown; choose from {', '.join(PEERS)}, or all.")
    chosen = []
    for name in wanted:
        peer = PEERS[name]
        reason = unavailable(peer, bundle, device)
        if reason:
            notes.append(f"{name} skipped: {reason}")
            continue
        if peer.needs and not installed(peer.needs):
            raise ToolkitError(f"--peers {name} needs the {peer.needs} package, which is not installed: {EXTRA}.")
        chosen.append(peer)
    return chosen
