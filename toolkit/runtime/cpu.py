"""What the CPU this process runs on can do, and whether an int8 model was built for it.

Int8 recipes differ by target (as Optimum names them: avx2, avx512_vnni, arm64): full 8-bit
weights are exact on CPUs with VNNI or ARM dot products, but AVX2's U8S8 kernel adds pairs of
products in 16 bits and can saturate with them; 7-bit weights (`portable`) are safe everywhere.
"""

from __future__ import annotations

import platform
import warnings
from functools import lru_cache
from pathlib import Path

# target -> what the CPU must have for the recipe to compute what export checked (None: anything)
TARGET_NEEDS = {
    "portable": None,
    "avx2": None,
    "avx512_vnni": ("avx512_vnni", "avx_vnni", "amx_int8"),
    "arm64": ("asimddp", "dotprod"),  # /proc/cpuinfo "Features" of ARM cores with SDOT/UDOT
}
QUANTIZE_TARGETS = tuple(TARGET_NEEDS)
# The flags int8 kernels depend on: what a decision or a measurement names beside its numbers.
INT8_FLAGS = frozenset({"avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp"})


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where it cannot be read)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


@lru_cache(maxsize=1)
def cpu_name() -> str:
    """The CPU's model name, as /proc/cpuinfo gives it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_runs(target: str, flags: frozenset[str] | None = None) -> bool:
    """True when a CPU with `flags` (default: this one) computes `target`'s int8 recipe as intended."""
    needs = TARGET_NEEDS.get(target)
    if needs is None:
        return True
    return bool(set(needs) & (cpu_flags() if flags is None else flags))


@lru_cache(maxsize=None)
def warn_if_not_built_for_this_cpu(target: str | None, variant: str) -> None:
    """Warn once per (target, variant) when this CPU lacks what the variant's int8 recipe assumes."""
    if target and not cpu_runs(target):
        warnings.warn(f"variant {variant!r} was quantized for {target} CPUs, and this CPU ({cpu_name()}) lacks "
                      f"{' / '.join(TARGET_NEEDS[target])}: its int8 products can saturate, so answers may differ "
                      "from what export checked. Re-export with --quantize-for portable for this machine.",
                      RuntimeWarning, stacklevel=3)
