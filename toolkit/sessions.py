"""Callables that run a padded batch through PyTorch or ONNX Runtime and return logits."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def torch_runner(model, device: str = "cpu"):
    """Run a transformers model on int64 numpy inputs; returns fp32 numpy logits."""
    import torch

    def run(arrays: dict[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            inputs = {k: torch.from_numpy(v).to(device) for k, v in arrays.items()}
            return model(**inputs).logits.float().cpu().numpy()

    return run


def ort_session(path: Path, provider: str = "CPUExecutionProvider", threads: int | None = None):
    """An ONNX Runtime session on one execution provider, with all graph optimizations on."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=[provider])


def onnx_runner(path: Path, provider: str = "CPUExecutionProvider", threads: int | None = None):
    """Run an ONNX model on int64 numpy inputs; feeds only the inputs the graph declares."""
    session = ort_session(path, provider, threads)
    names = [i.name for i in session.get_inputs()]

    def run(arrays: dict[str, np.ndarray]) -> np.ndarray:
        return session.run(["logits"], {n: arrays[n] for n in names})[0]

    return run
