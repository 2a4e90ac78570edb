"""Decide quickly whether the Hugging Face hub can be used, instead of retrying for minutes."""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path

from toolkit.errors import ToolkitError

HUB_HOST = "huggingface.co"


def looks_like_path(name: str) -> bool:
    """Tell a local path from a hub id: paths start with '.', '/', '~' or name an existing file."""
    return name.startswith((".", "/", "~")) or Path(name).exists()


def offline_mode() -> bool:
    """True when the user asked for the hub cache only (HF_HUB_OFFLINE=1)."""
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


@lru_cache(maxsize=1)
def hub_reachable(timeout_s: float = 3.0) -> bool:
    """One TCP connect to the hub with a short timeout; huggingface_hub itself retries for minutes."""
    try:
        socket.create_connection((HUB_HOST, 443), timeout=timeout_s).close()
        return True
    except OSError:
        return False


def require_hub(name: str, what: str, flag: str) -> None:
    """Raise a clear error when `name` must come from the hub and the hub cannot be reached."""
    if offline_mode() or hub_reachable():
        return
    raise ToolkitError(
        f"{what} {name!r} is not an existing local path, and the Hugging Face hub ({HUB_HOST}) "
        f"cannot be reached to fetch it: pass a local directory with {flag} DIR instead."
    )
