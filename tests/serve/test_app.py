"""The HTTP app in process (FastAPI's TestClient): answers, batching, limits, metadata, metrics."""

from __future__ import annotations

import json
import re
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from toolkit.errors import BundleError
from toolkit.runtime import load
from toolkit.serve.app import create_app
from toolkit.serve.batching import RUN_SIZE

TEXTS = ["Angela Merkel met John Smith in Paris .", "Olga Petrova visited Nairobi .",
         "Shares of Barclays fell after Maria Garcia resigned .", "", "Greenpeace and Toyota met in Tokyo ."]


def metric(text: str, name: str) -> float:
    """One sample's value from a Prometheus exposition (0 when absent)."""
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def without_score(entity: dict) -> dict:
    return {key: value for key, value in entity.items() if key != "score"}


def assert_same_answers(found: list, expected: list) -> None:
    """NER answers with equal entities and offsets, scores equal up to float rounding (padding can differ)."""
    assert len(found) == len(expected)
    for ours, theirs in zip(found, expected):
        assert [without_score(e) for e in ours] == [without_score(e) for e in theirs]
        assert [e["score"] for e in ours] == pytest.approx([e["score"] for e in theirs], abs=1e-5)


@pytest.fixture(scope="module")
def ner_client(ner_bundle):
    with TestClient(create_app(ner_bundle, max_body_bytes=4000, max_texts=4, max_chars=80,
                                       max_request_chars=200)) as client:
        yield client


@pytest.fixture(scope="module")
def sentiment_client(sentiment_bundle):
    with TestClient(create_app(sentiment_bundle)) as client:
        yield client


def test_answers_equal_the_runtime(ner_client, ner_bundle):
    # exactly, for int8-dynamic too: the server runs ONNX Runtime in runs of RUN_SIZE windows
    runtime = load(ner_bundle, batch_size=RUN_SIZE)
    response = ner_client.post("/v1/predict", json={"text": TEXTS[0]})
    assert response.status_code == 200, response.text
    assert response.json() == {"answer": runtime(TEXTS[0])}
    response = ner_client.post("/v1/predict", json={"texts": TEXTS[:4]})
    assert response.json() == {"answers": runtime(TEXTS[:4])}
    assert any(response.json()["answers"])  # the comparison covered real entities
    for strategy in ("simple", "first", "average", "max"):
        response = ner_client.post("/v1/predict", json={"texts": TEXTS[:3], "aggregation": strategy})
        assert response.json() == {"answers": runtime(TEXTS[:3], aggregation=strategy)}
    assert ner_client.post("/v1/predict", json={"texts": []}).json() == {"answers": []}


def test_sentiment_answers_equal_the_runtime(sentiment_client, sentiment_bundle):
    runtime = load(sentiment_bundle, batch_size=RUN_SIZE)
    texts = ["great film", "a bad movie", "great film " * 100]  # the long one is read in several windows
    assert sentiment_client.post("/v1/predict", json={"texts": texts}).json() == {"answers": runtime(texts)}
    answer = sentiment_client.post("/v1/predict", json={"text": "boring movie"}).json()["answer"]
    assert answer == runtime("boring movie") and set(answer) == {"label", "score", "scores"}


def concurrent_answers(client, texts: list[str]) -> list:
    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        responses = list(pool.map(lambda text: client.post("/v1/predict", json={"text": text}), texts))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    return [r.json()["answer"] for r in responses]


@pytest.mark.parametrize("max_batch_size, runs", [(8, 1), (1, 8)])
def test_concurrent_requests_share_model_runs(ner_bundle, max_batch_size, runs):
    # a long wait makes the grouping certain: the run starts when 8 texts wait, not when the timer ends
    app = create_app(ner_bundle, variant="fp32", max_batch_size=max_batch_size, max_wait_ms=5000)
    texts = (TEXTS * 2)[:8]
    with TestClient(app) as client:
        answers = concurrent_answers(client, texts)
        exposition = client.get("/metrics").text
    assert metric(exposition, "toolkit_batch_size_count") == runs
    assert metric(exposition, "toolkit_batch_size_sum") == 8
    assert metric(exposition, 'toolkit_batch_size_bucket{le="1.0"}') == (8 if max_batch_size == 1 else 0)
    assert metric(exposition, "toolkit_queue_depth") == 0
    runtime = load(ner_bundle, variant="fp32")
    assert_same_answers(answers, [runtime(text) for text in texts])


BAD_BODIES = [
    # (body, status, code, words the message must hold)
    (b"", 422, "empty_body", ['{"text"']),
    (b"   ", 422, "empty_body", ["empty"]),
    (b"{oops", 422, "invalid_json", ["not valid JSON", "line 1"]),
    (b"\xff\xfe{}", 422, "invalid_json", ["UTF-8"]),
    (b'["a", "b"]', 422, "wrong_type", ["JSON object", "an array"]),
    (b'"just a string"', 422, "wrong_type", ["found a string"]),
    (b"{}", 422, "text_or_texts", ["neither"]),
    (b'{"text": "a", "texts": ["b"]}', 422, "text_or_texts", ["both"]),
    (b'{"txt": "a"}', 422, "unknown_field", ["'txt'"]),
    (b'{"text": 3}', 422, "wrong_type", ['"text" must be a string', "a number"]),
    (b'{"texts": "abc"}', 422, "wrong_type", ['"texts" must be a list']),
    (b'{"texts": ["ok", null]}', 422, "wrong_type", ['"texts"[1]', "null"]),
    (b'{"texts": ["a", "b", "c", "d", "e"]}', 422, "too_many_texts", ["5 texts", "limit is 4", "--max-texts"]),
    (json.dumps({"text": "x" * 81}).encode(), 422, "text_too_long", ["81 characters", "limit is 80", "--max-chars"]),
    (json.dumps({"texts": ["ok", "x" * 81]}).encode(), 422, "text_too_long", ['"texts"[1]', "--max-chars"]),
    (json.dumps({"texts": ["x" * 80] * 3}).encode(), 422, "too_many_chars", ["240 characters", "limit is 200",
                                                                          "--max-request-chars"]),
    (b'{"texts": ["ok", "a\\ud800b"]}', 422, "lone_surrogate", ['"texts"[1]', "'\\ud800' at character 1"]),
    (b'{"text": "\\udfff"}', 422, "lone_surrogate", ['"text"', "lone surrogate"]),
    (b"[" * 100_000 + b"]" * 100_000, 413, "body_too_large", ["--max-body-bytes"]),
    (b'{"text": ' + b"[" * 1_900 + b"]" * 1_900 + b"}", 422, "too_deep", ["too deeply"]),
    (b'{"text": "a", "aggregation": "mean"}', 422, "unknown_aggregation", ["simple, first, average, max", "'mean'"]),
    (json.dumps({"texts": ["x" * 70] * 60}).encode(), 413, "body_too_large", ["limit is 4000", "--max-body-bytes"]),
]


@pytest.mark.parametrize("body, status, code, words", BAD_BODIES, ids=[b[2] + str(i) for i, b in enumerate(BAD_BODIES)])
def test_bad_bodies_get_their_error(ner_client, body, status, code, words):
    response = ner_client.post("/v1/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    for word in words:
        assert word in error["message"]
    assert "\n" not in error["message"]


def test_a_streamed_body_is_cut_at_the_limit(ner_client):
    def chunks():  # no Content-Length: the server must count as it reads
        for _ in range(100):
            yield b" " * 100

    response = ner_client.post("/v1/predict", content=chunks())
    assert response.status_code == 413
    assert "more than 4000 bytes" in response.json()["error"]["message"]


def test_aggregation_is_refused_for_sentiment(sentiment_client):
    response = sentiment_client.post("/v1/predict", json={"text": "great film", "aggregation": "first"})
    assert response.status_code == 422 and "NER bundles only" in response.json()["error"]["message"]


def test_bad_requests_do_not_affect_others(ner_bundle):
    app = create_app(ner_bundle, variant="fp32", max_batch_size=32, max_wait_ms=300)
    bodies = [{"text": TEXTS[0]}, {"texts": ["ok", 5]}, {"text": TEXTS[1]}, {"text": "a", "aggregation": "x"},
              {"texts": TEXTS[2:4]}]
    with TestClient(app) as client, ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        responses = list(pool.map(lambda body: client.post("/v1/predict", json=body), bodies))
        exposition = client.get("/metrics").text
    assert [r.status_code for r in responses] == [200, 422, 200, 422, 200]
    runtime = load(ner_bundle, variant="fp32")
    assert_same_answers([responses[0].json()["answer"], responses[2].json()["answer"], *responses[4].json()["answers"]],
                        runtime([TEXTS[0], TEXTS[1], *TEXTS[2:4]]))
    assert metric(exposition, 'toolkit_request_errors_total{code="wrong_type",route="/v1/predict"}') == 1
    assert metric(exposition, 'toolkit_request_errors_total{code="unknown_aggregation",route="/v1/predict"}') == 1
    assert metric(exposition, 'toolkit_requests_total{route="/v1/predict",status="200"}') == 3


def test_health_ready_metadata_metrics_docs(ner_client, ner_bundle):
    assert ner_client.get("/health").json() == {"status": "ok"}
    assert ner_client.get("/ready").json() == {"ready": True}
    manifest = json.loads((ner_bundle / "manifest.json").read_text())
    metadata = ner_client.get("/v1/metadata").json()
    variant = manifest["default_variant"]
    assert metadata["task"] == manifest["task"] == "ner"
    assert metadata["labels"] == manifest["labels"]
    assert metadata["variant"] == variant and metadata["sha256"] == manifest["variants"][variant]["sha256"]
    assert metadata["max_length"] == manifest["max_length"]
    assert {"toolkit", "onnxruntime", "tokenizers", "numpy"} <= set(metadata["versions"])
    assert metadata["limits"] == {"max_body_bytes": 4000, "max_texts": 4, "max_chars": 80, "max_request_chars": 200}
    ner_client.post("/v1/predict", json={"text": "Paris"})
    response = ner_client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    for name in ("toolkit_requests_total", "toolkit_request_errors_total", "toolkit_request_latency_seconds_bucket",
                 "toolkit_batch_size_bucket", "toolkit_queue_depth"):
        assert name in response.text
    assert metric(response.text, 'toolkit_request_latency_seconds_count{route="/v1/predict"}') >= 1
    schema = ner_client.get("/openapi.json").json()
    body = schema["paths"]["/v1/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"text", "texts", "aggregation"} <= set(body["properties"])


def test_not_ready_before_warm_up_and_after_close(ner_bundle):
    app = create_app(ner_bundle)
    client = TestClient(app)  # no `with`: the lifespan (warm-up) has not run
    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code == 503
    assert client.post("/v1/predict", json={"text": "Paris"}).status_code == 503


def test_a_tampered_bundle_never_serves(tmp_path, ner_bundle):
    bundle = tmp_path / "bundle"
    shutil.copytree(ner_bundle, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    model = bundle / manifest["variants"][manifest["default_variant"]]["file"]
    model.write_bytes(model.read_bytes()[:-100])
    with pytest.raises(BundleError, match="does not match the manifest"):
        create_app(bundle)
