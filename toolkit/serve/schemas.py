"""What the HTTP app reads and answers, as pydantic models: the OpenAPI schema of every request and response.

The predict route validates its body by hand (toolkit/serve/limits.py: one clear error per rule)
and writes answers straight to JSON, so these models document the API; they do not sit on its path.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, Field, create_model

from toolkit.runtime.answers import ENTITIES, LABEL, AnswerKind
from toolkit.runtime.entities import STRATEGIES


class PredictBody(BaseModel):
    """A predict request: one `text` or a list of `texts` (+ the NER aggregation)."""

    text: Optional[str] = Field(None, description="One text; the response has `answer`.")
    texts: Optional[list[str]] = Field(None, description="Several texts; the response has `answers`, in order.")
    aggregation: Optional[Literal[STRATEGIES]] = Field(
        None, description="NER only: how word pieces become entities (default: the server's).")


class Entity(BaseModel):
    """One entity found in a text, with character offsets into it."""

    entity: str = Field(description="The entity type, e.g. PER.")
    text: str = Field(description="The entity's text: text[start:end].")
    start: int
    end: int
    score: float = Field(description="The mean probability of the entity's tags.")


class LabelAnswer(BaseModel):
    """A text's label, its probability, and every label's."""

    label: str | None  # None: a text with nothing to read (empty or blank)
    score: float | None
    scores: dict[str, float]


# One answer's model per answer kind: the schema follows the bundle served.
ANSWERS: dict[AnswerKind, object] = {ENTITIES: list[Entity], LABEL: LabelAnswer}


def predict_response(kind: AnswerKind):
    """The predict response of a bundle of `kind`: {"answer": ...} for `text`, {"answers": [...]} for `texts`."""
    answer = ANSWERS[kind]
    one = create_model("PredictAnswer", answer=(answer, ...), __doc__="The answer to `text`.")
    many = create_model("PredictAnswers", answers=(list[answer], ...), __doc__="The answers to `texts`, in order.")
    return Union[one, many]


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable and machine-readable, e.g. text_too_long, not_found, internal.")
    message: str = Field(description="What was wrong and how to fix it, in one line.")


class ErrorBody(BaseModel):
    """Every error response: {"error": {"code", "message"}}."""

    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    ready: Literal[True]


class LimitsAnswer(BaseModel):
    max_body_bytes: int
    max_texts: int
    max_chars: int
    max_request_chars: int


class Metadata(BaseModel):
    """What is served (task, labels, variant and its sha256) and by what."""

    task: str
    decode: str = Field(description="The answer kind: entities or label.")
    labels: list[str]
    variant: str
    sha256: str = Field(description="The served model file's sha256, checked before the server listened.")
    variants: list[str]
    max_length: int
    base_model: str
    versions: dict[str, Optional[str]]
    exported_with: dict[str, Optional[str]]
    serving: dict[str, object] = Field(description="The backend and its batching settings.")
    limits: LimitsAnswer
    aggregation: Optional[str] = Field(None, description="NER: the default aggregation.")
    decoding: Optional[str] = Field(None, description="NER: how tags are decoded.")


def errors(described: dict[int, str]) -> dict:
    """OpenAPI `responses` of error statuses, e.g. errors({413: "Body over --max-body-bytes"})."""
    return {status: {"model": ErrorBody, "description": text} for status, text in described.items()}
