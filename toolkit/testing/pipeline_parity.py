"""What the runtime's answers are compared with transformers' pipeline on: hard texts, and entity
spans put in one form for both."""

from __future__ import annotations

# Texts the runtime must answer as the pipeline does: tabs and runs of spaces, accents, emoji,
# characters the vocabularies lack, punctuation glued to words.
TEXTS = ["Angela  Merkel\tmet John Smith in   Paris .", "Café Müller in Nairobi 🎉 said Greenpeace .",
         "  Reuters , Toyota and Siemens  ", "日本 Tokyo — Olga Petrova ✓",
         "Shares of Barclays fell 3 percent after Maria Garcia resigned .", "Talks between Airbus and NATO ended in Oslo."]


def entity_spans(text: str, entities, type_key: str) -> list[tuple]:
    """(type, start, end, score) with the spaces at an entity's edges left out, as the runtime does."""
    spans = []
    for e in entities:
        start, end = e["start"], e["end"]
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((e[type_key], start, end, round(float(e["score"]), 4)))
    return spans
