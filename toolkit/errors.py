"""Errors the CLI turns into one clear line and exit code 1."""


class ToolkitError(Exception):
    """A problem the user can fix; the message says what was expected, found, and how to fix it."""


class DataError(ToolkitError):
    """A dataset that is missing, malformed or does not fit the task."""


class ModelError(ToolkitError):
    """A model or checkpoint that is missing, unsupported or unreachable."""


class BundleError(ToolkitError):
    """An export bundle that is missing files, tampered with or of an unknown format."""


class ParityError(ToolkitError):
    """An ONNX variant whose outputs differ from PyTorch beyond tolerance."""
