"""Serve a bundle over HTTP (FastAPI + uvicorn, or Ray Serve) and answer whole corpora as batch jobs.

    from toolkit.serve import serve, predict_corpus
    serve("exports/ner-minilm", port=8080)              # blocks until SIGTERM / Ctrl-C
    predict_corpus("exports/ner-minilm", "texts.parquet", "answers.parquet")

Importing this package is light: FastAPI, uvicorn, pyarrow and Ray load with the function that
needs them (`pip install 'onnxbert-toolkit[serve]'`, and `'onnxbert-toolkit[ray]'` for the Ray variants).
"""

from __future__ import annotations

import importlib

from toolkit.serve.limits import Limits

# Each public function's home; imported on first use, so `import toolkit.serve` stays light.
HOMES = {"create_app": "toolkit.serve.app", "serve": "toolkit.serve.server", "serve_ray": "toolkit.serve.ray_app",
         "predict_corpus": "toolkit.serve.jobs"}

__all__ = ["Limits", *HOMES]


def __getattr__(name: str):
    if name in HOMES:
        return getattr(importlib.import_module(HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
