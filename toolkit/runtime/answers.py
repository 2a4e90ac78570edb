"""What a predictor answers, as a type: serve, corpus jobs, evaluation and the reports ask the kind
(its request options, its answer's fields) instead of matching the manifest's `decode` string.

A third answer kind is one more `AnswerKind` here, its predictor in `predict.py`, and a row in each
table keyed by kind (evaluation's analyses, the report's sections).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from toolkit.runtime.entities import STRATEGIES


@dataclass(frozen=True, eq=False)  # one instance per kind: compared and hashed by identity
class AnswerKind:
    """One kind of answer: entities in a text, or one label for a text."""

    name: str  # the manifest's `decode` value
    # Options a caller may set per request (serve's body, `toolkit predict --aggregation`), with their
    # allowed values.
    request_options: dict[str, tuple[str, ...]]
    # One answer as flat named fields, each with its type ("entity_list" | "string" | "float"), for
    # tables: a corpus job's output columns.
    fields: tuple[tuple[str, str], ...]
    to_fields: Callable[[object], tuple]
    # Predictor attributes that shape its answers, reported by serve's /v1/metadata.
    settings: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.name

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    def row(self, answer) -> dict:
        """One answer as {field: value}."""
        return dict(zip(self.field_names, self.to_fields(answer)))


ENTITIES = AnswerKind(
    name="entities",
    request_options={"aggregation": STRATEGIES},
    fields=(("entities", "entity_list"),),
    to_fields=lambda answer: (answer,),
    settings=("aggregation", "decoding"),
)
LABEL = AnswerKind(
    name="label",
    request_options={},
    fields=(("label", "string"), ("score", "float")),
    to_fields=lambda answer: (answer["label"], answer["score"]),
)
KINDS: dict[str, AnswerKind] = {kind.name: kind for kind in (ENTITIES, LABEL)}
