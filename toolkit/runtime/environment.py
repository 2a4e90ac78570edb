"""What this machine's libraries offer: ONNX Runtime's CUDA provider, and the versions a manifest,
a bench report or a server's metadata records."""

from __future__ import annotations

import importlib
import platform

CUDA_PROVIDER = "CUDAExecutionProvider"
# Where a library keeps its version when its top-level module does not.
VERSION_MODULES = {"optimum": "optimum.version"}


def available_providers() -> list[str]:
    """ONNX Runtime's execution providers in this install (the CPU one always)."""
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def has_cuda_provider() -> bool:
    """Whether this onnxruntime can run on an NVIDIA GPU (onnxruntime-gpu); a GPU may still be missing."""
    return CUDA_PROVIDER in available_providers()


def library_versions(*names: str) -> dict[str, str]:
    """The version of each named library ("python": the interpreter's), imported to ask it."""
    found = {}
    for name in names:
        if name == "python":
            found[name] = platform.python_version()
        else:
            found[name] = importlib.import_module(VERSION_MODULES.get(name, name)).__version__
    return found
