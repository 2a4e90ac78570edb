"""Errors the CLI turns into one clear line and exit code 1."""

from toolkit.runtime.errors import BundleError, OptionError, ToolkitError

__all__ = ["ToolkitError", "BundleError", "OptionError", "DataError", "ModelError", "ParityError"]


class DataError(ToolkitError):
    """A dataset that is missing, malformed or does not fit the task."""


class ModelError(ToolkitError):
    """A model or checkpoint that is missing, unsupported or unreachable."""


class ParityError(ToolkitError):
    """An ONNX variant whose outputs differ from PyTorch beyond tolerance."""
