"""The same HTTP app on Ray Serve: N replicas, each with its own verified predictor and @serve.batch batching.

Each replica builds the app with `build_app` around itself (the late-bound form of `@serve.ingress`),
so routes, limits, errors, metadata and metrics are those of `toolkit serve`; only the batching is
Ray's. /metrics answers for the replica that took the request.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from ray import serve

from toolkit.config import ServeConfig
from toolkit.ray_cluster import init_ray
from toolkit.runtime import load, load_bundle
from toolkit.serve.app import build_app
from toolkit.serve.batching import RUN_SIZE, WARM_UP_TEXTS, ShuttingDown, answer_run, answer_texts
from toolkit.serve.limits import Limits
from toolkit.serve.metrics import Metrics
from toolkit.serve.sockets import bind_socket

logger = logging.getLogger(__name__)

APP_NAME = "toolkit"


@serve.deployment(name="bundle", ray_actor_options={"num_cpus": 1})
@serve.ingress()
class BundleReplica:
    """One replica: a verified predictor behind the toolkit app, texts batched with @serve.batch."""

    def __init__(self, cfg: ServeConfig):
        # One ONNX Runtime thread per replica unless --threads: replicas share the machine's cores.
        self.predictor = load(cfg.bundle, variant=cfg.variant, verify=True, threads=cfg.threads or 1,
                              engine=cfg.engine)
        self.metrics = Metrics()
        self.limits = Limits.of(cfg)
        self.docs = cfg.docs
        self.serving = {"backend": "ray-serve", "max_batch_size": cfg.max_batch_size, "max_wait_ms": cfg.max_wait_ms,
                        "run_size": RUN_SIZE, "replica": serve.get_replica_context().replica_tag}
        self.ready = False
        self._closing = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toolkit-model")
        self._answer_batch.set_max_batch_size(cfg.max_batch_size)
        self._answer_batch.set_batch_wait_timeout_s(cfg.max_wait_ms / 1000)

    def __serve_build_asgi_app__(self):
        """The toolkit app around this replica. Ray calls it after __init__ (`@serve.ingress()` with no app):
        an app passed to the decorator would be a pickled copy that cannot reach this replica's predictor."""
        return build_app(self, self.metrics, self.limits, self.serving, docs=self.docs)

    async def start(self) -> None:
        """Warm the model up; the app's lifespan calls this before the replica takes traffic."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, answer_texts, self.predictor, WARM_UP_TEXTS)
        self.ready = True

    async def predict(self, texts: list[str], aggregation: str | None = None) -> list:
        """The answers to `texts`: each text joins a @serve.batch batch, so batches count texts, not requests."""
        if self._closing:
            raise ShuttingDown("the replica is shutting down")
        self.metrics.queue_depth.inc(len(texts))
        answers = await asyncio.gather(*(self._answer_batch(text, aggregation) for text in texts))
        for answer in answers:
            if isinstance(answer, Exception):
                raise answer
        return list(answers)

    async def close(self) -> None:
        """Take no new texts; Ray has let in-flight requests finish (graceful_shutdown_timeout_s)."""
        self._closing = True
        self.ready = False
        self._executor.shutdown(wait=True)

    @serve.batch(max_batch_size=ServeConfig.max_batch_size,
                 batch_wait_timeout_s=ServeConfig.max_wait_ms / 1000)  # set from the replica's config in __init__
    async def _answer_batch(self, texts: list[str], aggregations: list[str | None]) -> list:
        self.metrics.queue_depth.dec(len(texts))
        answers: list = [None] * len(texts)
        loop = asyncio.get_running_loop()
        for aggregation in dict.fromkeys(aggregations):  # one model run per aggregation, in arrival order
            chosen = [i for i, a in enumerate(aggregations) if a == aggregation]
            self.metrics.batch_size.observe(len(chosen))
            found = await loop.run_in_executor(self._executor, answer_run, self.predictor,
                                               [texts[i] for i in chosen], aggregation)
            for i, answer in zip(chosen, found):
                answers[i] = answer
        return answers


def deploy_ray(cfg: ServeConfig) -> str:
    """Deploy the app with `cfg.replicas` replicas on Ray Serve, wait until every one is ready, return its URL."""
    cfg.check()
    check_startable(cfg)
    init_ray(cfg.address)
    return run_app(cfg)


def check_startable(cfg: ServeConfig) -> None:
    """Fail before Ray starts anything: the bundle must load and verify, and the port must be free."""
    bundle = load_bundle(cfg.bundle)
    bundle.verify(cfg.variant or bundle.default_variant)
    bind_socket(cfg.host, cfg.port).close()


def run_app(cfg: ServeConfig) -> str:
    """Start Serve's proxy on host:port and the app's replicas on the running Ray; return the app's URL."""
    serve.start(http_options={"host": cfg.host, "port": cfg.port})
    # A replica must admit enough requests to fill a batch while the previous one runs.
    deployment = BundleReplica.options(num_replicas=cfg.replicas, ray_actor_options={"num_cpus": cfg.replica_cpus},
                                       max_ongoing_requests=max(2 * cfg.max_batch_size, 8))
    application = deployment.bind(replace(cfg, bundle=Path(cfg.bundle).resolve()))
    serve.run(application, name=APP_NAME, route_prefix="/", blocking=False)
    return f"http://{cfg.host}:{cfg.port}"


def serve_ray(cfg: ServeConfig) -> None:
    """Serve a bundle on Ray Serve with `cfg.replicas` replicas until SIGTERM or Ctrl-C, then shut Serve down."""
    import ray

    cfg.check()
    check_startable(cfg)
    started_ray = init_ray(cfg.address)
    # After ray.init, whose own SIGTERM handler exits wherever the process happens to be.
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda signum, frame: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        url = run_app(cfg)
        logger.info("serving %s with %d replicas on %s", cfg.bundle, cfg.replicas, url)
        stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        serve.delete(APP_NAME)  # replicas finish their in-flight requests first
        if started_ray:
            if not cfg.address:  # a cluster's Serve instance is not ours to stop
                serve.shutdown()
            ray.shutdown()
