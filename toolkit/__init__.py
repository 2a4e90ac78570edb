"""Fine-tune BERT-family models and ship them as fast, verified ONNX bundles."""

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "onnxbert-toolkit"  # the name pyproject.toml gives the distribution

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"


def versions(*libraries: str) -> dict[str, str]:
    """The toolkit's version and each named library's (toolkit.runtime.environment.library_versions)."""
    from toolkit.runtime.environment import library_versions

    return {"toolkit": __version__, **library_versions(*libraries)}
