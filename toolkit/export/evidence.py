"""The evidence export's default decision needs: more rows of the evaluation split, scored by
PyTorch and by each quantized variant's staged file (the rule itself: toolkit/export/decision.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.backends import ENGINE_BACKENDS, TorchBackend
from toolkit.checkpoint import Checkpoint, evaluation_set
from toolkit.config import ExportConfig
from toolkit.export.decision import Evidence, gather_evidence, later_rows, logits_from, measured_on, planned_looks
from toolkit.export.variants import VARIANTS
from toolkit.runtime.manifest import VariantEntry


@dataclass
class DecisionInputs:
    """What scoring more evaluation rows needs."""

    checkpoint: Checkpoint
    cfg: ExportConfig
    tokenizer: object
    evaluation: object  # the first look's EvaluationSet
    pytorch: TorchBackend
    staging: Path  # where the candidates' files are
    reference: list  # PyTorch's logits of the first look's rows


def decide(inputs: DecisionInputs, variants: dict[str, VariantEntry], logits_of_variant: dict[str, list],
           progress) -> None:
    """Record on every quantized variant whether it keeps accuracy, scoring more rows of the split
    where its interval straddles --max-drop (toolkit/export/decision.py)."""
    from toolkit.data import parse_size

    candidates = [name for name, entry in variants.items()
                  if not VARIANTS[name].strict_parity and entry.checks.drop_interval is not None]
    if not candidates:
        return
    checkpoint, cfg, description = inputs.checkpoint, inputs.cfg, inputs.evaluation.description
    limit = parse_size(cfg.max_eval_size) if cfg.max_eval_size else checkpoint.task.decision_rows
    sizes = planned_looks(description["examples"], description.get("available", description["examples"]), limit)
    backends = {name: ENGINE_BACKENDS[variants[name].engine](name, inputs.staging / variants[name].file,
                                                             device=variants[name].devices[0])
                for name in candidates}
    backends["pytorch"] = inputs.pytorch
    last_look = lambda: evaluation_set(checkpoint, inputs.tokenizer, checkpoint.max_length,  # noqa: E731
                                       dataset=cfg.dataset, split=cfg.split, eval_size=str(sizes[-1]))
    evidence = Evidence(task=checkpoint.task, labels=checkpoint.labels, decoding=checkpoint.decoding,
                        features=inputs.evaluation.features, reference=inputs.reference,
                        candidates={name: logits_of_variant[name] for name in candidates},
                        more_rows=later_rows(last_look), logits_of=logits_from(backends))
    decisions = gather_evidence(evidence, sizes, cfg.max_drop, progress=progress.set_postfix_str)
    for name, decision in decisions.items():
        variants[name].checks.decision = {**decision, **measured_on()}
