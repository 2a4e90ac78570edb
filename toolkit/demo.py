"""The README's first command: train, export and bench the embedded model on a synthetic NER sample."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from toolkit.config import BenchConfig, DemoConfig, ExportConfig, TrainConfig
from toolkit.data.synthetic import write_sample_ner

SAMPLE_TEXT = "Angela Merkel met Emmanuel Macron in Paris on Monday."


def demo(cfg: DemoConfig, echo: Callable[[str], None] = print, bundle_dir: Path = Path("exports/demo-ner")) -> dict:
    """Run the whole job offline on the embedded MiniLM and return the bench report."""
    workdir, epochs = cfg.workdir, cfg.epochs
    from toolkit.bench import bench
    from toolkit.export import export
    from toolkit.report.bench import bench_table, write_reports
    from toolkit.report.export import export_table
    from toolkit.report.train import train_table
    from toolkit.runtime import load
    from toolkit.tasks import get_task
    from toolkit.train import train

    data_dir = write_sample_ner(workdir / "data")
    checkpoint_dir = workdir / "ner-minilm"
    echo(f"1/4 toolkit train ner --model minilm --dataset {data_dir} --train-size all --eval-size all "
         f"--epochs {epochs:g} --output-dir {checkpoint_dir} --overwrite")
    trained = train(get_task("ner"), TrainConfig(task="ner", model="minilm", dataset=str(data_dir),
                                                 train_size="all", eval_size="all", epochs=epochs,
                                                 output_dir=checkpoint_dir, overwrite=True))
    echo(train_table(trained.metrics))
    echo("(scores on the demo's synthetic sentences, which are easy: not CoNLL-2003 numbers; see bench/README.md "
         "Results for those)")
    echo(f"\n2/4 toolkit export {checkpoint_dir} --quantize --output-dir {bundle_dir} --overwrite")
    exported = export(ExportConfig(checkpoint=checkpoint_dir, output_dir=bundle_dir, quantize=True, overwrite=True))
    echo(export_table(exported.manifest))
    for line in exported.warnings:
        echo(f"warning: {line}")
    report_path = workdir / "report.json"
    echo(f"\n3/4 toolkit bench {bundle_dir} --batch-sizes 1,8 --seq-lens 128 --warmup 3 --runs 20 "
         f"--output {report_path}")
    result = bench(BenchConfig(bundle=bundle_dir, batch_sizes=[1, 8], seq_lens=[128], warmup=3, runs=20,
                               output=report_path, overwrite=True))
    echo(bench_table(result))
    paths = write_reports(result, report_path)
    echo("reports: " + ", ".join(map(str, paths)))
    echo(f"\n4/4 from toolkit.runtime import load; load({str(bundle_dir)!r})({SAMPLE_TEXT!r})")
    for entity in load(bundle_dir)(SAMPLE_TEXT):
        echo(f"  {entity['entity']:<5} {entity['text']!r} [{entity['start']}:{entity['end']}] {entity['score']:.3f}")
    return result.as_dict()
