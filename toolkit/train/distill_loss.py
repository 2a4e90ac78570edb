"""The distillation loss, and the Trainer and collator that feed it the teacher's targets.

loss = (1 - distill_weight) * cross-entropy on the gold labels (labelled rows only)
     + distill_weight * T^2 * KL(teacher/T || student/T) (every row, on the positions the teacher answered)
(Hinton et al., 2015, "Distilling the Knowledge in a Neural Network": T^2 keeps the soft part's
gradients at the scale of the hard part's whatever the temperature.)
"""

from __future__ import annotations

from transformers import Trainer

from toolkit.tasks.ner import IGNORE
from toolkit.train.distill import TEACHER_LOGITS, TEACHER_MASK


def distillation_loss(logits, labels, teacher_logits, teacher_mask, temperature: float, distill_weight: float):
    """The mixed loss of one batch; rows without gold labels (all IGNORE) add only the teacher's part."""
    import torch.nn.functional as F

    classes = logits.shape[-1]
    flat_logits, flat_labels = logits.reshape(-1, classes), labels.reshape(-1)
    # A sum over the labelled positions, not a mean: a batch of unlabelled rows has none, and a mean would be NaN.
    gold = F.cross_entropy(flat_logits.float(), flat_labels, ignore_index=IGNORE, reduction="sum") / max(
        1, int((flat_labels != IGNORE).sum()))
    if teacher_logits is None:
        return gold
    answered = teacher_mask.reshape(-1) > 0
    student = F.log_softmax(flat_logits[answered].float() / temperature, dim=-1)
    teacher = F.log_softmax(teacher_logits.reshape(-1, classes)[answered].float() / temperature, dim=-1)
    soft = F.kl_div(student, teacher, log_target=True, reduction="sum") / max(1, int(answered.sum()))
    return (1 - distill_weight) * gold + distill_weight * temperature ** 2 * soft


class DistillationCollator:
    """The task's collator, with the teacher's targets padded beside the inputs (when the rows have them)."""

    def __init__(self, collator, tokenizer):
        self.collator = collator
        self.keep = {*tokenizer.model_input_names, "labels"}
        self.pads_left = tokenizer.padding_side == "left"

    def student_only(self, features: list[dict]) -> dict:
        """The batch without the teacher's targets: what the model's forward takes."""
        return self.collator([{k: v for k, v in f.items() if k in self.keep} for f in features])

    def __call__(self, features: list[dict]) -> dict:
        import torch

        batch = self.student_only(features)
        if TEACHER_LOGITS not in features[0]:
            return batch
        logits = [torch.tensor(f[TEACHER_LOGITS], dtype=torch.float32) for f in features]
        masks = [torch.tensor(f[TEACHER_MASK], dtype=torch.float32) for f in features]
        if logits[0].dim() == 2:  # per token: pad to the batch's length as the inputs are padded
            width = batch["input_ids"].shape[1]
            logits = [self._pad(t, width) for t in logits]
            masks = [self._pad(m, width) for m in masks]
        batch[TEACHER_LOGITS], batch[TEACHER_MASK] = torch.stack(logits), torch.stack(masks)
        return batch

    def _pad(self, tensor, width: int):
        import torch.nn.functional as F

        missing = width - tensor.shape[0]
        sides = (missing, 0) if self.pads_left else (0, missing)
        return F.pad(tensor, (0, 0, *sides) if tensor.dim() == 2 else sides)


class DistillationTrainer(Trainer):
    """Trainer whose loss mixes the gold labels with the teacher's softened probabilities."""

    def __init__(self, *args, temperature: float, distill_weight: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.temperature, self.distill_weight = temperature, distill_weight

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        teacher_logits, teacher_mask = inputs.pop(TEACHER_LOGITS, None), inputs.pop(TEACHER_MASK, None)
        outputs = model(**inputs)
        loss = distillation_loss(outputs.logits, labels, teacher_logits, teacher_mask, self.temperature,
                                 self.distill_weight)
        return (loss, outputs) if return_outputs else loss
