"""Options of each command as dataclasses: the one home of every default, choice and help line.

Field names equal CLI flags (`max_length` <-> `--max-length`). toolkit/cli.py builds its parser
from these fields, so a default, a set of choices or a help line is written here and nowhere else.
One module per group of verbs (stages, service, tools) and the choices they check against;
everything is importable from `toolkit.config`.
"""

from toolkit.config.choices import (
    PRESETS,
    DEVICES,
    OPSETS,
    PACKAGE_NAME,
    PACKAGE_VERSION,
    PACKAGE_TAKEN,
    BENCH_REPORTS,
    EVALUATION_REPORTS,
    LOG_LEVELS,
)
from toolkit.config.service import PredictConfig, ServeConfig
from toolkit.config.stages import BenchConfig, EvaluateConfig, ExportConfig, TrainConfig
from toolkit.config.tools import DataConfig, DemoConfig, InfoConfig, PackageConfig

__all__ = ["PRESETS", "DEVICES", "OPSETS", "PACKAGE_NAME", "PACKAGE_VERSION", "PACKAGE_TAKEN", "BENCH_REPORTS", "EVALUATION_REPORTS", "LOG_LEVELS", "PredictConfig", "ServeConfig", "BenchConfig", "EvaluateConfig", "ExportConfig", "TrainConfig", "DataConfig", "DemoConfig", "InfoConfig", "PackageConfig"]
