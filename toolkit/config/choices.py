"""The choices and fixed names the options are checked against."""

from __future__ import annotations

import re

from toolkit.runtime.predict import PROVIDERS

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
