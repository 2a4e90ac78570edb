"""Bench re-takes export's default decision on the machine where it runs: the same rows, looks and
rule (toolkit/export/decision.py), with this CPU's kernels. A bundle's default must not depend on
the CPU that exported it; this says plainly when the evidence here would choose differently."""

from __future__ import annotations

from toolkit.checkpoint import evaluation_set
from toolkit.export.decision import Evidence, gather_evidence, later_rows, logits_from, measured_on
from toolkit.runtime.manifest import KEEPS

def same_first_look(bundle, evaluation, sizes: list[int]) -> str | None:
    """Why bench's evaluation rows are not export's first look (so the decision cannot be re-taken
    on the same rows), or None when they are."""
    recorded = bundle.manifest.evaluation or {}
    here = evaluation.description
    if here.get("examples") != sizes[0]:
        return f"bench scores {here.get('examples')} rows where export's first look was {sizes[0]} (--eval-size)"
    if here.get("fingerprint") != recorded.get("fingerprint"):
        return "bench's evaluation rows are not the ones export scored (another --dataset, --split or data)"
    return None


def recheck_decisions(bundle, checkpoint, evaluation, backends: dict, logits: dict, max_drop: float) -> tuple[dict, list]:
    """Each decided variant's decision taken again here, and a note for each that comes out
    differently. `backends` and `logits` are by name, "pytorch" among them."""
    recorded = {name: entry.checks.decision for name, entry in bundle.variants.items()
                if entry.checks.decision and name in logits and entry.checks.decision.get("planned_rows")}
    if not recorded:
        return {}, []
    sizes = next(iter(recorded.values()))["planned_rows"]
    different = same_first_look(bundle, evaluation, sizes)
    if different:
        return {}, [f"export's default decision was not re-taken: {different}"]
    dataset, split = evaluation.description["dataset"], evaluation.description["split"]
    last_look = lambda: evaluation_set(checkpoint, max_length=bundle.max_length, dataset=dataset,  # noqa: E731
                                       split=split, eval_size=str(sizes[-1]))
    evidence = Evidence(task=checkpoint.task, labels=checkpoint.labels, decoding=checkpoint.decoding,
                        features=evaluation.features, reference=logits["pytorch"],
                        candidates={name: logits[name] for name in recorded}, more_rows=later_rows(last_look),
                        logits_of=logits_from(backends))
    here = gather_evidence(evidence, sizes, max_drop)
    cpu = measured_on()
    flags = " ".join(cpu["cpu_flags"])
    notes = []
    for name, decision in here.items():
        before = recorded[name]
        decision.update(cpu)
        if decision["verdict"] == before["verdict"]:
            continue
        was_default = name == bundle.default_variant and before["verdict"] == KEEPS  # not one named by the user
        consequence = (f"the bundle's default {name} would not be the default here" if was_default else
                       f"{name} would be eligible as the default here" if decision["verdict"] == KEEPS else
                       f"{name} stays out of the default here too")
        notes.append(f"{name}: export decided '{before['verdict']}' on {before['rows']:,} rows on "
                     f"{before.get('cpu', 'another CPU')} ({' '.join(before.get('cpu_flags', []))}); on this CPU "
                     f"({cpu['cpu']}, {flags}) the same rule says '{decision['verdict']}' on {decision['rows']:,} rows "
                     f"[{decision['drop_interval'][0]:+.2f}, {decision['drop_interval'][1]:+.2f}]: {consequence}")
    return here, notes
