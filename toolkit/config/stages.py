"""Options of the verbs of the pipeline: train, export, bench, evaluate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.modeling import EMBEDDED_MODEL, POOLINGS
from toolkit.options import (
    inside,
    check_number,
    check_output,
    check_size,
    int_list,
    name_list,
    option,
    raise_problems,
)
from toolkit.runtime.bio import DECODINGS
from toolkit.runtime.bundle import MIN_MAX_LENGTH
from toolkit.runtime.cpu import QUANTIZE_TARGETS
from toolkit.tasks import TASKS
from toolkit.tasks.sentiment import TRUNCATIONS
from toolkit.config.choices import PRESETS, DEVICES, OPSETS, BENCH_REPORTS, EVALUATION_REPORTS


@dataclass
class TrainConfig:
    # No argparse choices: get_task's error names the known tasks in one line, exit code 1.
    task: str = option(f"the task to train: {' or '.join(TASKS)}", positional=True)
    model: str = option(f"hub id, checkpoint directory, or '{EMBEDDED_MODEL}' (the embedded all-MiniLM-L6-v2)",
                        EMBEDDED_MODEL)
    dataset: str | None = option("hub id or local directory of train and validation/test files "
                                 "(default: the task's hub dataset)", None)
    train_size: str = option("rows of train after shuffle(seed), or 'all'", "1000")
    eval_size: str = option("rows of the evaluation split after shuffle(seed), or 'all'", "500")
    preset: str = option("hyper-parameter defaults: per task and model size ('auto') or the tutorial's exact "
                         "recipe; any flag you pass wins", "auto", choices=PRESETS)
    epochs: float | None = option("training epochs (default: from --preset)", None, type=float)
    learning_rate: float | None = option("peak learning rate (default: from --preset)", None, type=float)
    batch_size: int | None = option("examples per training step (default: from --preset)", None, type=int)
    weight_decay: float | None = option("AdamW weight decay (default: from --preset)", None, type=float)
    warmup_ratio: float | None = option("share of steps spent warming the rate up (default: from --preset)",
                                        None, type=float)
    lr_scheduler: str | None = option("a transformers scheduler name, e.g. linear, cosine (default: from "
                                      "--preset)", None)
    decoding: str | None = option("ner: tags by per-token arg-max, or the best path in which every I-X "
                                  "continues an X (default: from --preset)", None, choices=DECODINGS)
    truncation: str | None = option("sentiment: train on the start of long texts, their start and end, or all "
                                    "of them in overlapping windows (default: from --preset)", None,
                                    choices=TRUNCATIONS)
    layer_lr_decay: float | None = option("learning-rate multiplier per layer down from the top; 1 is off "
                                          "(default: from --preset)", None, type=float)
    head_lr_multiplier: float | None = option("the task head's rate as a multiple of --learning-rate "
                                              "(default: from --preset)", None, type=float)
    augment_copies: int | None = option("ner: add this many mention-swapped copies of each training sentence "
                                        "(default: from --preset)", None, type=int)
    pooling: str | None = option("sentiment: classify the [CLS] vector or the mean of the token vectors "
                                 "(default: from --preset)", None, choices=POOLINGS)
    seed: int = option("seed of the protocol's shuffle and of training", 42, type=int)
    max_length: int = option("longest input in tokens (capped by the model's position embeddings)", 512,
                             type=int)
    max_steps: int | None = option("stop after this many optimizer steps (overrides --epochs)", None, type=int)
    label_all_tokens: bool = option("ner: continuation pieces get the word's label, B-X as I-X (the tutorial's)",
                                    True, negative=("--first-token-only", "ner: only a word's first piece is "
                                                    "labelled; the rest are ignored"))
    text_column: str | None = option("column of texts, or of word lists for ner (default: the task's)", None)
    label_column: str | None = option("column of labels (default: the task's)", None)
    eval_every: str = option("score the evaluation split during training: each 'epoch', every N steps, or 'no'",
                             "epoch")
    keep_best: bool = option("end with the checkpoint that scored best during training (it is chosen on the "
                             "evaluation split, so that split's score reads a little high)", False)
    early_stopping: int | None = option("stop when this many evaluations in a row do not improve the score; keeps "
                                        "the best checkpoint", None, type=int)
    report_to: list[str] = option("Trainer's integrations to log to, comma-separated: tensorboard, mlflow, wandb, "
                                  "... (installed ones), all, or none", type=name_list,
                                  default_factory=lambda: ["none"])
    teacher: Path | None = option("distil from this trained checkpoint of the same task and labels (any supported "
                                  "architecture and tokenizer): the student learns from the gold labels and the "
                                  "teacher's softened probabilities", None, type=Path)
    unlabeled_size: str | None = option("with --teacher: this many more texts ('all' allowed), learnt from the "
                                        "teacher alone: training-split rows after the first --train-size, or "
                                        "--unlabeled-dataset's", None)
    unlabeled_dataset: str | None = option("with --teacher: hub id or directory of texts for --unlabeled-size "
                                           "(their labels are not used)", None)
    # Chosen on a holdout of CoNLL training sentences no model reads (bench/distillation.py holdout;
    # the grid and its scores: bench/README.md "A real base-size model, and distillation into MiniLM").
    temperature: float = option("with --teacher: softening temperature of both models' probabilities",
                                4.0, type=float)
    distill_weight: float = option("with --teacher: share of the loss from the teacher's probabilities, the rest "
                                   "from the gold labels", 0.5, type=float)
    output_dir: Path | None = option("where the checkpoint goes (default: runs/TASK-MODEL)", None, type=Path)
    resume: bool = option("continue an interrupted run in --output-dir", False)
    overwrite: bool = option("replace a checkpoint in --output-dir", False)

    def check(self) -> None:
        """Raise one error naming every option outside its allowed values."""
        problems: list[str] = []
        check_size(problems, "--train-size", self.train_size)
        check_size(problems, "--eval-size", self.eval_size)
        check_number(problems, "--epochs", self.epochs, above=0)
        check_number(problems, "--learning-rate", self.learning_rate, above=0)
        check_number(problems, "--batch-size", self.batch_size, low=1)
        check_number(problems, "--weight-decay", self.weight_decay, low=0)
        check_number(problems, "--warmup-ratio", self.warmup_ratio, low=0, high=1)
        check_number(problems, "--layer-lr-decay", self.layer_lr_decay, above=0, high=1)
        check_number(problems, "--head-lr-multiplier", self.head_lr_multiplier, above=0)
        check_number(problems, "--augment-copies", self.augment_copies, low=0)
        check_number(problems, "--max-length", self.max_length, low=MIN_MAX_LENGTH)
        check_number(problems, "--max-steps", self.max_steps, low=1)
        check_number(problems, "--early-stopping", self.early_stopping, low=1)
        check_size(problems, "--unlabeled-size", self.unlabeled_size)
        check_number(problems, "--temperature", self.temperature, above=0)
        check_number(problems, "--distill-weight", self.distill_weight, low=0, high=1)
        if self.teacher is None and (self.unlabeled_size is not None or self.unlabeled_dataset is not None):
            problems.append("--unlabeled-size and --unlabeled-dataset are learnt from the teacher's answers: pass "
                            "--teacher CHECKPOINT")
        if not (self.eval_every in ("epoch", "no") or (self.eval_every.isdigit() and int(self.eval_every) > 0)):
            problems.append(f"--eval-every must be 'epoch', a positive number of steps or 'no', found "
                            f"{self.eval_every!r}")
        elif self.eval_every == "no" and (self.keep_best or self.early_stopping):
            problems.append("--keep-best and --early-stopping choose by the scores taken during training: leave out "
                            "--eval-every no")
        if self.output_dir is not None and Path(self.output_dir).exists() and not Path(self.output_dir).is_dir():
            problems.append(f"--output-dir {self.output_dir} is a file: choose a directory")
        raise_problems(problems)


@dataclass
class ExportConfig:
    checkpoint: Path = option("a checkpoint directory made by `toolkit train` (or any fine-tuned one)",
                              positional=True, type=Path)
    output_dir: Path | None = option("where the bundle goes (default: exports/CHECKPOINT_NAME)", None, type=Path)
    overwrite: bool = option("replace the bundle in --output-dir (only a bundle is ever replaced)", False)
    quantize: bool = option("add the int8-dynamic variant", False)
    quantize_for: str = option("the CPUs the int8 variants are made for: portable (7-bit weights, right on every "
                               "x86 CPU), avx2 (the same), avx512_vnni or arm64 (full 8-bit weights; other CPUs "
                               "can saturate)", "portable", choices=QUANTIZE_TARGETS)
    static: bool = option("with --quantize, add int8-static (activation ranges calibrated on training data)",
                          False)
    compact: bool = option("with --quantize, add int8-compact: int8-dynamic with the embedding tables in int8 too, "
                           "one scale per row (the smallest file; never the default)", False)
    openvino: bool = option("with --quantize, add int8-openvino: int8 by NNCF (calibrated on training data), made "
                            "for and checked on OpenVINO, which the runtime loads with engine='openvino' (the "
                            "[openvino] extra)", False)
    calibration_dataset: str | None = option("hub id or directory for --static's and --openvino's calibration "
                                             "(default: the training data)", None)
    calibration_size: int = option("examples --static and --openvino calibrate on", 128, type=int)
    fp16: bool = option("add an fp16 variant (checked on CUDA)", False)
    opset: int = option("ONNX opset of the export", 18, type=int)
    atol: float = option("largest |logit difference| fp32 may have against PyTorch; optimized may also reach "
                         "twice fp32's own difference (float32 rounding of a deep model)", 1e-4, type=float)
    max_drop: float = option("metric points (0.5 = half a percentage point) a quantized variant may lose and "
                             "still be the default: the upper end of its bootstrap interval must stay within (95%% over all the "
                             "looks of the decision, each look at 1 - 0.05/looks)",
                             0.5, type=float)
    dataset: str | None = option("labelled evaluation data for the checks: hub id or directory (default: the "
                                 "checkpoint's own, found from its training record)", None)
    split: str | None = option("split of the evaluation data (default: the task's evaluation split)", None)
    eval_size: str | None = option("rows of the split, or 'all' (default: as the checkpoint was evaluated)", None)
    max_eval_size: str | None = option("most rows the default decision scores, doubling from --eval-size while a "
                                       "quantized variant's interval straddles --max-drop, or 'all' (default: the "
                                       "task's: all of the split for ner, 2000 for sentiment)", None)
    # No argparse choices here and below: the variant table lives in toolkit.export, which imports this module.
    variants: list[str] | None = option("comma-separated variants to keep, e.g. int8-dynamic for a slim bundle; "
                                        "those they are made from are built and checked, then left out "
                                        "(default: fp32, optimized and what --quantize/--static/--fp16 add)", None,
                                        type=name_list)
    default_variant: str | None = option("the variant the runtime loads by default, e.g. int8-dynamic (default: "
                                         "the fastest shown to keep accuracy)", None)

    def check(self) -> None:
        """Raise one error naming every option outside its allowed values."""
        problems: list[str] = []
        check_number(problems, "--opset", self.opset, low=OPSETS[0], high=OPSETS[1])
        check_number(problems, "--atol", self.atol, above=0)
        check_number(problems, "--max-drop", self.max_drop, low=0)
        check_number(problems, "--calibration-size", self.calibration_size, low=1)
        check_size(problems, "--eval-size", self.eval_size)
        check_size(problems, "--max-eval-size", self.max_eval_size)
        if str(self.eval_size).isdigit() and str(self.max_eval_size).isdigit() and \
                int(self.max_eval_size) < int(self.eval_size):
            problems.append(f"--max-eval-size {self.max_eval_size} is below --eval-size {self.eval_size}: the first "
                            "look scores --eval-size rows; pass a larger --max-eval-size or 'all'")
        if self.static and not self.quantize:
            problems.append("--static needs --quantize")
        if self.variants and (self.quantize or self.static or self.fp16 or self.compact or self.openvino):
            problems.append("--variants names every variant to keep: leave out --quantize/--static/--fp16/--compact/"
                            "--openvino beside it (e.g. --variants optimized,int8-dynamic)")
        if self.compact and not self.quantize:
            problems.append("--compact needs --quantize")
        if self.openvino and not self.quantize:
            problems.append("--openvino needs --quantize")
        raise_problems(problems)


@dataclass
class BenchConfig:
    bundle: Path = option("a bundle directory made by `toolkit export`", positional=True, type=Path)
    checkpoint: Path | None = option("the PyTorch checkpoint (default: the bundle's source)", None, type=Path)
    dataset: str | None = option("evaluation data: hub id or directory (default: the checkpoint's own)", None)
    split: str | None = option("split of --dataset to evaluate on (default: the task's evaluation split)", None)
    eval_size: str | None = option("rows of the split, or 'all' (default: as the checkpoint was evaluated)",
                                   None)
    device: str = option("where PyTorch and ONNX Runtime run", "cpu", choices=DEVICES)
    # Defaults a user can wait for on a 2-core CPU (a few minutes for a MiniLM bundle); the full grid
    # is --batch-sizes 1,8,32 --seq-lens 32,128,512 --runs 100.
    batch_sizes: list[int] = option("batch sizes to time, comma-separated (full grid: 1,8,32)", type=int_list,
                                    default_factory=lambda: [1, 8])
    seq_lens: list[int] = option("sequence lengths to time, comma-separated (full grid: 32,128,512)", type=int_list,
                                 default_factory=lambda: [128])
    threads: int = option("threads for PyTorch and ONNX Runtime alike", 2, type=int)
    warmup: int = option("untimed calls before timing each cell", 5, type=int)
    runs: int = option("timed calls per cell (full grid: 100)", 30, type=int)
    output: Path | None = option("report.json path; report.md and report.png go next to it (default: "
                                 "BUNDLE/bench/report.json, beside what was measured)", None, type=Path)
    overwrite: bool = option("replace the reports at --output", False)
    variants: list[str] | None = option("comma-separated variants to measure (default: all in the bundle)",
                                        None, type=name_list)
    # No argparse choices: the peer table lives in toolkit.bench.peers, which needs this module's package.
    peers: list[str] | None = option("comma-separated other runtimes to measure beside the variants, e.g. "
                                     "torch-int8,torch-compile,openvino-fp32,openvino-int8, or all; openvino "
                                     "needs pip install 'onnxbert-toolkit[peers]' (default: none)", None, type=name_list)

    def check(self) -> None:
        """Raise one error naming every option outside its allowed values, before anything is measured."""
        problems: list[str] = []
        for flag, values in (("--batch-sizes", self.batch_sizes), ("--seq-lens", self.seq_lens)):
            if not values or min(values) < 1:
                problems.append(f"{flag} must list whole numbers of at least 1, found {values}")
        check_size(problems, "--eval-size", self.eval_size)
        check_number(problems, "--threads", self.threads, low=1)
        check_number(problems, "--warmup", self.warmup, low=0)
        check_number(problems, "--runs", self.runs, low=1)
        # the default place is inside the bundle on purpose (beside what was measured)
        beside = inside(self.report_path, Path(self.bundle) / "bench")  # the default place, named or not
        check_output(problems, self.report_path, BENCH_REPORTS, self.overwrite,
                     inputs=(self.checkpoint,) if beside else (self.bundle, self.checkpoint))
        raise_problems(problems)

    @property
    def report_path(self) -> Path:
        """--output, or report.json in the bundle's bench/ folder."""
        return Path(self.output) if self.output is not None else Path(self.bundle) / "bench" / "report.json"


@dataclass
class EvaluateConfig:
    model_dir: Path = option("a checkpoint directory made by `toolkit train`, or a bundle directory made by "
                             "`toolkit export`", positional=True, type=Path)
    dataset: str | None = option("labelled evaluation data: hub id or directory (default: the checkpoint's own)",
                                 None)
    split: str | None = option("split of the evaluation data (default: the task's evaluation split)", None)
    eval_size: str | None = option("rows of the split, or 'all' (default: as the checkpoint was evaluated)", None)
    variant: str | None = option("bundle: the variant whose mistakes are analysed (default: the manifest's "
                                 "default); every variant is compared with PyTorch", None)
    output: Path = option(f"report.json path; report{' and report'.join(EVALUATION_REPORTS)} go next to it",
                          Path("evaluation/report.json"), type=Path)
    overwrite: bool = option("replace the reports at --output", False)
    worst: int = option("how many of the worst sentences (ner) or most confidently wrong texts (sentiment) to "
                        "show", 10, type=int)

    def check(self) -> None:
        """Raise one error naming every option outside its allowed values, before anything is run."""
        problems: list[str] = []
        check_size(problems, "--eval-size", self.eval_size)
        check_number(problems, "--worst", self.worst, low=0)
        local_data = Path(self.dataset) if self.dataset and Path(self.dataset).exists() else None
        check_output(problems, self.output, EVALUATION_REPORTS, self.overwrite, inputs=(self.model_dir, local_data))
        raise_problems(problems)
