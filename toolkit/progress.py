"""One look for every long step: a tqdm bar with what it is doing and an estimate of the time left
(the bar Trainer shows too). Quiet off a terminal, or everywhere after `toolkit --quiet`."""

from __future__ import annotations

import os

QUIET_ENV = "TOOLKIT_QUIET"  # set by `toolkit --quiet`; read here so that library code needs no flag


def bar(total: int, desc: str, unit: str = "step"):
    """A progress bar over `total` units; call .update(n), .set_postfix_str(...), .close()."""
    from tqdm.auto import tqdm

    quiet = os.environ.get(QUIET_ENV) == "1"
    return tqdm(total=total, desc=desc, unit=unit, disable=True if quiet else None, dynamic_ncols=True)
