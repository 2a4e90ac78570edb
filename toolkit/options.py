"""A config field's command-line option (help, type, choices, where it applies) and the checks every
config shares: collect problems, then raise them once."""

from __future__ import annotations

import argparse
import math
import dataclasses
import os
from dataclasses import MISSING, field
from pathlib import Path


def check_number(problems: list[str], flag: str, value, low=None, high=None, above=None) -> None:
    """Add a problem when `value` (None: not given) is not a finite number, is outside [low, high], or is
    not above `above` (nan compares false with every bound, so it must be caught on its own)."""
    if value is None:
        return
    if not math.isfinite(value):
        problems.append(f"{flag} must be a finite number, found {value}")
        return
    if (low is not None and value < low) or (high is not None and value > high) or (
            above is not None and value <= above):
        bounds = [f"above {above:g}" if above is not None else None, f"at least {low:g}" if low is not None else None,
                  f"at most {high:g}" if high is not None else None]
        problems.append(f"{flag} must be {' and '.join(b for b in bounds if b)}, found {value:g}")


def check_size(problems: list[str], flag: str, value) -> None:
    """Sizes are a positive whole number or 'all'."""
    if value is None or str(value).lower() == "all":
        return
    try:
        if int(value) > 0:
            return
    except ValueError:
        pass
    problems.append(f"{flag} must be a positive whole number or 'all', found {value!r}")


def raise_problems(problems: list[str]) -> None:
    """All problems of a config at once, in one line."""
    if problems:
        from toolkit.errors import ToolkitError

        raise ToolkitError("; ".join(problems) + ".")


def report_paths(json_path: Path, siblings: tuple[str, ...]) -> list[Path]:
    """A report's files: report.json at `json_path`, and one per suffix in `siblings` next to it."""
    json_path = Path(json_path)
    return [json_path, *(json_path.with_suffix(suffix) for suffix in siblings)]


def unwritable(path: Path) -> str | None:
    """Why `path` cannot be created (a file where a folder must be, or a folder this user cannot write), or None."""
    place = Path(path).absolute().parent
    while not place.exists() and place != place.parent:  # folders still to make: their nearest existing one decides
        place = place.parent
    if not place.is_dir():
        return f"{place} is a file, not a folder"
    if not os.access(place, os.W_OK | os.X_OK):
        return f"cannot write in {place}"
    return None


def inside(path: Path, directory: Path) -> bool:
    """Whether `path` is `directory` or lies in it (links resolved)."""
    path, directory = Path(path).resolve(), Path(directory).resolve()
    return path == directory or directory in path.parents


def check_output(problems: list[str], output: Path, siblings: tuple[str, ...] = (), overwrite: bool = False,
                 inputs: tuple[Path, ...] = ()) -> None:
    """An --output (with the `siblings` written next to it) must name files in a place that can be written,
    replace no file unless `overwrite`, and lie outside the directories (and files) in `inputs` the verb reads."""
    output = Path(output)
    paths = report_paths(output, siblings)
    if output.is_dir():
        problems.append(f"--output {output} is a directory: name a file such as {output / 'report.json'}")
        return
    if output.suffix in siblings:
        problems.append(f"--output {output}: the {output.suffix} report is written next to the JSON one; name a "
                        f"file such as {output.with_suffix('.json')}")
        return
    reason = unwritable(output)
    if reason:
        problems.append(f"--output {output}: {reason}; choose a writable place")
        return
    read = next((place for place in inputs if place is not None and inside(output, place)), None)
    if read is not None:
        problems.append(f"--output {output} lies in {read}, which this command reads: write the report outside it")
        return
    existing = [str(path) for path in paths if path.exists() or path.is_symlink()]
    if existing and not overwrite:
        problems.append(f"--output {output}: {', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
                        "pass --overwrite to replace, or choose another --output")


def int_list(value: str) -> list[int]:
    """Parse comma-separated integers, e.g. '1,8,32'."""
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, found {value!r}") from None


def name_list(value: str) -> list[str]:
    """Parse comma-separated names, e.g. 'fp32,int8-dynamic'."""
    return [v.strip() for v in value.split(",") if v.strip()]


def option(help: str, default=MISSING, *, type=None, choices=None, positional: bool | str = False,
           negative: tuple[str, str] | None = None, default_factory=MISSING, only: str | None = None):
    """A config field together with what its command-line option needs: help, type, choices.

    `positional` is True, or argparse's nargs for a positional that takes several values ("*").
    `negative` is (flag, help) of a second flag that sets a True-by-default boolean to False.
    `only` names the option this one applies with ("input"), or without ("not input").
    """
    metadata = {"help": help, "type": type, "choices": choices, "positional": positional, "negative": negative,
                "only": only}
    return field(default=default, default_factory=default_factory, metadata=metadata)


def flag_of(name: str) -> str:
    return "--" + name.replace("_", "-")


def applies_only(meta) -> tuple[str, bool] | None:
    """(the option a field's `only` names, whether that option must be set), or None: it always applies."""
    only = meta.get("only")
    if not only:
        return None
    return (only.removeprefix("not "), False) if only.startswith("not ") else (only, True)


def check_scopes(problems: list[str], cfg, scopes: dict[str, tuple[str, str]]) -> None:
    """Name the options given where they do not apply (see `option`'s `only`). `scopes` says, per option that
    others depend on, what setting it and leaving it unset answer, e.g. {"input": ("a corpus", "texts given
    directly")}."""
    misplaced: dict[tuple[str, bool], list[str]] = {}
    for f in dataclasses.fields(cfg):
        rule = applies_only(f.metadata)
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        if rule and getattr(cfg, f.name) != default and bool(getattr(cfg, rule[0])) != rule[1]:
            misplaced.setdefault(rule, []).append(flag_of(f.name))
    for (owner, needs_owner), flags in misplaced.items():
        with_owner, without_owner = scopes[owner]
        listed = ", ".join(flags[:-1]) + " and " + flags[-1] if len(flags) > 1 else flags[0]
        problems.append(f"{listed} apply to {with_owner}: add {flag_of(owner)}, or leave them out" if needs_owner
                        else f"{listed} apply to {without_owner}, not with {flag_of(owner)}: leave them out")
