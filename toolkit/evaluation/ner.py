"""NER evaluation: seqeval on sub-word tags (as training reports), one tag per word for the word-level
(CoNLL) score that papers and spaCy report, entity mistakes by kind, and the worst sentences."""

from __future__ import annotations

import numpy as np

from toolkit.evaluation.analysis import Analysis
from toolkit.evaluation.entity_errors import CATEGORIES, Entity, classify_errors, summarize_errors
from toolkit.scoring import score
from toolkit.tasks import Task
from toolkit.tasks.ner import IGNORE, metrics_from_tags, tag_sequences


def position_tags(logits: np.ndarray, label_row, labels: tuple[str, ...], decoding: str) -> list[str | None]:
    """The tag decoded at every labelled position of one sentence (None elsewhere), decoded over the
    labelled positions exactly as training's metrics decode them."""
    label_row = np.asarray(label_row)
    _, predicted = tag_sequences(np.asarray(logits)[None], label_row[None], labels, decoding)
    tags = iter(predicted[0])
    return [next(tags) if label != IGNORE else None for label in label_row]


def first_piece_tags(tags: list[str | None], word_ids: list[int | None], word_count: int) -> list[str]:
    """One tag per word: its first piece's (what conlleval scores). A word with no piece, cut off by
    the model's maximum length, is answered O, as nothing was predicted for it."""
    words = ["O"] * word_count
    previous = None
    for tag, word in zip(tags, word_ids):
        if word is not None and word != previous and tag is not None:
            words[word] = tag
        previous = word
    return words


def entities_of(tags: list[str]) -> list[Entity]:
    """(type, start, end) word spans of a tag sequence, read as seqeval reads them."""
    from seqeval.metrics.sequence_labeling import get_entities

    return [(kind, start, end + 1) for kind, start, end in get_entities(list(tags))]


def entity_dict(entity: Entity, words: list[str]) -> dict:
    """An entity as the reports show it: its type, word span and words."""
    kind, start, end = entity
    return {"type": kind, "start": start, "end": end, "text": " ".join(words[start:end])}


def error_dict(error: dict, words: list[str]) -> dict:
    """A mistake as the reports show it, its entities with their words."""
    return {"category": error["category"], "gold": [entity_dict(e, words) for e in error["gold"]],
            "predicted": [entity_dict(e, words) for e in error["predicted"]]}


def word_metrics(gold_tags: list[list[str]], predicted_tags: list[list[str]]) -> dict:
    """Entity precision, recall and F1 on one tag per word (seqeval's default mode is conlleval's)."""
    return metrics_from_tags(gold_tags, predicted_tags)


def analyse(task: Task, logits: list[np.ndarray], evaluation, labels: tuple[str, ...], decoding: str,
            worst: int) -> Analysis:
    """Scores, mistakes and worst sentences of one model's logits on the evaluation sentences."""
    description = evaluation.description
    sentences = [list(words) for words in evaluation.rows[description["text_column"]]]
    gold_tags = [[labels[i] for i in row] for row in evaluation.rows[description["label_column"]]]
    predicted_tags, unread = [], 0
    for row, feature, words in zip(logits, evaluation.features, sentences):
        tags = first_piece_tags(position_tags(row, feature["labels"], labels, decoding), feature["word_ids"],
                                len(words))
        unread += len(words) - len({w for w in feature["word_ids"] if w is not None})
        predicted_tags.append(tags)
    metrics = score(task, logits, evaluation.features, labels, decoding)
    subword_per_type = metrics.pop("per_type")
    words_scored = word_metrics(gold_tags, predicted_tags)
    word_per_type = words_scored.pop("per_type")
    metrics.update({f"word_{key}": value for key, value in words_scored.items()})

    examples, answers, keys, errors, per_sentence = [], [], [], [], []
    correct = gold_count = predicted_count = 0
    for index, (words, gold, predicted) in enumerate(zip(sentences, gold_tags, predicted_tags)):
        gold_entities, predicted_entities = entities_of(gold), entities_of(predicted)
        mistakes = classify_errors(gold_entities, predicted_entities)
        correct += len(set(gold_entities) & set(predicted_entities))
        gold_count += len(gold_entities)
        predicted_count += len(predicted_entities)
        errors += mistakes
        per_sentence.append(mistakes)
        examples.append({"index": index, "words": words, "gold": [entity_dict(e, words) for e in gold_entities]})
        answers.append([entity_dict(e, words) for e in predicted_entities])
        keys.append(tuple(predicted_entities))
    # Most mistakes first; among equals, the sentence that comes first in the data.
    ranked = sorted((i for i, m in enumerate(per_sentence) if m), key=lambda i: (-len(per_sentence[i]), i))
    worst_sentences = [{**examples[i], "predicted": answers[i],
                        "errors": [error_dict(e, sentences[i]) for e in per_sentence[i]]} for i in ranked[:worst]]
    per_type = {kind: {**values, "subword_f1": subword_per_type.get(kind, {}).get("f1")}
                for kind, values in word_per_type.items()}
    details = {"per_type": per_type,
               "errors": {"correct": correct, "gold": gold_count, "predicted": predicted_count,
                          "categories": list(CATEGORIES), **summarize_errors(errors)},
               "sentences_with_errors": len(ranked), "worst": worst_sentences, "unread_words": unread}
    return Analysis(metrics=metrics, examples=examples, answers=answers, keys=keys, details=details)
