"""The `toolkit` command: parse options, call the library, print results."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.heads import POOLINGS

TASK_NAMES = ("ner", "sentiment")


def _int_list(value: str) -> list[int]:
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, found {value!r}") from None


def _add_train(commands) -> None:
    parser = commands.add_parser("train", help="Fine-tune a model on a task with Hugging Face Trainer.")
    parser.add_argument("task", help=f"one of: {', '.join(TASK_NAMES)}")
    parser.add_argument("--model", default="minilm",
                        help="hub id, checkpoint directory, or 'minilm' (the embedded model; default)")
    parser.add_argument("--dataset", help="hub id or local directory (default: the task's hub dataset)")
    parser.add_argument("--train-size", default="1000", help="rows of train after shuffle, or 'all'")
    parser.add_argument("--eval-size", default="500", help="rows of the evaluation split, or 'all'")
    parser.add_argument("--preset", default="auto", choices=("auto", "tutorial"),
                        help="hyper-parameter defaults: per-model ('auto') or the tutorial's exact ones")
    parser.add_argument("--epochs", type=float)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--warmup-ratio", type=float)
    parser.add_argument("--lr-scheduler", help="a transformers scheduler name, e.g. linear, cosine")
    parser.add_argument("--decoding", choices=("argmax", "viterbi"),
                        help="NER tags: per-token arg-max, or the best B-/I-consistent path")
    parser.add_argument("--truncation", choices=("head", "head+tail", "windows"),
                        help="sentiment: train on the start of long texts, their start and end, or all of "
                             "them in overlapping windows")
    parser.add_argument("--layer-lr-decay", type=float,
                        help="learning rate multiplier per layer down from the top (1: off)")
    parser.add_argument("--head-lr-multiplier", type=float, help="the task head's rate over --learning-rate")
    parser.add_argument("--augment-copies", type=int,
                        help="NER: add this many mention-swapped copies of each training sentence")
    parser.add_argument("--pooling", choices=POOLINGS,
                        help="sentiment: classify the [CLS] vector or the mean of the token vectors")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--max-steps", type=int)
    strategy = parser.add_mutually_exclusive_group()
    strategy.add_argument("--label-all-tokens", dest="label_all_tokens", action="store_true", default=True,
                          help="continuation pieces get the word's label, B-X as I-X (default)")
    strategy.add_argument("--first-token-only", dest="label_all_tokens", action="store_false",
                          help="only a word's first piece is labelled; the rest are ignored")
    parser.add_argument("--text-column")
    parser.add_argument("--label-column")
    parser.add_argument("--output-dir", type=Path)
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run in --output-dir")
    parser.add_argument("--overwrite", action="store_true", help="replace a checkpoint in --output-dir")


def _add_export(commands) -> None:
    parser = commands.add_parser("export", help="Export a checkpoint to a verified ONNX bundle.")
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--output-dir", type=Path)
    parser.add_argument("--quantize", action="store_true", help="add the int8-dynamic variant")
    parser.add_argument("--static", action="store_true", help="with --quantize, add int8-static")
    parser.add_argument("--calibration-dataset", help="hub id or directory (default: the training data)")
    parser.add_argument("--calibration-size", type=int, default=128)
    parser.add_argument("--fp16", action="store_true", help="add an fp16 variant (checked on CUDA)")
    parser.add_argument("--opset", type=int, default=18)
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--max-drop", type=float, default=0.5,
                        help="metric points a quantized variant may lose and still be the default")


def _add_bench(commands) -> None:
    parser = commands.add_parser("bench", help="Accuracy and latency of every variant against PyTorch.")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--checkpoint", type=Path, help="PyTorch checkpoint (default: the bundle's source)")
    parser.add_argument("--dataset")
    parser.add_argument("--split")
    parser.add_argument("--eval-size", help="rows of the split (default: as the checkpoint was evaluated, e.g. 500)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--batch-sizes", type=_int_list, default=[1, 8, 32])
    parser.add_argument("--seq-lens", type=_int_list, default=[32, 128, 512])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--variants", type=lambda v: v.split(","), help="comma-separated (default: all)")
    parser.add_argument("--output", type=Path, default=Path("report.json"))


def _add_predict(commands) -> None:
    parser = commands.add_parser("predict", help="Answer texts with a bundle (arguments or stdin lines).")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("texts", nargs="*", help="texts; none: read JSON lines or plain lines from stdin")
    parser.add_argument("--variant", help="default: the manifest's default variant")
    parser.add_argument("--aggregation", default="first", choices=("simple", "first", "average", "max"))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--no-verify", action="store_true", help="skip the sha256 check of the model")


def _add_demo(commands) -> None:
    parser = commands.add_parser(
        "demo", help="Train, export and bench the embedded model on a synthetic NER sample, offline.")
    parser.add_argument("--workdir", type=Path, default=Path("runs/demo"))
    parser.add_argument("--epochs", type=float, default=3)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="toolkit", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    for add in (_add_train, _add_export, _add_bench, _add_predict, _add_demo):
        add(commands)
    return parser


def run_train(args) -> None:
    from toolkit import report
    from toolkit.config import TrainConfig
    from toolkit.tasks import get_task
    from toolkit.train import train

    task = get_task(args.task)
    options = {k: v for k, v in vars(args).items() if k not in {"command", "debug", "verbose"}}
    result = train(task, TrainConfig(**options))
    if int(os.environ.get("RANK", "0")) == 0:
        print(report.train_table(result.metrics))
        print(f"checkpoint: {result.output_dir}")


def run_export(args) -> None:
    from toolkit import report
    from toolkit.config import ExportConfig
    from toolkit.export import export

    options = {k: v for k, v in vars(args).items() if k not in {"command", "debug", "verbose"}}
    result = export(ExportConfig(**options))
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(report.export_table(result.manifest))
    print(f"bundle: {result.bundle_dir} (default variant: {result.manifest['default_variant']})")
    if result.failures:
        raise ToolkitError("; ".join(result.failures) + ". The other variants were kept.")


def run_bench(args) -> None:
    from toolkit import report
    from toolkit.bench import bench
    from toolkit.config import BenchConfig

    options = {k: v for k, v in vars(args).items() if k not in {"command", "debug", "verbose"}}
    result = bench(BenchConfig(**options))
    print(report.bench_table(result))
    paths = report.write_reports(result, args.output)
    print("reports: " + ", ".join(str(p) for p in paths))


def run_predict(args) -> None:
    from toolkit.predict_cli import predict_lines, predict_texts

    if args.texts:
        predict_texts(args, args.texts, sys.stdout)
    else:
        predict_lines(args, sys.stdin.buffer, sys.stdout)


def run_demo(args) -> None:
    from toolkit.demo import demo

    demo(args.workdir, epochs=args.epochs, echo=print)


def _quiet_known_noise() -> None:
    """Hide upstream warnings that say nothing actionable to a user of this command."""
    import warnings

    warnings.filterwarnings("ignore", message=".*torch.tensor results are registered as constants.*")
    warnings.filterwarnings("ignore", message=".*'pin_memory' argument is set as true.*")
    logging.getLogger().addFilter(lambda record: "pre-processing before quantization" not in record.getMessage())


COMMANDS = {"train": run_train, "export": run_export, "bench": run_bench, "predict": run_predict,
            "demo": run_demo}


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `toolkit` console script."""
    args = build_parser().parse_args(argv)
    _quiet_known_noise()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        COMMANDS[args.command](args)
    except ToolkitError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
