"""`toolkit predict`'s stdin protocol: JSON strings, {"text": ..., "id": ...} objects or plain lines in; one
JSON record out per line, in order. A line that cannot be answered gets an error record; the others go on."""

from __future__ import annotations

import json
from typing import BinaryIO, TextIO

from toolkit.answering import answer_batch
from toolkit.runtime.predict import to_json

STDIN_CHUNK = 256  # stdin lines answered per batch


def parse_line(raw: bytes, number: int) -> dict:
    """One stdin line (a JSON string, {"text": ..., "id": ...}, or plain text) as its output record
    so far: {"line": N, "id": ... if given} with "text" to answer, or with "error"."""
    record: dict = {"line": number}
    try:
        line = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        return {**record, "error": f"line {number}: invalid UTF-8 at byte {error.start}"}
    if line[:1] in ('{', '"', '['):
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            return {**record, "error": f"line {number}: not valid JSON ({error.msg} at column {error.colno})"}
        if isinstance(value, dict) and "id" in value:
            record["id"] = value["id"]
        if isinstance(value, dict) and isinstance(value.get("text"), str):
            line = value["text"]
        elif isinstance(value, str):
            line = value
        else:
            return {**record, "error": f"line {number}: expected a JSON string or an object with a \"text\" string"}
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate, which JSON's \ud800 escapes can make
        return {**record, "error": f"line {number}: the text holds {line[error.start]!r}, which is not a "
                                   "character (a lone surrogate); send the text as UTF-8"}
    return {**record, "text": line}


def predict_lines(predictor, stream: BinaryIO, out: TextIO) -> int:
    """One JSON record per input line, in order: {"line", "id" (when the line gave one), "answer"},
    or {"line", "id", "error"} for a bad line while the rest go on. Returns how many lines failed."""
    pending: list[dict] = []
    failed = 0

    def flush() -> None:
        nonlocal failed
        answers = iter(answer_batch(predictor, [r["text"] for r in pending if "text" in r]))
        for record in pending:
            if "text" in record:
                answer = next(answers)
                del record["text"]
                record.update({"error": f"line {record['line']}: {type(answer).__name__}: {answer}"}
                              if isinstance(answer, Exception) else {"answer": answer})
            failed += "error" in record
            out.write(to_json(record) + "\n")
        out.flush()
        pending.clear()

    for number, raw in enumerate(stream, start=1):
        pending.append(parse_line(raw, number))
        if len(pending) >= STDIN_CHUNK:
            flush()
    flush()
    return failed
