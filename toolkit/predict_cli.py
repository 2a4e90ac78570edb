"""`toolkit predict`: answer texts given as arguments or as lines on standard input."""

from __future__ import annotations

import json
from typing import BinaryIO, TextIO

from toolkit.runtime import load
from toolkit.runtime.predict import to_json

CHUNK = 256  # lines answered per batch when reading stdin


def _load(args):
    options = {"batch_size": args.batch_size, "threads": args.threads}
    predictor = load(args.bundle, variant=args.variant, verify=not args.no_verify, **options)
    if hasattr(predictor, "aggregation"):
        predictor.aggregation = args.aggregation
    return predictor


def predict_texts(args, texts: list[str], out: TextIO) -> None:
    """One JSON answer per text argument."""
    predictor = _load(args)
    for answer in predictor(list(texts)):
        out.write(to_json(answer) + "\n")


def parse_line(raw: bytes, number: int) -> tuple[str | None, str | None]:
    """(text, None) or (None, error) for one stdin line: a JSON string, {"text": ...}, or plain text."""
    try:
        line = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        return None, f"line {number}: invalid UTF-8 at byte {error.start}"
    if line[:1] in ('{', '"', '['):
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            return None, f"line {number}: not valid JSON ({error.msg} at column {error.colno})"
        if isinstance(value, dict) and isinstance(value.get("text"), str):
            return value["text"], None
        if isinstance(value, str):
            return value, None
        return None, f"line {number}: expected a JSON string or an object with a \"text\" string"
    return line, None


def predict_lines(args, stream: BinaryIO, out: TextIO) -> None:
    """One JSON line per input line, in order; a bad line gets an error object and the rest go on."""
    predictor = _load(args)
    pending: list[tuple[int, str | None, str | None]] = []

    def flush() -> None:
        texts = [text for _, text, error in pending if error is None]
        answers = iter(predictor(texts) if texts else [])
        for number, _, error in pending:
            out.write(json.dumps({"line": number, "error": error}) if error else to_json(next(answers)))
            out.write("\n")
        out.flush()
        pending.clear()

    for number, raw in enumerate(stream, start=1):
        text, error = parse_line(raw, number)
        pending.append((number, text, error))
        if len(pending) >= CHUNK:
            flush()
    flush()
