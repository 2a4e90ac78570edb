"""Every `toolkit` command the README and bench/README show names a verb and options that exist:
each is parsed by the CLI's own parser (running them needs the real data and hours; the two top
commands run as written in CI and in a fresh clone)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from toolkit.cli import build_parser
from toolkit.tasks import TASKS

ROOT = Path(__file__).resolve().parents[1]


def shown_commands(path: Path) -> list[str]:
    """`toolkit ...` commands in the bash blocks of a Markdown file, continuation lines joined,
    comments dropped, and `[--optional]` parts kept as if given."""
    commands, block = [], False
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        if line.startswith("```"):
            block = line.startswith("```bash")
            continue
        if not block:
            continue
        for part in re.split(r"&&|;", line.split(" # ")[0].split("  #")[0]):
            part = part.strip()
            if part.startswith("toolkit "):
                commands.append(re.sub(r"\[([^\]]*)\]", r"\1", part))
    return commands


COMMANDS = shown_commands(ROOT / "README.md") + shown_commands(ROOT / "bench" / "README.md")


def test_the_readme_shows_commands_of_every_verb():
    verbs = {shlex.split(c)[1] for c in COMMANDS}
    assert {"train", "export", "bench", "evaluate", "serve", "predict", "package", "data"} <= verbs


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_shown_parses(command):
    argv = shlex.split(command)[1:]
    words = [a for a in argv if not a.startswith("-")]
    task = next((w for w in words[1:] if w in TASKS), None) if words[:1] == ["train"] else None
    try:
        build_parser(task).parse_args(argv)
    except SystemExit as error:
        pytest.fail(f"{command!r} does not parse: exit {error.code}")
