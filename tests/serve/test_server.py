"""A real uvicorn server in a subprocess: ready, answers, graceful SIGTERM (bounded), no client stalling another;
a port in use is one clear line."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time

import httpx
import pytest

from tests.serve.conftest import free_port
from tests.serve.test_app import metric
from toolkit.config import ServeConfig
from toolkit.errors import ToolkitError
from toolkit.runtime import load
from toolkit.serve.server import serve, wait_until_ready

SENTENCE = "Angela Merkel met John Smith in Paris ."


def start_server(bundle, port: int, **options) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        from toolkit.config import ServeConfig
        from toolkit.serve.server import serve
        serve(ServeConfig({str(bundle)!r}, host="127.0.0.1", port={port}, **{options!r}))
    """)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@contextlib.contextmanager
def running_server(bundle, **options):
    """A real server on a free local port, ready to answer; killed on the way out if still running."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_server(bundle, port, **options)
    try:
        wait_until_ready(url, process)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def wait_for(predicate, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


@pytest.mark.e2e
def test_server_answers_and_stops_gracefully_on_sigterm(ner_bundle):
    # A text waits up to 2 s for companions: time enough to send SIGTERM while a request is in flight.
    with running_server(ner_bundle, max_wait_ms=2000, max_batch_size=32) as (process, url):
        assert httpx.get(f"{url}/health").json() == {"status": "ok"}
        metadata = httpx.get(f"{url}/v1/metadata").json()
        assert metadata["task"] == "ner" and len(metadata["sha256"]) == 64

        in_flight = {}
        sender = threading.Thread(target=lambda: in_flight.update(
            response=httpx.post(f"{url}/v1/predict", json={"text": SENTENCE}, timeout=30)))
        sender.start()
        wait_for(lambda: metric(httpx.get(f"{url}/metrics").text, "toolkit_queue_depth") == 1)
        process.send_signal(signal.SIGTERM)
        sender.join(timeout=30)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert in_flight["response"].status_code == 200
    assert in_flight["response"].json() == {"answer": load(ner_bundle)(SENTENCE)}
    assert "Shutting down" in stderr
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health", timeout=2)


def test_a_port_in_use_is_one_clear_line(ner_bundle):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ToolkitError) as error:
            serve(ServeConfig(ner_bundle, host="127.0.0.1", port=port))
    message = str(error.value)
    assert f"port {port}" in message and "in use" in message and "--port" in message
    assert "\n" not in message


def test_a_bad_bundle_never_listens(tmp_path):
    port = free_port()
    with pytest.raises(ToolkitError, match="not a bundle"):
        serve(ServeConfig(tmp_path, host="127.0.0.1", port=port))
    with socket.socket() as probe:  # the port was given back
        probe.bind(("127.0.0.1", port))


@pytest.mark.e2e
def test_batching_off_answers_each_text_as_the_runtime_does_alone(ner_bundle):
    with running_server(ner_bundle, max_batch_size=1, max_wait_ms=0) as (process, url):
        response = httpx.post(f"{url}/v1/predict", json={"texts": [SENTENCE, "Paris"], "aggregation": "max"})
        # with batches of 1, each text is answered as alone
        runtime = load(ner_bundle, aggregation="max")
        assert response.json() == {"answers": [runtime(SENTENCE), runtime("Paris")]}
        bad = httpx.post(f"{url}/v1/predict", content=b"[1]", headers={"content-type": "application/json"})
        assert bad.status_code == 422 and json.loads(bad.text)["error"]["code"] == "wrong_type"
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_waiting_for_a_server_ends_when_it_exits_or_times_out():
    port = free_port()
    dead = subprocess.Popen([sys.executable, "-c", "import sys; sys.stderr.write('no model'); sys.exit(3)"],
                            stderr=subprocess.PIPE, text=True)
    with pytest.raises(ToolkitError, match="exited with 3: no model"):
        wait_until_ready(f"http://127.0.0.1:{port}", dead, timeout=30)
    started = time.monotonic()
    with pytest.raises(ToolkitError, match="was not ready in 0.5 s"):
        wait_until_ready(f"http://127.0.0.1:{port}", timeout=0.5)
    assert time.monotonic() - started < 5


def heaviest_body(shape: str) -> bytes:
    """A predict body at the default limits: as many characters as one request may hold, in the most texts
    (each under 400 characters) or in the longest texts."""
    limits = ServeConfig("b")
    sentence = "Olga Petrova visited Nairobi and met Angela Merkel . "
    if shape == "many":
        text = (sentence * 8)[: limits.max_request_chars // limits.max_texts]
        texts = [text] * limits.max_texts
    else:
        texts = [(sentence * 400)[: limits.max_chars]] * (limits.max_request_chars // limits.max_chars)
    assert sum(map(len, texts)) <= limits.max_request_chars
    body = json.dumps({"texts": texts}).encode()
    assert len(body) <= limits.max_body_bytes
    return body


@pytest.mark.e2e
@pytest.mark.parametrize("shape", ["many", "long"])
def test_a_client_sending_the_heaviest_requests_does_not_stall_another(ner_bundle, shape):
    body = heaviest_body(shape)
    heavy_answers: list[int] = []
    stop = threading.Event()

    def send_heavy_requests(url: str) -> None:  # back to back, as one client
        with httpx.Client(timeout=120) as heavy:
            while not stop.is_set():
                heavy_answers.append(heavy.post(f"{url}/v1/predict", content=body).status_code)

    with running_server(ner_bundle, no_access_log=True) as (process, url), httpx.Client(timeout=60) as light:
        def latency() -> float:
            started = time.perf_counter()
            response = light.post(f"{url}/v1/predict", json={"text": SENTENCE})
            assert response.status_code == 200, response.text
            return time.perf_counter() - started

        for _ in range(5):
            latency()  # connection and first runs
        idle = statistics.median(latency() for _ in range(20))
        heavy = threading.Thread(target=send_heavy_requests, args=(url,))
        heavy.start()
        try:
            wait_for(lambda: metric(httpx.get(f"{url}/metrics").text, "toolkit_queue_depth") > 0)  # it has begun
            loaded = statistics.median(latency() for _ in range(20))
        finally:
            stop.set()
            heavy.join(timeout=120)
    assert heavy_answers and set(heavy_answers) == {200}
    assert loaded <= 10 * idle, (f"a sentence took {loaded * 1000:.1f} ms beside the heavy client, "
                                 f"{idle * 1000:.1f} ms alone")


@pytest.mark.e2e
def test_sigterm_stops_within_its_timeout_while_a_client_holds_a_half_sent_body(ner_bundle):
    with running_server(ner_bundle, shutdown_timeout=1, log_level="warning", no_access_log=True) as (process, url):
        assert httpx.post(f"{url}/v1/predict", json={"text": SENTENCE}).status_code == 200
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as stalled:
            stalled.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            b"Content-Length: 1000\r\n\r\n" + b'{"text": "Paris')  # and never the rest
            time.sleep(0.5)  # the server reads the head and starts on the body
            process.send_signal(signal.SIGTERM)
            try:
                _, stderr = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail("SIGTERM did not stop the server while a client held a half-sent body")
    assert process.returncode == 0, stderr
    assert "timeout graceful shutdown exceeded" in stderr
    # --log-level warning hides uvicorn's INFO lines; --no-access-log the line per request
    assert "Shutting down" not in stderr and "POST /v1/predict" not in stderr


def test_serve_options_out_of_range_are_refused_before_anything_starts(tmp_path):
    for options, words in [({"max_body_bytes": -1}, "--max-body-bytes must be at least 1, found -1"),
                           ({"max_chars": -5}, "--max-chars must be at least 1, found -5"),
                           ({"max_texts": 0}, "--max-texts must be at least 1, found 0"),
                           ({"max_request_chars": 0}, "--max-request-chars must be at least 1, found 0"),
                           ({"port": 99999}, "--port must be at least 0 and at most 65535, found 99999"),
                           ({"port": -1}, "--port must be at least 0 and at most 65535, found -1"),
                           ({"shutdown_timeout": -1}, "--shutdown-timeout must be at least 0, found -1"),
                           ({"log_level": "loud"}, "--log-level must be one of critical, error, warning, info")]:
        with pytest.raises(ToolkitError) as error:
            serve(ServeConfig(tmp_path, **options))
        assert words in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(ToolkitError, match="--log-level and --no-access-log apply to this process, not with --ray"):
        ServeConfig(tmp_path, ray=True, log_level="debug", no_access_log=True).check()


@pytest.mark.e2e
def test_a_client_that_disconnects_has_its_waiting_texts_dropped(ner_bundle):
    body = heaviest_body("many")
    with running_server(ner_bundle, max_batch_size=1, no_access_log=True) as (process, url):
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as leaving:
            leaving.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            wait_for(lambda: metric(httpx.get(f"{url}/metrics").text, "toolkit_queue_depth") > 0)
        wait_for(lambda: metric(httpx.get(f"{url}/metrics").text, "toolkit_queue_depth") == 0)
        exposition = httpx.get(f"{url}/metrics").text
        assert httpx.post(f"{url}/v1/predict", json={"text": SENTENCE}).status_code == 200
    assert metric(exposition, 'toolkit_requests_total{route="/v1/predict",status="499"}') == 1
    assert 0 < metric(exposition, "toolkit_texts_cancelled_total") < 256
