"""Read CoNLL-format NER text: one `token ... tag` line per word, blank lines between sentences."""

from __future__ import annotations

from pathlib import Path

from toolkit.data.encoding import check_utf8
from toolkit.errors import DataError


def iob1_to_iob2(tags: list[str]) -> list[str]:
    """Rewrite IOB1 tags as IOB2: an I-X that does not continue an X entity starts one (B-X).

    IOB2 input comes back unchanged, so this is safe to apply whatever the file's scheme.
    """
    converted, previous = [], "O"
    for tag in tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        converted.append(tag)
        previous = tag
    return converted


def read_conll(path: Path) -> dict[str, list]:
    """Parse a CoNLL file into columns `tokens` and `ner_tags` (tag names, IOB2).

    The last column is the tag; `-DOCSTART-` lines and empty sentences are skipped, as the hub's
    conll2003 loader does.
    """
    sentences: list[list[str]] = []
    tags: list[list[str]] = []
    words: list[str] = []
    word_tags: list[str] = []

    def end_sentence() -> None:
        if words:
            sentences.append(list(words))
            tags.append(iob1_to_iob2(word_tags))
        words.clear()
        word_tags.clear()

    check_utf8(path)
    text = Path(path).read_text(encoding="utf-8")
    for number, line in enumerate(text.split("\n"), start=1):
        fields = line.split()
        if not fields:
            end_sentence()
        elif fields[0] == "-DOCSTART-":
            end_sentence()
        elif len(fields) < 2:
            raise DataError(
                f"{path}:{number}: expected 'token ... tag' (at least two columns), "
                f"found {line.strip()!r}. Fix the line or remove it."
            )
        else:
            words.append(fields[0])
            word_tags.append(fields[-1])
    end_sentence()
    return {"tokens": sentences, "ner_tags": tags}
