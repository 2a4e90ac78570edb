"""A bundle's ONNX file run by OpenVINO's CPU runtime instead of ONNX Runtime: `load(..., engine="openvino")`.

OpenVINO reads the ONNX file directly and runs a QDQ graph with int8 kernels for every matrix
product, attention's included. The int8-openvino variant (NNCF's quantization, made for it) runs
so at 4.0 ms against int8-dynamic's 6.4 ms on ONNX Runtime for the MiniLM NER bundle at batch 1 x
128 tokens (AVX-512 VNNI Xeon, 2 threads; bench/README.md "Peers"), at the same F1. The session offers what
the predictors use of ONNX Runtime's (`run`, `get_inputs`, `get_outputs`, `get_providers`), so
nothing else changes. The openvino package is optional (the `[openvino]` extra).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.runtime.errors import BundleError, OptionError
from toolkit.runtime.manifest import ENGINES  # noqa: F401 - imported from here by predict, config and package
INSTALL = "pip install 'onnxbert-toolkit[openvino]'"


def installed(module: str) -> bool:
    """Whether `module` imports (openvino, or nncf for export): extras are optional."""
    try:
        __import__(module)
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Port:
    """A model input or output as ONNX Runtime describes one: its name and shape."""

    name: str
    shape: list


def ports(openvino_ports) -> list[Port]:
    """Names and shapes; a dynamic dimension reads as a string, as ONNX Runtime gives it."""
    return [Port(port.get_any_name(), [d.get_length() if d.is_static else str(d) for d in port.get_partial_shape()])
            for port in openvino_ports]


class OpenVinoSession:
    """One OpenVINO compiled model on the CPU, at fp32 precision where the graph is fp32 (OpenVINO
    would otherwise use bf16 on AMX or AVX512-BF16 CPUs, and answers would depend on the CPU), tuned
    for latency, with `threads` inference threads. Each thread gets its own infer request, so threads
    may share the session as they share an ONNX Runtime one."""

    def __init__(self, path: Path, threads: int | None = None):
        try:
            import openvino
        except ImportError as error:
            raise OptionError(f"engine='openvino' needs the openvino package, which is not installed: {INSTALL}, "
                              "or use engine='onnxruntime'.") from error
        self.config = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}
        if threads:
            self.config["INFERENCE_NUM_THREADS"] = threads
        core = openvino.Core()
        try:
            self.compiled = core.compile_model(core.read_model(str(path)), "CPU", self.config)
        except Exception as error:  # noqa: BLE001 - OpenVINO raises its own types for a damaged graph
            raise BundleError(f"{path} cannot be loaded by OpenVINO ({(str(error).splitlines() or [''])[0][:200]}): "
                              "re-export the bundle, or use engine='onnxruntime'.") from error
        self.version = openvino.__version__
        self._requests = threading.local()
        self.input_names = [port.get_any_name() for port in self.compiled.inputs]

    def get_inputs(self) -> list[Port]:
        return ports(self.compiled.inputs)

    def get_outputs(self) -> list[Port]:
        return ports(self.compiled.outputs)

    def get_providers(self) -> list[str]:
        return ["openvino-CPU"]

    def run(self, output_names, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        request = getattr(self._requests, "request", None)
        if request is None:  # one per thread, kept: making one allocates its buffers anew
            request = self._requests.request = self.compiled.create_infer_request()
        results = request.infer({name: feeds[name] for name in self.input_names})
        names = output_names or [port.get_any_name() for port in self.compiled.outputs]
        return [np.asarray(results[self.compiled.output(name)]) for name in names]

    def matrix_products(self) -> dict[str, int]:
        """How many of the compiled model's matrix products run at each precision ('int8' for u8/i8)."""
        counts: dict[str, int] = {}
        for op in self.compiled.get_runtime_model().get_ordered_ops():
            info = op.get_rt_info()
            if info["layerType"].astype(str) not in ("FullyConnected", "MatMul", "Convolution"):
                continue
            precision = info["runtimePrecision"].astype(str)
            precision = "int8" if precision in ("u8", "i8") else precision
            counts[precision] = counts.get(precision, 0) + 1
        return counts
