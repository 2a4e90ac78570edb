"""The HTTP app: predict, health, readiness, metadata and Prometheus metrics over one bundle's predictor.

`create_app` and `app_for` serve with this process's dynamic batcher; `build_app` takes any engine
with the same four members (start, predict, close, ready, plus its predictor), which is how the Ray
Serve deployment puts this very app in front of each replica.
"""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal, Optional

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from toolkit.config import ServeConfig
from toolkit.runtime import load
from toolkit.runtime.entities import STRATEGIES
from toolkit.serve.batching import RUN_SIZE, Batcher, ShuttingDown
from toolkit.serve.limits import Limits, RequestError, check_body_size, parse_predict_body
from toolkit.serve.metrics import Metrics

logger = logging.getLogger(__name__)


class PredictBody(BaseModel):
    """A predict request: one `text` or a list of `texts` (+ the NER aggregation)."""

    text: Optional[str] = Field(None, description="One text; the response has `answer`.")
    texts: Optional[list[str]] = Field(None, description="Several texts; the response has `answers`, in order.")
    aggregation: Optional[Literal[STRATEGIES]] = Field(
        None, description="NER only: how word pieces become entities (default: the server's).")


def create_app(bundle_dir: str | Path, **options) -> FastAPI:
    """Load a bundle (its sha256 checked) and return the FastAPI app that serves it with dynamic batching.

    `options` are ServeConfig's fields: variant, threads, engine, max_batch_size, max_wait_ms,
    max_body_bytes, max_texts, max_chars.
    """
    cfg = ServeConfig(bundle=Path(bundle_dir), **options)
    cfg.check()
    return app_for(cfg)


def app_for(cfg: ServeConfig) -> FastAPI:
    """The FastAPI app serving `cfg.bundle` with this process's dynamic batcher (`cfg` already checked)."""
    predictor = load(cfg.bundle, variant=cfg.variant, verify=True, threads=cfg.threads, engine=cfg.engine)
    metrics = Metrics()
    batcher = Batcher(predictor, max_batch_size=cfg.max_batch_size, max_wait_ms=cfg.max_wait_ms, metrics=metrics)
    serving = {"backend": "uvicorn", "max_batch_size": cfg.max_batch_size, "max_wait_ms": cfg.max_wait_ms,
               "run_size": RUN_SIZE}
    return build_app(batcher, metrics, Limits.of(cfg), serving)


def describe(predictor, serving: dict, limits: Limits) -> dict:
    """The metadata answer: what is served (task, labels, variant and its sha256) and by what."""
    from toolkit import versions

    manifest = predictor.bundle.manifest
    answer = {
        "task": manifest.task,
        "decode": manifest.kind.name,
        "labels": list(predictor.labels),
        "variant": predictor.variant,
        "sha256": manifest.variants[predictor.variant].digest,  # what pins it: load(..., expected_sha256=)
        "variants": sorted(manifest.variants),
        "max_length": predictor.max_length,
        "base_model": manifest.base_model,
        "versions": versions("onnxruntime", "tokenizers", "numpy", "python"),
        "exported_with": manifest.versions,
        "serving": {**serving, "engine": predictor.engine, "providers": predictor.session.get_providers()},
        "limits": {"max_body_bytes": limits.max_body_bytes, "max_texts": limits.max_texts,
                   "max_chars": limits.max_chars},
    }
    answer.update({name: getattr(predictor, name) for name in predictor.kind.settings})
    return answer


async def read_body(request: Request, limits: Limits) -> bytes:
    """The request body, refused (413) as soon as it is known to be over --max-body-bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        check_body_size(int(declared), limits)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        check_body_size(size, limits, complete=False)
        chunks.append(chunk)
    return b"".join(chunks)


def error_response(request: Request, status: int, code: str, message: str) -> JSONResponse:
    request.state.error_code = code
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def build_app(engine, metrics: Metrics, limits: Limits, serving: dict) -> FastAPI:
    """The FastAPI app in front of `engine` (a Batcher, or a Ray Serve replica with the same members)."""
    metadata = describe(engine.predictor, serving, limits)
    aggregations = engine.predictor.kind.request_options.get("aggregation")

    @asynccontextmanager
    async def lifespan(_app):
        await engine.start()
        logger.info("ready: %s %s (%s)", metadata["task"], metadata["variant"], metadata["sha256"][:12])
        yield
        # uvicorn has already waited for in-flight requests; this answers anything still queued.
        await engine.close()

    app = FastAPI(title="toolkit serve", version=metadata["versions"]["toolkit"], lifespan=lifespan,
                  description=f"{metadata['task']} model, variant {metadata['variant']}, served by toolkit.")

    @app.middleware("http")
    async def measure(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.requests.labels(path, str(response.status_code)).inc()
        metrics.latency.labels(path).observe(time.perf_counter() - started)
        if response.status_code >= 400:
            code = getattr(request.state, "error_code", f"http_{response.status_code}")
            metrics.errors.labels(path, code).inc()
        return response

    @app.post("/v1/predict", summary="Answer one text or a list of texts",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": PredictBody.model_json_schema()}}}},
              responses={413: {"description": "Body over --max-body-bytes"},
                         422: {"description": "Too many texts, a text too long, or a malformed body"},
                         503: {"description": "Shutting down"}})
    async def predict(request: Request):
        """Answer `{"text": ...}` with `{"answer": ...}` and `{"texts": [...]}` with `{"answers": [...]}`."""
        try:
            body = parse_predict_body(await read_body(request, limits), limits, aggregations)
        except RequestError as error:
            return error_response(request, error.status, error.code, error.message)
        try:
            answers = await engine.predict(body.texts, body.aggregation)
        except ShuttingDown:
            return error_response(request, 503, "not_ready", "the model is not serving (still starting, or "
                                                             "shutting down); retry shortly or on another replica.")
        except Exception as error:  # the model failed on this text; other requests are unaffected
            logger.exception("predict failed")
            return error_response(request, 500, "internal", f"the model failed on this request: {error}")
        metrics.texts.inc(len(answers))
        return JSONResponse({"answer": answers[0]} if body.single else {"answers": answers})

    @app.get("/health", summary="The process is up")
    async def health():
        return {"status": "ok"}

    @app.get("/ready", summary="The model is loaded, verified and warmed up",
             responses={503: {"description": "Not ready yet, or shutting down"}})
    async def ready(request: Request):
        if engine.ready:
            return {"ready": True}
        return error_response(request, 503, "not_ready", "the model is not loaded and warmed up yet, or the "
                                                          "server is shutting down.")

    @app.get("/v1/metadata", summary="Task, labels, variant and its sha256, max length, versions")
    async def read_metadata():
        return metadata

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def read_metrics():
        content, content_type = metrics.render()
        return Response(content, media_type=content_type)

    return app
