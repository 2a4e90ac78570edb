"""Tokenize texts with the `tokenizers` library and cut long ones into overlapping windows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolkit.runtime.entities import softmax


@dataclass
class Window:
    """A slice of one text's tokens, ready to run: ids with the special tokens around them."""

    text_index: int
    first_token: int  # position of this window's first content token in the text's token list
    input_ids: list[int]
    content: slice  # where the content tokens sit inside input_ids


@dataclass
class TokenizedText:
    ids: list[int]
    tokens: list[str]
    offsets: list[tuple[int, int]]


def load_tokenizer(path: Path):
    """Load tokenizer.json with its baked-in padding and truncation switched off.

    Some published tokenizer.json files (all-MiniLM-L6-v2's among them) fix padding and
    truncation at 128: left on, every text becomes 128 tokens, and long texts lose their end.
    Batches are padded here instead, and long texts are windowed.
    """
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def unknown_id(path: Path, tokenizer) -> int | None:
    """The id of the unknown token of the tokenizer.json at `path` (None where there is none, as in
    byte-level BPE). Read from the file: the Python objects do not expose Unigram's."""
    import json

    model = json.loads(Path(path).read_text(encoding="utf-8")).get("model", {})
    if isinstance(model.get("unk_id"), int):  # Unigram names it by id
        return model["unk_id"]
    return tokenizer.token_to_id(model["unk_token"]) if model.get("unk_token") else None


def special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """The special ids the post-processor puts before and after a single text ([CLS] / [SEP])."""
    encoding = tokenizer.encode("", add_special_tokens=True)
    ids, mask = encoding.ids, encoding.special_tokens_mask
    content_start = next((i for i, m in enumerate(mask) if not m), len(ids))
    prefix = ids[:content_start] if content_start < len(ids) else ids[:1]
    return prefix, ids[len(prefix):]


def tokenize(tokenizer, texts: list[str]) -> list[TokenizedText]:
    """Content tokens of each text (no special tokens), with character offsets into the text."""
    encodings = tokenizer.encode_batch(texts, add_special_tokens=False)
    return [TokenizedText(e.ids, e.tokens, e.offsets) for e in encodings]  # offsets: a list of (start, end)


DEFAULT_STRIDE = 128


def window_overlap(room: int, stride: int = DEFAULT_STRIDE) -> int:
    """Tokens two consecutive windows share, for windows of `room` content tokens: `stride`, capped
    at half a window so that every window moves on by at least half. Evaluation (toolkit's
    sentiment.preprocess) cuts texts with the same rule, so metrics match what the runtime reads."""
    return min(stride, room // 2)


def make_windows(texts: list[TokenizedText], max_length: int, stride: int,
                 prefix: list[int], suffix: list[int]) -> list[Window]:
    """Windows of at most `max_length` ids; consecutive windows of a text share `stride` tokens."""
    room = max_length - len(prefix) - len(suffix)
    if room < 1 or stride < 0:
        raise ValueError(f"windows of {max_length} tokens with {len(prefix) + len(suffix)} special tokens and "
                         f"overlap {stride} cannot move forward: need max_length above the special tokens and "
                         "a stride of at least 0")
    step = room - window_overlap(room, stride)  # at least half a window: every window moves on
    windows = []
    for index, text in enumerate(texts):
        start = 0
        while True:
            chunk = text.ids[start:start + room]
            windows.append(Window(index, start, prefix + chunk + suffix,
                                  slice(len(prefix), len(prefix) + len(chunk))))
            if start + room >= len(text.ids):
                break
            start += step
    return windows


def head_tail(ids: list, max_length: int) -> list:
    """The first quarter and the last part of a too-long sequence (special tokens at both ends kept)."""
    if len(ids) <= max_length:
        return list(ids)
    head = max_length // 4
    return list(ids[:head]) + list(ids[len(ids) - (max_length - head):])


def make_head_tail_windows(texts: list[TokenizedText], max_length: int, prefix: list[int],
                           suffix: list[int]) -> list[Window]:
    """One window per text: its content, cut to head and tail when too long."""
    room = max_length - len(prefix) - len(suffix)
    if room < 1:
        raise ValueError(f"windows of {max_length} tokens cannot hold content beside {len(prefix) + len(suffix)} "
                         "special tokens")
    windows = []
    for index, text in enumerate(texts):
        chunk = head_tail(text.ids, room)
        windows.append(Window(index, 0, prefix + chunk + suffix, slice(len(prefix), len(prefix) + len(chunk))))
    return windows


def merge_token_scores(length: int, windows: list[Window], scores: list[np.ndarray]) -> np.ndarray:
    """One score row per token of a text, each from the window where it has the most context."""
    if not windows:
        return np.zeros((0, 0), dtype=np.float32)
    if len(windows) == 1 and windows[0].first_token == 0:  # a short text, most of them: its one window is it
        content = scores[0][windows[0].content]
        if len(content) == length:
            return np.asarray(content, dtype=np.float32)
    merged = np.zeros((length, scores[0].shape[-1]), dtype=np.float32)
    best_margin = np.full(length, -1)
    for window, window_scores in zip(windows, scores):
        content = window_scores[window.content]
        offsets = np.arange(len(content))
        margins = np.minimum(offsets, len(content) - 1 - offsets)  # tokens of context on the nearer side
        positions = window.first_token + offsets
        better = margins > best_margin[positions]  # a tie keeps the earlier window's row
        best_margin[positions[better]] = margins[better]
        merged[positions[better]] = content[better]
    return merged


def average_probabilities(window_logits, text_index, texts: int) -> np.ndarray:
    """Class probabilities of each of `texts` texts: the mean softmax of its windows' logits."""
    probabilities = softmax(np.asarray(window_logits, dtype=np.float64))
    sums = np.zeros((texts, probabilities.shape[-1]))
    np.add.at(sums, np.asarray(text_index), probabilities)
    return sums / np.bincount(text_index, minlength=texts)[:, None]


def pad_batch(windows: list[Window], input_names: list[str], pad_id: int) -> dict[str, np.ndarray]:
    """int64 arrays for a batch of windows, padded to the longest."""
    width = max(len(w.input_ids) for w in windows)
    ids = np.full((len(windows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(windows), width), dtype=np.int64)
    for row, window in enumerate(windows):
        ids[row, : len(window.input_ids)] = window.input_ids
        mask[row, : len(window.input_ids)] = 1
    arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    return {name: arrays[name] for name in input_names}
