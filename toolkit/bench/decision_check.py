"""Bench re-takes export's default decision on the machine where it runs: the same rows, looks and
rule (toolkit/export/decision.py), with this CPU's kernels. A bundle's default must not depend on
the CPU that exported it; this says plainly when the evidence here would choose differently."""

from __future__ import annotations

from toolkit.checkpoint import evaluation_set
from toolkit.export.decision import KEEPS, Evidence, gather_evidence
from toolkit.runtime.cpu import cpu_flags, cpu_name
from toolkit.scoring import EVAL_BATCH_SIZE, collect_logits

FLAGS = {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp"}


def recheck_decisions(bundle, checkpoint, evaluation, backends: dict, logits: dict, max_drop: float) -> tuple[dict, list]:
    """Each decided variant's decision taken again here, and a note for each that comes out
    differently. `backends` and `logits` are by name, "pytorch" among them."""
    recorded = {name: entry.checks.decision for name, entry in bundle.variants.items()
                if entry.checks.decision and name in logits and entry.checks.decision.get("planned_rows")}
    if not recorded:
        return {}, []
    sizes = next(iter(recorded.values()))["planned_rows"]
    larger = []

    def more_rows(start: int, end: int) -> list[dict]:
        if not larger:
            larger.append(evaluation_set(checkpoint, max_length=bundle.max_length,
                                         dataset=evaluation.description["dataset"],
                                         split=evaluation.description["split"], eval_size=str(sizes[-1])))
        return [f for i, f in enumerate(larger[0].features) if start <= f.get("example_index", i) < end]

    def logits_of(name: str, features: list[dict]) -> list:
        return collect_logits(backends[name].logits, features, EVAL_BATCH_SIZE, backends[name].input_names)

    evidence = Evidence(task=checkpoint.task, labels=checkpoint.labels, decoding=checkpoint.decoding,
                        features=evaluation.features, reference=logits["pytorch"],
                        candidates={name: logits[name] for name in recorded}, more_rows=more_rows,
                        logits_of=logits_of)
    here = gather_evidence(evidence, sizes, max_drop)
    flags = " ".join(sorted(cpu_flags() & FLAGS))
    notes = []
    for name, decision in here.items():
        before = recorded[name]
        decision.update(cpu=cpu_name(), cpu_flags=flags)
        if decision["verdict"] == before["verdict"]:
            continue
        was_default = name == bundle.default_variant
        consequence = (f"the bundle's default {name} would not be the default here" if was_default else
                       f"{name} would be eligible as the default here" if decision["verdict"] == KEEPS else
                       f"{name} stays out of the default here too")
        notes.append(f"{name}: export decided '{before['verdict']}' on {before['rows']:,} rows on "
                     f"{before.get('cpu', 'another CPU')} ({' '.join(before.get('cpu_flags', []))}); on this CPU "
                     f"({cpu_name()}, {flags}) the same rule says '{decision['verdict']}' on {decision['rows']:,} rows "
                     f"[{decision['drop_interval'][0]:+.2f}, {decision['drop_interval'][1]:+.2f}]: {consequence}")
    return here, notes
