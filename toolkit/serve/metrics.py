"""The server's Prometheus instruments, in a registry of their own (one per app, so apps never share counts)."""

from __future__ import annotations

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """Requests, errors, latency, texts per model run, texts waiting for one and texts dropped."""

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("toolkit_requests", "HTTP requests answered, by route and status.",
                                ["route", "status"], registry=self.registry)
        self.errors = Counter("toolkit_request_errors", "Requests answered with an error, by route and error code.",
                              ["route", "code"], registry=self.registry)
        self.latency = Histogram("toolkit_request_latency_seconds", "Time from request to response, by route.",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.texts = Counter("toolkit_texts", "Texts answered.", registry=self.registry)
        self.batch_size = Histogram("toolkit_batch_size", "Texts per model run (dynamic batching).",
                                    buckets=BATCH_BUCKETS, registry=self.registry)
        self.queue_depth = Gauge("toolkit_queue_depth", "Texts waiting for a model run.", registry=self.registry)
        self.texts_cancelled = Counter("toolkit_texts_cancelled", "Texts dropped before their model run because "
                                       "their request was cancelled (its client went away).", registry=self.registry)

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of every instrument, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
