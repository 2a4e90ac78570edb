"""Which variant a bundle runs by default, and the evidence that choice needs.

A quantized variant may be the default only when it is *shown* to keep accuracy: the upper end of
the interval of points it loses against PyTorch is within --max-drop. On 500 rows that interval
is about +-0.8 points wide, so a variant that loses nothing often cannot show it. Where the
interval straddles --max-drop, more rows of the same split are scored (same order: the protocol's
shuffle, so each look's rows are a prefix of the next), doubling until every candidate's interval
falls on one side, or the split or --max-eval-size runs out.

Looking more than once must not weaken the promise. The looks are planned before the first one
(row counts 500, 1000, 2000, ... up to the limit, known from the split's size), and each look's
interval is taken at confidence 1 - 0.05 / looks (Bonferroni): the chance that any look wrongly
shows a variant as keeping accuracy stays within 5%, however the looks turn out. It is
conservative (a group-sequential design with O'Brien-Fleming bounds would stop a little sooner);
in exchange it needs no assumption on how the looks' estimates are correlated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from toolkit.runtime.manifest import KEEPS, LOSES, NOT_SHOWN, VariantChecks, VariantEntry
from toolkit.runtime.cpu import INT8_FLAGS, cpu_flags, cpu_name
from toolkit.scoring import EVAL_BATCH_SIZE, collect_logits, drop_interval, points_lost, score

CONFIDENCE = 0.95  # of the whole sequence of looks
RESAMPLES = 2000  # the per-look tails are narrow (0.6% at four looks): more resamples than one 95% interval



def planned_looks(first: int, available: int, limit: int | None) -> list[int]:
    """Row counts of the looks, fixed before the first: `first`, then doubling up to the split's
    size or `limit`."""
    end = min(available, max(limit, first)) if limit else available  # never fewer rows than the first look
    sizes = [min(first, end)]
    while sizes[-1] < end:
        sizes.append(min(2 * sizes[-1], end))
    return sizes


def verdict(interval: tuple[float, float], max_drop: float) -> str:
    low, high = interval
    return KEEPS if high <= max_drop else LOSES if low > max_drop else NOT_SHOWN


@dataclass
class Evidence:
    """Logits of PyTorch and of each candidate on the rows scored so far, and how to score more."""

    task: object
    labels: tuple[str, ...]
    decoding: str
    features: list[dict]  # the evaluation rows scored so far (a long text may give several windows)
    reference: list  # PyTorch's logits of `features`
    candidates: dict[str, list]  # variant -> its logits of `features`
    more_rows: Callable[[int, int], list[dict]]  # (first row, end row) -> their features
    logits_of: Callable[[str, list[dict]], list]  # (variant or "pytorch", features) -> logits

    def extend(self, start: int, end: int, names: list[str]) -> None:
        new = self.more_rows(start, end)
        self.features = self.features + new
        self.reference = self.reference + self.logits_of("pytorch", new)
        for name in names:
            self.candidates[name] = self.candidates[name] + self.logits_of(name, new)

    def reference_score(self) -> float:
        """PyTorch's metric on the rows scored so far."""
        return score(self.task, self.reference, self.features, self.labels, self.decoding)[self.task.primary_metric]

    def judge(self, name: str, theirs: float, confidence: float, max_drop: float) -> dict:
        """The decision on one candidate at this look; `theirs`: reference_score() of this look."""
        metric = self.task.primary_metric
        ours = score(self.task, self.candidates[name], self.features, self.labels, self.decoding)[metric]
        interval = drop_interval(self.task, self.reference, self.candidates[name], self.features, self.labels,
                                 self.decoding, resamples=RESAMPLES, confidence=confidence)
        rows = len({f.get("example_index", i) for i, f in enumerate(self.features)})
        return {"rows": rows, "metric": metric, "pytorch": round(theirs, 4), "variant": round(ours, 4),
                "drop_points": points_lost(theirs, ours), "drop_interval": list(interval),
                "confidence": round(confidence, 5), "verdict": verdict(interval, max_drop)}


def later_rows(read_last_look: Callable[[], object]) -> Callable[[int, int], list[dict]]:
    """(first row, end row) -> their features, from the evaluation set of the last planned look,
    which `read_last_look` reads once, when a second look is first needed."""
    read = []

    def rows(start: int, end: int) -> list[dict]:
        if not read:
            read.append(read_last_look())
        return [f for i, f in enumerate(read[0].features) if start <= f.get("example_index", i) < end]

    return rows


def logits_from(backends: dict) -> Callable[[str, list[dict]], list]:
    """(name, features) -> that backend's logits, in the one evaluation batch size."""
    return lambda name, features: collect_logits(backends[name].logits, features, EVAL_BATCH_SIZE,
                                                 backends[name].input_names)


def measured_on() -> dict:
    """The CPU a decision was measured on: its name and the flags int8 kernels depend on."""
    return {"cpu": cpu_name(), "cpu_flags": sorted(cpu_flags() & INT8_FLAGS)}


def gather_evidence(evidence: Evidence, sizes: list[int], max_drop: float, progress=None) -> dict[str, dict]:
    """The decision on every candidate: look at `sizes[0]` rows, then at more while any candidate's
    interval straddles `max_drop`. All candidates are scored on the same rows, so each records
    its numbers on the rows of the last look (export, bench and the card then agree)."""
    confidence = 1 - (1 - CONFIDENCE) / len(sizes)
    names = list(evidence.candidates)
    decisions = {}
    for look, size in enumerate(sizes):
        if look:
            if progress is not None:
                progress(f"scoring rows {sizes[look - 1]:,}-{size:,} (look {look + 1} of {len(sizes)})")
            evidence.extend(sizes[look - 1], size, names)
        theirs = evidence.reference_score()  # once a look, whatever the number of candidates
        decisions = {name: evidence.judge(name, theirs, confidence, max_drop) for name in names}
        if all(d["verdict"] != NOT_SHOWN for d in decisions.values()):
            break
    for decision in decisions.values():
        decision.update(looks=look + 1, planned_looks=len(sizes), planned_rows=list(sizes),
                        method=f"paired bootstrap, {CONFIDENCE:.0%} over up to {len(sizes)} looks (Bonferroni)")
    return decisions


def shown_to_keep_accuracy(checks: VariantChecks, max_drop: float) -> bool:
    """A quantized variant may be a default only when its decision says it keeps accuracy (bundles
    made before decisions: when the upper end of its 95% interval is within `max_drop`); never
    when its accuracy was not measured."""
    if checks.decision is not None:
        return checks.decision["verdict"] == KEEPS
    return checks.drop_interval is not None and checks.drop_interval[1] <= max_drop


def held_back(name: str, checks: VariantChecks, max_drop: float, opt_in: str, role: str = "the default") -> str:
    """One plain sentence on why a quantized variant is not the default, and the command that opts in."""
    decision = checks.decision or {"rows": checks.parity.get("examples"), "drop_interval": checks.drop_interval,
                                   "verdict": NOT_SHOWN}
    on_rows = f"on {decision['rows']:,} rows " if decision.get("rows") else ""
    low, high = decision["drop_interval"] or (None, None)
    if checks.drop_interval is None:
        reason = "its accuracy was not measured (no labelled evaluation data; pass --dataset)"
    elif decision["verdict"] == LOSES:
        reason = f"{on_rows}it loses {low:.2f} to {high:.2f} points, more than --max-drop {max_drop:g}"
    else:
        reason = (f"{on_rows}it may lose up to {high:.2f} points, and a loss within --max-drop {max_drop:g} could "
                  "not be shown")
    return f"{name} is kept but not {role}: {reason}. To use it anyway: {opt_in}"


def choose_default(ranked: list, variants: dict[str, VariantEntry], max_drop: float, warnings: list[str],
                   opt_in: Callable[[str], str]) -> str:
    """The fastest CPU variant shown to keep accuracy: strict-parity variants always are; a quantized
    one when its decision says so. `ranked`: the kept variants that may be a default, fastest first."""
    for variant in ranked:
        checks = variants[variant.name].checks
        if variant.strict_parity or shown_to_keep_accuracy(checks, max_drop):
            return variant.name
        warnings.append(held_back(variant.name, checks, max_drop, opt_in(variant.name)))
    fallback = next(iter(variants))
    warnings.append(f"{fallback} is the default only because no variant shown to keep accuracy was kept")
    return fallback
