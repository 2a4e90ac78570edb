"""Which external data files an ONNX model reads (ONNX's format for models over 2 GB: the weights sit
in files beside the graph, named by each tensor's `location`).

The runtime has no `onnx` package, so the graph is read from protobuf's wire format directly: only
the messages that can hold a tensor are opened, everything else (weights stored inline included) is
skipped by its length. Read through mmap, so a 2 GB graph is never copied into memory.
"""

from __future__ import annotations

import mmap
from pathlib import Path

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5  # protobuf wire types; groups (3, 4) are not in onnx.proto
# onnx.proto's field numbers that lead to a tensor, per message; "entry" is StringStringEntryProto.
CHILDREN = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "training": {1: "graph", 2: "graph"},
    "function": {7: "node"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
    "tensor": {13: "entry"},
    "entry": {1: "key", 2: "value"},
}


class MalformedModel(ValueError):
    """The file is not a protobuf message (truncated, or not a model)."""


def read_varint(data, position: int, end: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if position >= end or shift > 63:
            raise MalformedModel(f"a varint runs past its message at byte {position}")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, position


def fields_of(data, start: int, end: int):
    """(field number, start, end) of each length-delimited field of the message in data[start:end]."""
    position = start
    while position < end:
        tag, position = read_varint(data, position, end)
        number, wire = tag >> 3, tag & 7
        if wire == VARINT:
            _, position = read_varint(data, position, end)
        elif wire in (FIXED64, FIXED32):
            position += 8 if wire == FIXED64 else 4
        elif wire == LENGTH:
            length, position = read_varint(data, position, end)
            if position + length > end:
                raise MalformedModel(f"field {number} runs past its message at byte {position}")
            yield number, position, position + length
            position += length
        else:
            raise MalformedModel(f"wire type {wire} at byte {position}")
    if position != end:
        raise MalformedModel(f"a field runs past its message at byte {end}")


def external_locations(path: Path) -> set[str]:
    """The `location` of every tensor of the model whose data is in an external file, as the graph
    names them (relative to the graph's directory). Raises MalformedModel for a file that is not one."""
    found: set[str] = set()
    with open(path, "rb") as handle:
        if handle.seek(0, 2) == 0:
            return found
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            pending = [("model", 0, len(data))]  # a list, not recursion: nested subgraphs cannot exhaust the stack
            while pending:
                kind, start, end = pending.pop()
                if kind == "entry":
                    entry = {CHILDREN["entry"][n]: bytes(data[s:e]) for n, s, e in fields_of(data, start, end)
                             if n in CHILDREN["entry"]}
                    if entry.get("key") == b"location":
                        found.add(entry.get("value", b"").decode("utf-8", errors="replace"))
                    continue
                pending += [(CHILDREN[kind][n], s, e) for n, s, e in fields_of(data, start, end) if n in CHILDREN[kind]]
    return found
