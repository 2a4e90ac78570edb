"""Serve a bundle over HTTP: FastAPI + uvicorn with dynamic batching, or Ray Serve replicas.

    from toolkit.config import ServeConfig
    from toolkit.serve import create_app, serve
    serve(ServeConfig("exports/ner-minilm", port=8080))   # blocks until SIGTERM / Ctrl-C
    app = create_app("exports/ner-minilm")               # a FastAPI app to run or mount

Needs `pip install 'onnxbert-toolkit[serve]'`; Ray Serve (toolkit.serve.ray_app: serve_ray, deploy_ray)
needs `'onnxbert-toolkit[ray]'` and is imported from its module, so that this package loads without Ray.
"""

from __future__ import annotations

from toolkit.serve.app import create_app
from toolkit.serve.limits import Limits
from toolkit.serve.server import serve

__all__ = ["Limits", "create_app", "serve"]
