"""Sort a sentence's entity mistakes into kinds: right span with the wrong type, boundary errors, missed
and spurious entities.

Entities are (type, start, end) word spans, `end` exclusive. Exact matches (type and span) are
correct and not errors. Of the rest, a gold and a predicted entity with the same span are a type
error; entities whose spans overlap form a boundary error together, one per group of overlapping
entities, so an entity split in two or two merged into one is one error, not three; a gold entity
that overlaps nothing was missed, a predicted one that overlaps nothing is spurious.
"""

from __future__ import annotations

CATEGORIES = ("wrong_type", "boundary", "missed", "spurious")

Entity = tuple[str, int, int]  # (type, first word, one past the last word)


def overlaps(a: Entity, b: Entity) -> bool:
    """Whether two spans share a word."""
    return a[1] < b[2] and b[1] < a[2]


def classify_errors(gold: list[Entity], predicted: list[Entity]) -> list[dict]:
    """The mistakes of one sentence: {"category", "gold": [...], "predicted": [...]}, in text order."""
    correct = set(gold) & set(predicted)
    gold_left = [g for g in gold if g not in correct]
    predicted_left = [p for p in predicted if p not in correct]
    errors = []
    for g in list(gold_left):
        same_span = next((p for p in predicted_left if p[1:] == g[1:]), None)
        if same_span is not None:
            errors.append({"category": "wrong_type", "gold": [g], "predicted": [same_span]})
            gold_left.remove(g)
            predicted_left.remove(same_span)
    while predicted_left:
        group_gold, group_predicted = [], [predicted_left.pop(0)]
        grown = True
        while grown:  # add every entity that overlaps the group, until none is left to add
            grown = False
            for pool, members in ((gold_left, group_gold), (predicted_left, group_predicted)):
                for entity in [e for e in pool if any(overlaps(e, m) for m in group_gold + group_predicted)]:
                    pool.remove(entity)
                    members.append(entity)
                    grown = True
        if group_gold:
            errors.append({"category": "boundary", "gold": sorted(group_gold, key=_position),
                           "predicted": sorted(group_predicted, key=_position)})
        else:
            errors += [{"category": "spurious", "gold": [], "predicted": [p]} for p in group_predicted]
    errors += [{"category": "missed", "gold": [g], "predicted": []} for g in gold_left]
    return sorted(errors, key=lambda e: min(_position(x) for x in e["gold"] + e["predicted"]))


def _position(entity: Entity) -> tuple[int, int]:
    return entity[1], entity[2]


def error_type(error: dict) -> str:
    """The entity type an error is counted under: the gold one, or the prediction's when spurious."""
    return (error["gold"] or error["predicted"])[0][0]


def summarize_errors(errors: list[dict]) -> dict:
    """Counts per category, per entity type and category, and which type was taken for which."""
    counts = {category: 0 for category in CATEGORIES}
    by_type: dict[str, dict[str, int]] = {}
    confusions: dict[str, int] = {}
    for error in errors:
        category = error["category"]
        counts[category] += 1
        row = by_type.setdefault(error_type(error), {c: 0 for c in CATEGORIES})
        row[category] += 1
        if category == "wrong_type":
            pair = f"{error['gold'][0][0]} -> {error['predicted'][0][0]}"
            confusions[pair] = confusions.get(pair, 0) + 1
    return {"counts": counts, "by_type": dict(sorted(by_type.items())),
            "confusions": dict(sorted(confusions.items(), key=lambda item: (-item[1], item[0])))}
