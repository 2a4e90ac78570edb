"""Texts waiting for a model run, taken so that no request stalls the others (fair queueing).

Each request's texts wait in a line of their own. A run takes its texts one at a time from the line
that has had the least model time so far, counted in characters (what a text costs the model to
read), and stops at a budget of texts and characters. So a one-sentence request that arrives behind
a request of 256 long texts is in the very next run, and two long requests share the model alike.
A new line starts level with the least-served line waiting, so that it neither jumps a long wait
nor waits for all of it; at a tie the line that has had less since it arrived goes first.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class Waiting:
    """One text waiting for its answer."""

    text: str
    future: asyncio.Future

    @property
    def cost(self) -> int:
        return len(self.text) + 1  # an empty text still takes a place in a run


@dataclass(eq=False)
class Line:
    """One request's texts still waiting, and how much model time the request has had."""

    texts: list[Waiting]
    aggregation: str | None
    served: int  # characters run so far, counted from the level the line started at
    start: int  # that level
    arrived: float = field(default_factory=time.monotonic)
    taken: int = 0  # texts of `texts` already taken into runs

    @property
    def head(self) -> Waiting:
        return self.texts[self.taken]

    @property
    def left(self) -> list[Waiting]:
        return self.texts[self.taken:]

    def priority(self) -> tuple:
        return self.served, self.served - self.start, self.arrived


class FairQueue:
    """Lines of waiting texts, one per request, and the rule that takes the next run from them."""

    def __init__(self):
        self._lines: list[Line] = []

    def __len__(self) -> int:
        """Texts waiting."""
        return sum(len(line.texts) - line.taken for line in self._lines)

    def add(self, texts: list[Waiting], aggregation: str | None) -> Line | None:
        """Queue one request's texts (None: it has none here)."""
        if not texts:
            return None
        level = min((line.served for line in self._lines), default=0)
        line = Line(texts, aggregation, served=level, start=level)
        self._lines.append(line)
        return line

    def remove(self, line: Line | None) -> int:
        """Drop what is left of a request whose caller went away; returns how many texts were dropped."""
        if line is None or line not in self._lines:
            return 0
        self._lines.remove(line)
        return len(line.texts) - line.taken

    def _next_lines(self) -> list[Line]:
        """The lines the next run takes from: those of the least-served line's aggregation."""
        first = min(self._lines, key=Line.priority)
        return [line for line in self._lines if line.aggregation == first.aggregation]

    def oldest(self) -> float | None:
        """When the oldest text the next run may take arrived (None: nothing waits)."""
        return min(line.arrived for line in self._next_lines()) if self._lines else None

    def full(self, max_texts: int, max_chars: int) -> bool:
        """Whether a whole run of `max_texts` texts or `max_chars` characters is waiting."""
        if not self._lines:
            return False
        left = [text for line in self._next_lines() for text in line.left]
        return len(left) >= max_texts or sum(text.cost for text in left) >= max_chars

    def take(self, max_texts: int, max_chars: int) -> tuple[str | None, list[Waiting]]:
        """The next run: its aggregation and up to `max_texts` texts of together at most `max_chars` characters
        (a longer text runs alone), each from the least-served line at the time it is taken."""
        if not self._lines:
            return None, []
        lines = self._next_lines()
        aggregation, run, chars = lines[0].aggregation, [], 0
        while lines and len(run) < max_texts:
            line = min(lines, key=Line.priority)
            text = line.head
            if run and chars + text.cost > max_chars:
                lines.remove(line)
                continue
            line.taken += 1
            line.served += text.cost
            chars += text.cost
            run.append(text)
            if line.taken == len(line.texts):
                lines.remove(line)
                self._lines.remove(line)
        return aggregation, run
