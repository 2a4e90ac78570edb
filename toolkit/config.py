"""Options of each command as dataclasses; field names equal CLI flag names."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TrainConfig:
    task: str
    model: str = "minilm"
    dataset: str | None = None  # None: the task's hub dataset
    train_size: str = "1000"
    eval_size: str = "500"
    preset: str = "auto"  # "auto": per-model defaults; "tutorial": the tutorial's exact settings
    epochs: float | None = None
    learning_rate: float | None = None
    batch_size: int | None = None
    weight_decay: float | None = None
    warmup_ratio: float | None = None
    lr_scheduler: str | None = None
    decoding: str | None = None  # NER: "argmax" | "viterbi"
    truncation: str | None = None  # sentiment: "head" | "head+tail" | "windows"
    layer_lr_decay: float | None = None
    head_lr_multiplier: float | None = None
    augment_copies: int | None = None
    pooling: str | None = None
    seed: int = 42
    max_length: int = 512
    max_steps: int | None = None
    label_all_tokens: bool = True
    text_column: str | None = None
    label_column: str | None = None
    output_dir: Path | None = None
    resume: bool = False
    overwrite: bool = False


@dataclass
class ExportConfig:
    checkpoint: Path
    output_dir: Path | None = None
    quantize: bool = False
    static: bool = False
    calibration_dataset: str | None = None
    calibration_size: int = 128
    fp16: bool = False
    opset: int = 18
    atol: float = 1e-4
    max_drop: float = 0.5  # points of the task metric (0.5 = half a percentage point)


@dataclass
class BenchConfig:
    bundle: Path
    checkpoint: Path | None = None
    dataset: str | None = None
    split: str | None = None
    eval_size: str | None = None  # None: as the checkpoint was evaluated
    device: str = "cpu"
    batch_sizes: list[int] = field(default_factory=lambda: [1, 8, 32])
    seq_lens: list[int] = field(default_factory=lambda: [32, 128, 512])
    threads: int = 2
    warmup: int = 10
    runs: int = 100
    output: Path = Path("report.json")
    variants: list[str] | None = None  # None: every variant in the bundle
