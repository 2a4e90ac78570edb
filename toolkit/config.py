"""Options of each command as dataclasses: the one home of every default, choice and help line.

Field names equal CLI flags (`max_length` <-> `--max-length`). toolkit/cli.py builds its parser
from these fields, so a default, a set of choices or a help line is written here and nowhere else.
"""

from __future__ import annotations

import keyword
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from toolkit.modeling import EMBEDDED_MODEL, POOLINGS
from toolkit.options import (
    check_number,
    check_output,
    check_scopes,
    check_size,
    int_list,
    name_list,
    option,
    raise_problems,
    unwritable,
)
from toolkit.runtime.bio import DECODINGS
from toolkit.runtime.bundle import MIN_MAX_LENGTH
from toolkit.runtime.cpu import QUANTIZE_TARGETS
from toolkit.runtime.entities import STRATEGIES as AGGREGATIONS
from toolkit.runtime.openvino import ENGINES
from toolkit.runtime.predict import PROVIDERS
from toolkit.tasks import TASKS
from toolkit.tasks.sentiment import TRUNCATIONS

PRESETS = ("auto", "tutorial")
DEVICES = tuple(PROVIDERS)
OPSETS = (14, 23)  # Optimum's BERT-family exports need 14+; onnxruntime 1.32 runs up to 23
PACKAGE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # an import name that is also a wheel's distribution name
PACKAGE_VERSION = re.compile(r"^\d+(\.\d+)*$")
# Top-level modules a wheel must not shadow beside the standard library's: the toolkit and the wheel's
# own requirements (toolkit/package.py base_requirements: the runtime's three, OpenVINO for its variant).
PACKAGE_TAKEN = ("toolkit", "onnxruntime", "tokenizers", "numpy", "openvino")
BENCH_REPORTS = (".md", ".png")  # written next to bench's report.json
EVALUATION_REPORTS = (".md", ".html")  # written next to evaluate's report.json
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")  # uvicorn's


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
    atol: float = option("largest |logit difference| fp32 and optimized may have against PyTorch", 1e-4,
                         type=float)
    max_drop: float = option("metric points (0.5 = half a percentage point) a quantized variant may lose and "
                             "still be the default: the upper end of its 95%% bootstrap interval must stay within",
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
        check_output(problems, self.report_path, BENCH_REPORTS, self.overwrite,
                     inputs=(self.checkpoint,) if self.output is None else (self.bundle, self.checkpoint))
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


@dataclass
class PredictConfig:
    bundle: Path = option("a bundle directory made by `toolkit export`", positional=True, type=Path)
    texts: list[str] = option("texts to answer; none: read JSON lines or plain lines from stdin", positional="*",
                              default_factory=list)
    variant: str | None = option("the variant to run (default: the manifest's default)", None)
    aggregation: str = option("ner: how word pieces' tags become entities", "first", choices=AGGREGATIONS)
    # A corpus job always verifies the model, runs it on ONNX Runtime and answers --chunk-size rows at a time.
    batch_size: int = option("texts per ONNX Runtime call", 32, type=int, only="not input")
    threads: int | None = option("ONNX Runtime threads (default: ONNX Runtime's choice)", None, type=int)
    no_verify: bool = option("skip the sha256 check of the model file", False, only="not input")
    engine: str | None = option("what runs the model: onnxruntime, or openvino (OpenVINO's CPU runtime; the "
                                "[openvino] extra) (default: the one the variant was made for)", None, choices=ENGINES,
                                only="not input")
    input: Path | None = option("answer a corpus instead: a parquet, jsonl or csv file, or a directory of them, read "
                                "in chunks", None, type=Path)
    output: Path | None = option("the answers' file, parquet or jsonl by its suffix", None, type=Path, only="input")
    text_column: str = option("the column of texts", "text", only="input")
    id_column: str | None = option("a column copied beside each answer (default: the row number)", None,
                                   only="input")
    chunk_size: int = option("rows read and answered at a time (memory stays bounded by it)", 256, type=int,
                             only="input")
    overwrite: bool = option("replace --output", False, only="input")
    ray: bool = option("answer on Ray Data (an actor pool of predictors), on a local Ray or the one at --address",
                       False, only="input")
    address: str | None = option("a Ray cluster to join (default: start a local Ray)", None, only="ray")

    def check(self) -> None:
        """Raise one error naming every option outside its allowed values or given where it does not apply."""
        problems: list[str] = []
        check_scopes(problems, self, {"input": ("a corpus", "texts given directly"),
                                      "ray": ("Ray Data", "this process")})
        check_number(problems, "--chunk-size", self.chunk_size, low=1)
        if self.input is not None and self.texts:
            problems.append("--input answers a corpus: give texts either as arguments or in --input, not both")
        if self.input is not None and self.output is None:
            problems.append("--input and --output go together: name the file the answers go to (.parquet or .jsonl)")
        if self.input is not None and self.output is not None:
            if Path(self.output).is_dir():
                problems.append(f"--output {self.output} is a directory: name a file such as "
                                f"{Path(self.output) / 'answers.parquet'}")
            elif unwritable(self.output):
                problems.append(f"--output {self.output}: {unwritable(self.output)}; choose a writable place")
        raise_problems(problems)


@dataclass
class ServeConfig:
    bundle: Path = option("a bundle directory made by `toolkit export`", positional=True, type=Path)
    host: str = option("address to listen on (127.0.0.1: this machine only)", "127.0.0.1")
    port: int = option("TCP port to listen on", 8080, type=int)
    variant: str | None = option("the variant to serve (default: the manifest's default)", None)
    threads: int | None = option("ONNX Runtime threads (default: ONNX Runtime's choice; 1 per replica with --ray)",
                                 None, type=int)
    engine: str | None = option("what runs the model: onnxruntime, or openvino (OpenVINO's CPU runtime; the "
                                "[openvino] extra; not with --ray) (default: the one the variant was made for)", None,
                                choices=ENGINES)
    max_batch_size: int = option("texts grouped into one model call from concurrent requests (1: no batching)", 32,
                                 type=int)
    max_wait_ms: float = option("how long a request may wait for others to join its batch", 5.0, type=float)
    max_body_bytes: int = option("largest request body accepted (413 above)", 1 << 20, type=int)
    max_texts: int = option("most texts in one request (422 above)", 256, type=int)
    # A long review is ~13k characters; the runtime's windows read it whole.
    max_chars: int = option("most characters in one text (422 above)", 20_000, type=int)
    # What one request may make the model read: 100,000 characters is ~25,000 MiniLM tokens, some 10 s on 2 cores.
    max_request_chars: int = option("most characters in one request, all its texts together (422 above)", 100_000,
                                    type=int)
    docs: bool = option("serve /docs and /redoc: their pages load scripts from a public CDN, so they are off unless "
                        "asked for (/openapi.json is always served)", False)
    shutdown_timeout: float = option("seconds SIGTERM waits for requests in flight, and for clients still sending "
                                     "one, before it closes their connections", 30.0, type=float, only="not ray")
    log_level: str = option("the server's log level", "info", choices=LOG_LEVELS, only="not ray")
    no_access_log: bool = option("log no line per request", False, only="not ray")
    ray: bool = option("serve on Ray Serve, with --replicas replicas, on a local Ray or the one at --address", False)
    replicas: int = option("replicas of the model", 2, type=int, only="ray")
    replica_cpus: float = option("Ray CPUs each replica reserves", 1.0, type=float, only="ray")
    address: str | None = option("a Ray cluster to join, e.g. ray://HOST:10001 or auto (default: start a local Ray)",
                                 None, only="ray")

    def check(self) -> None:
        """Raise one error naming every option outside its allowed values, before anything starts."""
        problems: list[str] = []
        check_scopes(problems, self, {"ray": ("Ray Serve", "this process")})
        check_number(problems, "--port", self.port, low=0, high=65535)
        check_number(problems, "--max-batch-size", self.max_batch_size, low=1)
        check_number(problems, "--max-wait-ms", self.max_wait_ms, low=0)
        for flag, value in (("--max-body-bytes", self.max_body_bytes), ("--max-texts", self.max_texts),
                            ("--max-chars", self.max_chars), ("--max-request-chars", self.max_request_chars),
                            ("--replicas", self.replicas)):
            check_number(problems, flag, value, low=1)
        check_number(problems, "--shutdown-timeout", self.shutdown_timeout, low=0)
        if self.log_level not in LOG_LEVELS:
            problems.append(f"--log-level must be one of {', '.join(LOG_LEVELS)}, found {self.log_level!r}")
        check_number(problems, "--replica-cpus", self.replica_cpus, above=0)
        if self.ray and self.engine == "openvino":
            problems.append("--engine openvino serves from this process only, not on Ray Serve's replicas: leave "
                            "--ray out, or --engine")
        raise_problems(problems)


@dataclass
class PackageConfig:
    bundle: Path = option("a bundle directory made by `toolkit export`", positional=True, type=Path)
    name: str = option("the package's name, e.g. ner_model: `pip install` makes `import NAME` work", "")
    version: str = option("the package's version", "0.1.0")
    variant: str | None = option("the variant to package (default: the bundle's default)", None)
    output_dir: Path = option("where the wheel goes", Path("dist"), type=Path)
    overwrite: bool = option("replace a wheel of the same name and version", False)

    def check(self) -> None:
        """Raise one error naming every option that cannot make a wheel, before the bundle is read."""
        problems: list[str] = []
        if not self.name:
            problems.append("--name is missing: give the package a name, e.g. --name ner_model (then "
                            "`import ner_model` loads it)")
        elif not PACKAGE_NAME.match(self.name):
            problems.append(f"--name {self.name!r} is not a package name: use lower-case letters, digits and _, "
                            "starting with a letter (e.g. ner_model)")
        elif keyword.iskeyword(self.name):
            problems.append(f"--name {self.name!r} is a Python keyword: `import {self.name}` is a syntax error; "
                            f"choose another, e.g. {self.name}_model")
        elif self.name in sys.stdlib_module_names or self.name in PACKAGE_TAKEN:
            problems.append(f"--name {self.name!r} is a module of the standard library, of the wheel's requirements "
                            f"or the toolkit: the wheel would shadow it; choose another, e.g. {self.name}_model")
        if not PACKAGE_VERSION.match(self.version):
            problems.append(f"--version {self.version!r} is not a version: use numbers with dots, e.g. 1.0.0")
        if Path(self.output_dir).exists() and not Path(self.output_dir).is_dir():
            problems.append(f"--output-dir {self.output_dir} is a file: choose a directory")
        raise_problems(problems)


@dataclass
class DemoConfig:
    workdir: Path = option("where the demo's data, checkpoint and report go", Path("runs/demo"), type=Path)
    epochs: float = option("training epochs on the synthetic sample", 3, type=float)


@dataclass
class InfoConfig:
    path: Path = option("a bundle made by `toolkit export` or a checkpoint made by `toolkit train`", positional=True,
                        type=Path)
    json: bool = option("print the facts as JSON instead of text", False)


@dataclass
class DataConfig:
    # No argparse choices: toolkit.data.local_copy's table names the datasets, and check() says them.
    name: str = option("the dataset to write: conll2003 (for ner) or imdb (for sentiment)", positional=True)
    output: Path | None = option("the directory the parquet files go to (default: data/NAME)", None, type=Path)
    source: Path | None = option("read files you already have instead of the hub: a folder of CoNLL-2003 text files "
                                 "(train.txt, valid.txt, test.txt) or the aclImdb tree", None, type=Path)
    overwrite: bool = option("replace --output", False)

    @property
    def output_dir(self) -> Path:
        return Path(self.output) if self.output is not None else Path("data") / self.name

    def check(self) -> None:
        """Raise one error naming every option that cannot write the dataset, before anything is read."""
        from toolkit.data.local_copy import DATASETS

        problems: list[str] = []
        if self.name not in DATASETS:
            problems.append(f"unknown dataset {self.name!r}: expected one of {', '.join(DATASETS)}")
        if self.output_dir.exists() and not self.output_dir.is_dir():
            problems.append(f"--output {self.output_dir} is a file: choose a directory")
        elif self.output_dir.is_dir() and any(self.output_dir.iterdir()) and not self.overwrite:
            problems.append(f"--output {self.output_dir} is not empty: pass --overwrite to replace it, or choose "
                            "another directory")
        raise_problems(problems)
