"""One look for every long step: a tqdm bar with what it is doing and an estimate of the time left
(the bar Trainer shows too). Quiet off a terminal, or everywhere after `toolkit --quiet`."""

from __future__ import annotations

import os
import sys

QUIET_ENV = "TOOLKIT_QUIET"  # set by `toolkit --quiet`; read here so that library code needs no flag


def shows_progress() -> bool:
    """True when progress bars (and Trainer's running loss) may be drawn: on a terminal, without --quiet.

    A log file or a pipe gets the results only: a bar redrawn there is a wall of carriage returns."""
    return os.environ.get(QUIET_ENV) != "1" and sys.stderr.isatty()


def bar(total: int | None, desc: str, unit: str = "step"):
    """A progress bar over `total` units; call .update(n), .set_postfix_str(...), .close()."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not shows_progress(), dynamic_ncols=True)
