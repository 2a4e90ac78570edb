"""The HTTP app: predict, health, readiness, metadata and Prometheus metrics over one bundle's predictor.

`create_app` and `app_for` serve with this process's dynamic batcher; `build_app` takes any engine
with the same four members (start, predict, close, ready, plus its predictor), which is how the Ray
Serve deployment puts this very app in front of each replica.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException

from toolkit.config import ServeConfig
from toolkit.runtime import load
from toolkit.serve.batching import RUN_CHARS, RUN_SIZE, SHORT_TEXT_CHARS, Batcher, ShuttingDown
from toolkit.serve.counting import ERROR_CODE, CountResponses, error_json
from toolkit.serve.limits import Limits, RequestError, check_body_size, parse_predict_body
from toolkit.serve.metrics import Metrics
from toolkit.serve.schemas import Health, Metadata, PredictBody, Ready, errors, predict_response

logger = logging.getLogger(__name__)
HTTP_ERRORS = {404: "not_found", 405: "method_not_allowed"}


class ClientGone(Exception):
    """The client disconnected before its answer was ready."""


def create_app(bundle_dir: str | Path, **options) -> FastAPI:
    """Load a bundle (its sha256 checked) and return the FastAPI app that serves it with dynamic batching.

    `options` are ServeConfig's fields: variant, threads, engine, max_batch_size, max_wait_ms,
    max_body_bytes, max_texts, max_chars, max_request_chars, docs.
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
               "run_size": RUN_SIZE, "run_chars": RUN_CHARS, "short_text_chars": SHORT_TEXT_CHARS}
    return build_app(batcher, metrics, Limits.of(cfg), serving, docs=cfg.docs)


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
        "limits": limits.describe(),
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
    """An error answer, its code left where /metrics counts it."""
    request.scope.setdefault("state", {})[ERROR_CODE] = code
    return error_json(status, code, message)


async def until_disconnected(request: Request) -> None:
    """Return once the client has gone (its body already read: what is left to receive is the disconnect)."""
    try:
        while (await request.receive())["type"] != "http.disconnect":
            pass
    except Exception:  # noqa: BLE001 - a receive channel that broke has lost its client too
        return


async def unless_disconnected(request: Request, work):
    """The result of the awaitable `work`, or ClientGone, with `work` cancelled, as soon as the client goes."""
    work = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(until_disconnected(request))
    try:
        await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:  # also when this request is itself cancelled (the graceful shutdown's time is up)
        watch.cancel()
        if not work.done():
            work.cancel()
    if not work.done():  # the client went first: `work` is being cancelled
        raise ClientGone
    return work.result()


def build_app(engine, metrics: Metrics, limits: Limits, serving: dict, docs: bool = False) -> FastAPI:
    """The FastAPI app in front of `engine` (a Batcher, or a Ray Serve replica with the same members). `docs`:
    serve /docs and /redoc, pages that load their scripts from a public CDN."""
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
                  description=f"{metadata['task']} model, variant {metadata['variant']}, served by toolkit.",
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None)
    app.add_middleware(CountResponses, metrics=metrics)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        code = HTTP_ERRORS.get(error.status_code, f"http_{error.status_code}")
        if error.status_code == 404:
            message = (f"no route at {request.url.path}; the routes are POST /v1/predict, GET /health, /ready, "
                       "/v1/metadata, /metrics and /openapi.json" + (", /docs, /redoc." if docs else "."))
        elif error.status_code == 405:
            message = (f"{request.url.path} does not take {request.method}; it takes "
                       f"{(error.headers or {}).get('Allow', 'another method')}.")
        else:
            message = str(error.detail)
        response = error_response(request, error.status_code, code, message)
        response.headers.update(error.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        return error_response(request, 422, "invalid_request", f"the request is not valid: {error.errors()}")

    @app.post("/v1/predict", summary="Answer one text or a list of texts",
              response_model=predict_response(engine.predictor.kind),
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": PredictBody.model_json_schema()}}}},
              responses=errors({413: "Body over --max-body-bytes",
                                422: "Too many texts or characters, a text too long or not valid Unicode, or a "
                                     "malformed body",
                                499: "The client disconnected first; its texts were dropped",
                                500: "The model failed on this request",
                                503: "Shutting down"}))
    async def predict(request: Request):
        """Answer `{"text": ...}` with `{"answer": ...}` and `{"texts": [...]}` with `{"answers": [...]}`."""
        try:
            body = parse_predict_body(await read_body(request, limits), limits, aggregations)
        except RequestError as error:
            return error_response(request, error.status, error.code, error.message)
        try:
            answers = await unless_disconnected(request, engine.predict(body.texts, body.aggregation))
        except ClientGone:
            return error_response(request, 499, "client_gone", "the client disconnected before its answer; its "
                                                               "texts were dropped.")
        except ShuttingDown:
            return error_response(request, 503, "not_ready", "the model is not serving (still starting, or "
                                                             "shutting down); retry shortly or on another replica.")
        except Exception as error:  # the model failed on this text; other requests are unaffected
            logger.exception("predict failed")
            return error_response(request, 500, "internal", f"the model failed on this request: {error}")
        metrics.texts.inc(len(answers))
        return JSONResponse({"answer": answers[0]} if body.single else {"answers": answers})

    @app.get("/health", summary="The process is up", response_model=Health)
    async def health():
        return {"status": "ok"}

    @app.get("/ready", summary="The model is loaded, verified and warmed up", response_model=Ready,
             responses=errors({503: "Not ready yet, or shutting down"}))
    async def ready(request: Request):
        if engine.ready:
            return {"ready": True}
        return error_response(request, 503, "not_ready", "the model is not loaded and warmed up yet, or the "
                                                          "server is shutting down.")

    @app.get("/v1/metadata", summary="Task, labels, variant and its sha256, max length, versions",
             response_model=Metadata)
    async def read_metadata():
        return JSONResponse(metadata)

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                              "description": "The Prometheus text exposition"}})
    async def read_metrics():
        content, content_type = metrics.render()
        return Response(content, media_type=content_type)

    return app
