"""A real uvicorn server in a subprocess: ready, answers, graceful SIGTERM; a port in use is one clear line."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
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
        # int8-dynamic scales activations per batch: with batches of 1, each text is answered as alone
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
