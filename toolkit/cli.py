"""toolkit: fine-tune a BERT-family model, export it to a verified ONNX bundle, measure it, and answer
texts with it."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from typing import BinaryIO, TextIO

import toolkit
from toolkit import config
from toolkit.errors import ToolkitError

STDIN_CHUNK = 256  # stdin lines answered per batch by `toolkit predict`


def add_options(parser: argparse.ArgumentParser, options: type) -> None:
    """One argument per field of a config dataclass, with the field's default, choices and help."""
    for field in dataclasses.fields(options):
        meta = field.metadata
        default = field.default if field.default is not dataclasses.MISSING else (
            field.default_factory() if field.default_factory is not dataclasses.MISSING else None)
        shown = "" if default in (None, False, True, []) else f" (default: {','.join(map(str, default)) if isinstance(default, list) else default})"
        kwargs = {"help": meta["help"] + shown}
        if meta["choices"]:
            kwargs["choices"] = meta["choices"]
        if meta["positional"]:
            if meta["nargs"]:
                kwargs["nargs"] = meta["nargs"]
            parser.add_argument(field.name, type=meta["type"], **kwargs)
            continue
        flag = "--" + field.name.replace("_", "-")
        if isinstance(default, bool):
            if meta["negative"]:
                group = parser.add_mutually_exclusive_group()
                group.add_argument(flag, dest=field.name, action="store_true", default=default,
                                   help=meta["help"] + " (default)")
                negative_flag, negative_help = meta["negative"]
                group.add_argument(negative_flag, dest=field.name, action="store_false", help=negative_help)
            else:
                parser.add_argument(flag, action="store_true", **kwargs)
            continue
        parser.add_argument(flag, type=meta["type"], default=default, **kwargs)


def options_of(args: argparse.Namespace, options: type):
    """The config dataclass filled from parsed arguments."""
    return options(**{f.name: getattr(args, f.name) for f in dataclasses.fields(options)})


def run_train(args) -> None:
    from toolkit import report
    from toolkit.tasks import get_task
    from toolkit.train import is_main_process, train

    cfg = options_of(args, config.TrainConfig)
    result = train(get_task(cfg.task), cfg)
    if is_main_process():
        print(report.train_table(result.metrics))
        print(f"checkpoint: {result.output_dir}")


def run_export(args) -> None:
    from toolkit import report
    from toolkit.export import export

    result = export(options_of(args, config.ExportConfig))
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(report.export_table(result.manifest))
    print(f"bundle: {result.bundle_dir} (default variant: {result.manifest['default_variant']})")
    if result.failures:
        raise ToolkitError("; ".join(result.failures) + ". The other variants were kept.")


def run_bench(args) -> None:
    from toolkit import report
    from toolkit.bench import bench

    cfg = options_of(args, config.BenchConfig)
    result = bench(cfg)
    print(report.bench_table(result))
    paths = report.write_reports(result, cfg.output)
    print("reports: " + ", ".join(str(p) for p in paths))


def run_evaluate(args) -> None:
    from toolkit.evaluation import evaluate
    from toolkit.report_evaluation import evaluation_table, write_evaluation_reports

    cfg = options_of(args, config.EvaluateConfig)
    report = evaluate(cfg)
    print(evaluation_table(report.as_dict()))
    paths = write_evaluation_reports(report, cfg.output)
    print("reports: " + ", ".join(str(p) for p in paths))


def load_predictor(cfg: config.PredictConfig):
    """The bundle's predictor with the options `toolkit predict` was given."""
    from toolkit.runtime import load

    predictor = load(cfg.bundle, variant=cfg.variant, verify=not cfg.no_verify, batch_size=cfg.batch_size,
                     threads=cfg.threads)
    if hasattr(predictor, "aggregation"):
        predictor.aggregation = cfg.aggregation
    return predictor


def parse_line(raw: bytes, number: int) -> tuple[str | None, str | None]:
    """(text, None) or (None, error) for one stdin line: a JSON string, {"text": ...}, or plain text."""
    try:
        line = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        return None, f"line {number}: invalid UTF-8 at byte {error.start}"
    if line[:1] in ('{', '"', '['):
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            return None, f"line {number}: not valid JSON ({error.msg} at column {error.colno})"
        if isinstance(value, dict) and isinstance(value.get("text"), str):
            line = value["text"]
        elif isinstance(value, str):
            line = value
        else:
            return None, f"line {number}: expected a JSON string or an object with a \"text\" string"
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate, which JSON's \ud800 escapes can make
        return None, f"line {number}: the text holds {line[error.start]!r}, which is not a character (a lone " \
                     "surrogate); send the text as UTF-8"
    return line, None


def answer_each(predictor, texts: list[str]) -> list[tuple[object, str | None]]:
    """(answer, None) or (None, error) per text: a batch first, one by one if the batch fails, so
    that nothing one text holds can stop the others."""
    try:
        return [(answer, None) for answer in predictor(texts)] if texts else []
    except Exception:  # noqa: BLE001 - which text failed is found below, and reported on its own line
        if len(texts) == 1:
            raise
    results = []
    for text in texts:
        try:
            results.append((predictor([text])[0], None))
        except Exception as error:  # noqa: BLE001 - reported as this line's error record
            results.append((None, f"{type(error).__name__}: {error}"))
    return results


def predict_lines(predictor, stream: BinaryIO, out: TextIO) -> int:
    """One JSON line per input line, in order; a bad line gets an error object and the rest go on.
    Returns how many lines got an error."""
    from toolkit.runtime.predict import to_json

    pending: list[tuple[int, str | None, str | None]] = []
    failed = 0

    def flush() -> None:
        nonlocal failed
        answers = iter(answer_each(predictor, [text for _, text, error in pending if error is None]))
        for number, _, error in pending:
            answer = None
            if error is None:
                answer, error = next(answers)
                error = error and f"line {number}: {error}"
            failed += error is not None
            out.write(json.dumps({"line": number, "error": error}) if error else to_json(answer))
            out.write("\n")
        out.flush()
        pending.clear()

    for number, raw in enumerate(stream, start=1):
        text, error = parse_line(raw, number)
        pending.append((number, text, error))
        if len(pending) >= STDIN_CHUNK:
            flush()
    flush()
    return failed


def run_predict(args) -> None:
    from toolkit.runtime.predict import to_json

    cfg = options_of(args, config.PredictConfig)
    predictor = load_predictor(cfg)
    if cfg.texts:
        for answer in predictor(list(cfg.texts)):
            print(to_json(answer))
    else:
        failed = predict_lines(predictor, sys.stdin.buffer, sys.stdout)
        if failed:
            raise ToolkitError(f"{failed} input line(s) could not be answered: their error records say why; "
                               "the other lines were answered.")


def run_demo(args) -> None:
    from toolkit.demo import demo

    demo(options_of(args, config.DemoConfig), echo=print)


# verb -> (what it does, its options, the function that runs it)
COMMANDS = {
    "train": ("Fine-tune a model on a task with Hugging Face Trainer.", config.TrainConfig, run_train),
    "export": ("Export a checkpoint to a bundle of ONNX variants, each checked against PyTorch.",
               config.ExportConfig, run_export),
    "bench": ("Accuracy and latency of every variant of a bundle against PyTorch.", config.BenchConfig,
              run_bench),
    "evaluate": ("Scores, mistakes and worst examples of a checkpoint or a bundle on labelled data; a bundle's "
                 "variants against PyTorch.", config.EvaluateConfig, run_evaluate),
    "predict": ("Answer texts with a bundle (texts as arguments, or JSON/plain lines on stdin).",
                config.PredictConfig, run_predict),
    "demo": ("Train, export and bench the embedded model on a synthetic NER sample, offline.",
             config.DemoConfig, run_demo),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="toolkit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"toolkit {toolkit.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each step does")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (summary, options, _) in COMMANDS.items():
        add_options(commands.add_parser(name, help=summary, description=summary), options)
    return parser


def _quiet_known_noise() -> None:
    """Hide upstream warnings that say nothing actionable to a user of this command."""
    import warnings

    warnings.filterwarnings("ignore", message=".*torch.tensor results are registered as constants.*")
    warnings.filterwarnings("ignore", message=".*'pin_memory' argument is set as true.*")
    logging.getLogger().addFilter(lambda record: "pre-processing before quantization" not in record.getMessage())


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `toolkit` console script."""
    args = build_parser().parse_args(argv)
    _quiet_known_noise()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        COMMANDS[args.command][2](args)
    except ToolkitError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        # The reader went away (e.g. `toolkit predict ... | head`): stop quietly, as the Python docs
        # advise, pointing stdout at devnull so that the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except OSError as error:  # a full disk, a read-only or missing place: the system says what
        if args.debug:
            raise
        where = f": {error.filename}" if error.filename else ""
        print(f"error: {error.strerror or error}{where}. Free space or choose a writable place, then run again.",
              file=sys.stderr)
        sys.exit(1)
    except Exception as error:  # noqa: BLE001 - the last net: one line, the traceback behind --debug
        if args.debug:
            raise
        first_line = (str(error).splitlines() or [""])[0][:300]
        print(f"error: unexpected {type(error).__name__}: {first_line}. This input is not checked yet: run again "
              "with --debug for the traceback and report it.", file=sys.stderr)
        sys.exit(1)
