"""Every error is JSON with a code, and every response is counted in /metrics under its route."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from fastapi.testclient import TestClient

from tests.serve.test_app import metric
from toolkit.runtime import load
from toolkit.serve.app import build_app, create_app
from toolkit.serve.limits import Limits
from toolkit.serve.metrics import Metrics


@pytest.fixture(scope="module")
def client(sentiment_bundle):  # the default limits
    with TestClient(create_app(sentiment_bundle)) as client:
        yield client


def errors_counted(client, route: str, code: str) -> float:
    return metric(client.get("/metrics").text, f'toolkit_request_errors_total{{code="{code}",route="{route}"}}')


@pytest.mark.parametrize("body, code", [
    (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
    (b'{"texts": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "too_deep"),
    (b'{"text": ' + b"7" * 5_000 + b"}", "invalid_json"),
], ids=["deep", "deep-inside", "long-number"])
def test_bodies_python_cannot_read_are_a_counted_422(client, body, code):
    before = errors_counted(client, "/v1/predict", code)
    response = client.post("/v1/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code and "\n" not in response.json()["error"]["message"]
    assert errors_counted(client, "/v1/predict", code) == before + 1


def test_404_and_405_are_json_errors_counted_by_route(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found" and "/v1/predict" in response.json()["error"]["message"]
    response = client.get("/v1/predict")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json() == {"error": {"code": "method_not_allowed",
                                         "message": "/v1/predict does not take GET; it takes POST."}}
    assert errors_counted(client, "unmatched", "not_found") >= 1
    assert errors_counted(client, "/v1/predict", "method_not_allowed") >= 1


def test_an_exception_that_escapes_a_route_is_a_counted_json_500(sentiment_bundle):
    app = create_app(sentiment_bundle)

    @app.get("/broken")
    async def broken():
        raise RuntimeError("a bug")

    with TestClient(app) as client:
        response = client.get("/broken")
        exposition = client.get("/metrics").text
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal" and "RuntimeError" in response.json()["error"]["message"]
    assert metric(exposition, 'toolkit_requests_total{route="/broken",status="500"}') == 1
    assert metric(exposition, 'toolkit_request_errors_total{code="internal",route="/broken"}') == 1


def test_docs_are_off_by_default_and_nothing_points_off_this_machine(client):
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        response = client.get(path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    bodies = [client.get(path).text for path in ("/openapi.json", "/health", "/ready", "/v1/metadata", "/metrics")]
    bodies.append(client.post("/v1/predict", json={"text": "great film"}).text)
    for body in bodies:
        assert not re.findall(r"https?://(?!127\.0\.0\.1[:/])[^\s\"']+", body)


def test_docs_on_request_are_counted_under_their_own_routes(sentiment_bundle):
    with TestClient(create_app(sentiment_bundle, docs=True)) as client:
        assert client.get("/docs").status_code == 200 and client.get("/redoc").status_code == 200
        client.get("/openapi.json")
        exposition = client.get("/metrics").text
    for route in ("/docs", "/redoc", "/openapi.json"):
        assert metric(exposition, f'toolkit_requests_total{{route="{route}",status="200"}}') == 1
    assert metric(exposition, 'toolkit_requests_total{route="unmatched",status="200"}') == 0


def test_every_response_has_a_typed_schema(client):
    schema = client.get("/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {})
                assert content, f"{method.upper()} {path} {status} has no schema"
                for body in content.values():
                    assert body["schema"] not in ({}, {"type": "object"}), f"{method.upper()} {path} {status}"
                if status.startswith(("4", "5")):
                    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    answer = schema["components"]["schemas"]["PredictAnswer"]["properties"]["answer"]
    assert answer == {"$ref": "#/components/schemas/LabelAnswer"}
    assert set(schema["components"]["schemas"]["Metadata"]["required"]) >= {"task", "labels", "variant", "sha256"}


class StuckEngine:
    """An engine whose predict never ends until cancelled, which it records."""

    def __init__(self, predictor):
        self.predictor = predictor
        self.ready = True
        self.cancelled = False

    async def start(self):
        pass

    async def close(self):
        pass

    async def predict(self, texts, aggregation=None):
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise


def test_a_client_that_goes_away_has_its_work_cancelled(sentiment_bundle):
    engine = StuckEngine(load(sentiment_bundle))
    metrics = Metrics()
    app = build_app(engine, metrics, Limits(1 << 20, 256, 20_000, 100_000), {"backend": "test"})
    body = json.dumps({"text": "great film"}).encode()
    messages = [{"type": "http.request", "body": body, "more_body": False}, {"type": "http.disconnect"}]
    sent = []

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # nothing more ever comes

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/predict", "raw_path": b"/v1/predict", "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080)}
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=10))
    assert engine.cancelled
    assert sent[0]["status"] == 499 and json.loads(sent[1]["body"])["error"]["code"] == "client_gone"
    assert metrics.registry.get_sample_value("toolkit_requests_total", {"route": "/v1/predict", "status": "499"}) == 1
