"""What a predict request may hold, and the one clear error for each way it can break the rules."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

FIELDS = ("text", "texts", "aggregation")


@dataclass(frozen=True)
class Limits:
    """Bounds on one request; each field is the ServeConfig field (and CLI option) of the same name."""

    max_body_bytes: int
    max_texts: int
    max_chars: int
    max_request_chars: int

    @classmethod
    def of(cls, cfg) -> Limits:
        """The limits a ServeConfig sets."""
        return cls(max_body_bytes=cfg.max_body_bytes, max_texts=cfg.max_texts, max_chars=cfg.max_chars,
                   max_request_chars=cfg.max_request_chars)

    def describe(self) -> dict:
        """The limits by their option's name, as /v1/metadata reports them."""
        return dataclasses.asdict(self)


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


def decode_json(text: str):
    """The JSON value of `text`, or a 422 for JSON that is broken, nested too deep, or holds an over-long number."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestError(422, "invalid_json", f"the body is not valid JSON ({error.msg} at line {error.lineno} "
                                                f"column {error.colno}).") from None
    except RecursionError:  # json's C scanner counts its depth against the interpreter's recursion limit
        raise RequestError(422, "too_deep", "the body nests arrays or objects too deeply to read; a predict body "
                                            'is {"texts": ["...", ...]}: two levels.') from None
    except ValueError as error:  # an integer over sys.get_int_max_str_digits() digits
        raise RequestError(422, "invalid_json", f"the body holds a number that cannot be read ({error}); a predict "
                                                "body holds strings only.") from None


def check_text(where: str, text: str, limits: Limits) -> None:
    """Refuse (422) a text over --max-chars, or one holding a lone surrogate (which JSON's \\ud800 escapes can
    make: not a character, and no tokenizer reads it)."""
    if len(text) > limits.max_chars:
        raise RequestError(422, "text_too_long",
                           f"{where} has {len(text)} characters; the limit is {limits.max_chars}. Send a "
                           "shorter text, or raise the limit with --max-chars.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise RequestError(422, "lone_surrogate",
                           f"{where} holds {text[error.start]!r} at character {error.start}, which is not a character "
                           "(a lone surrogate, half of a UTF-16 pair); send the text as valid Unicode.") from None


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
    value = decode_json(text)
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
        check_text('"text"' if single else f'"texts"[{index}]', text, limits)
    total = sum(map(len, texts))
    if total > limits.max_request_chars:
        raise RequestError(422, "too_many_chars",
                           f"the texts hold {total} characters together; the limit is {limits.max_request_chars} per "
                           "request. Split the request, or raise the limit with --max-request-chars.")
    aggregation = value.get("aggregation")
    if aggregation is not None:
        if aggregations is None:
            raise RequestError(422, "unknown_aggregation", '"aggregation" applies to NER bundles only; this '
                                                           "bundle answers labels. Leave it out.")
        if aggregation not in aggregations:
            raise RequestError(422, "unknown_aggregation", f'"aggregation" must be one of {", ".join(aggregations)}; '
                                                           f"found {aggregation!r}.")
    return PredictRequest(texts=texts, single=single, aggregation=aggregation)
