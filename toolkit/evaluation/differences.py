"""Where a variant's answers differ from PyTorch's on the same rows, so that a reader can judge whether
a quantized variant's disagreements matter."""

from __future__ import annotations

from toolkit.evaluation.analysis import Analysis

SHOWN = 5  # differing examples shown per variant, in data order


def metric_deltas(reference: dict, candidate: dict) -> dict:
    """The candidate's number minus the reference's, for every headline metric both have."""
    return {key: round(candidate[key] - value, 6) for key, value in reference.items()
            if isinstance(value, (int, float)) and isinstance(candidate.get(key), (int, float))}


def compare(reference: Analysis, candidate: Analysis, name: str, shown: int = SHOWN) -> dict:
    """How many examples the candidate answers differently from the reference, and the first few."""
    differing = [i for i, (a, b) in enumerate(zip(reference.keys, candidate.keys)) if a != b]
    return {"variant": name, "examples": len(reference.keys), "differing": len(differing),
            "metric_deltas": metric_deltas(reference.metrics, candidate.metrics),
            "shown": [{**reference.examples[i], "pytorch": reference.answers[i], "variant": candidate.answers[i]}
                      for i in differing[:shown]]}
