"""What a predict request may hold, and the one clear error for each way it can break the rules."""

from __future__ import annotations

import json
from dataclasses import dataclass

FIELDS = ("text", "texts", "aggregation")


@dataclass(frozen=True)
class Limits:
    """Bounds on one request; each field is the ServeConfig field (and CLI option) of the same name."""

    max_body_bytes: int
    max_texts: int
    max_chars: int

    @classmethod
    def of(cls, cfg) -> Limits:
        """The limits a ServeConfig sets."""
        return cls(max_body_bytes=cfg.max_body_bytes, max_texts=cfg.max_texts, max_chars=cfg.max_chars)


@dataclass(frozen=True)
class PredictRequest:
    """A valid predict body: its texts, whether it named one `text`, and the NER aggregation."""

    texts: list[str]
    single: bool
    aggregation: str | None


class RequestError(Exception):
    """A request the server refuses: HTTP status, a stable code, and a message naming the fix."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _type_name(value) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def check_body_size(size: int, limits: Limits, complete: bool = True) -> None:
    """Refuse a body over --max-body-bytes (413); `complete=False`: `size` is what was read so far."""
    if size > limits.max_body_bytes:
        found = f"{size} bytes" if complete else f"more than {limits.max_body_bytes} bytes"
        raise RequestError(413, "body_too_large",
                           f"the body has {found}; the limit is {limits.max_body_bytes}. Send fewer or shorter "
                           "texts per request, or raise the limit with --max-body-bytes.")


def parse_predict_body(body: bytes, limits: Limits, aggregations: tuple[str, ...] | None) -> PredictRequest:
    """Validate a predict body against `limits`; raise RequestError naming the first problem.

    `aggregations`: the NER aggregations a request may name; None for a bundle that takes none.
    """
    check_body_size(len(body), limits)
    if not body.strip():
        raise RequestError(422, "empty_body", 'the body is empty; expected a JSON object such as '
                                              '{"text": "..."} or {"texts": ["...", "..."]}.')
    try:
        text = body.decode("utf-8")  # RFC 8259: JSON between systems is UTF-8
    except UnicodeDecodeError as error:
        raise RequestError(422, "invalid_json", f"the body is not UTF-8 (byte {error.start}); send UTF-8 JSON.") \
            from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(422, "invalid_json", f"the body is not valid JSON ({error.msg} at line {error.lineno} "
                                                f"column {error.colno}).") from None
    if not isinstance(value, dict):
        raise RequestError(422, "wrong_type", f'expected a JSON object such as {{"text": "..."}}, found '
                                              f"{_type_name(value)}.")
    unknown = sorted(set(value) - set(FIELDS))
    if unknown:
        raise RequestError(422, "unknown_field", f"unknown field(s) {', '.join(map(repr, unknown))}; a predict "
                                                 f"body has {', '.join(FIELDS)}.")
    if ("text" in value) == ("texts" in value):
        raise RequestError(422, "text_or_texts", 'expected exactly one of "text" (a string) or "texts" (a list of '
                                                 f"strings), found {'both' if 'text' in value else 'neither'}.")
    single = "text" in value
    if single:
        if not isinstance(value["text"], str):
            raise RequestError(422, "wrong_type", f'"text" must be a string, found {_type_name(value["text"])}.')
        texts = [value["text"]]
    else:
        texts = value["texts"]
        if not isinstance(texts, list):
            raise RequestError(422, "wrong_type", f'"texts" must be a list of strings, found {_type_name(texts)}.')
        if len(texts) > limits.max_texts:
            raise RequestError(422, "too_many_texts",
                               f"{len(texts)} texts in one request; the limit is {limits.max_texts}. Split the "
                               "request, or raise the limit with --max-texts.")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise RequestError(422, "wrong_type", f'"texts"[{index}] must be a string, found {_type_name(text)}.')
    for index, text in enumerate(texts):
        if len(text) > limits.max_chars:
            where = '"text"' if single else f'"texts"[{index}]'
            raise RequestError(422, "text_too_long",
                               f"{where} has {len(text)} characters; the limit is {limits.max_chars}. Send a "
                               "shorter text, or raise the limit with --max-chars.")
    aggregation = value.get("aggregation")
    if aggregation is not None:
        if aggregations is None:
            raise RequestError(422, "unknown_aggregation", '"aggregation" applies to NER bundles only; this '
                                                           "bundle answers labels. Leave it out.")
        if aggregation not in aggregations:
            raise RequestError(422, "unknown_aggregation", f'"aggregation" must be one of {", ".join(aggregations)}; '
                                                           f"found {aggregation!r}.")
    return PredictRequest(texts=texts, single=single, aggregation=aggregation)
