"""Ray Serve with 2 replicas on the session's local Ray: the same endpoints, errors and answers as local."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.serve.conftest import free_port
from tests.serve.test_app import TEXTS, assert_same_answers
from toolkit.config import ServeConfig
from toolkit.errors import BundleError
from toolkit.runtime import load

pytestmark = [pytest.mark.ray, pytest.mark.e2e]


@pytest.fixture(scope="module")
def ray_url(ray_local, ner_bundle):
    from ray import serve

    from toolkit.serve.ray_app import APP_NAME, deploy_ray

    url = deploy_ray(ServeConfig(ner_bundle, ray=True, replicas=2, port=free_port(), variant="fp32", max_wait_ms=20))
    yield url
    serve.delete(APP_NAME)  # gives the replicas' CPUs back to the Ray Data test


def test_ray_serve_runs_two_replicas_that_answer_as_local(ray_url, ner_bundle):
    from ray import serve

    from toolkit.serve.ray_app import APP_NAME

    status = serve.status().applications[APP_NAME]
    assert [d.replica_states for d in status.deployments.values()] == [{"RUNNING": 2}]
    assert httpx.get(f"{ray_url}/ready").json() == {"ready": True}
    assert httpx.get(f"{ray_url}/health").json() == {"status": "ok"}
    runtime = load(ner_bundle, variant="fp32")
    single = httpx.post(f"{ray_url}/v1/predict", json={"text": TEXTS[0]}).json()
    assert_same_answers([single["answer"]], [runtime(TEXTS[0])])
    several = httpx.post(f"{ray_url}/v1/predict", json={"texts": TEXTS, "aggregation": "max"}).json()
    assert_same_answers(several["answers"], runtime(TEXTS, aggregation="max"))
    with ThreadPoolExecutor(max_workers=8) as pool:  # concurrent requests over both replicas
        answers = list(pool.map(lambda t: httpx.post(f"{ray_url}/v1/predict", json={"text": t}, timeout=60).json(),
                                TEXTS * 4))
    assert_same_answers([a["answer"] for a in answers], [runtime(t) for t in TEXTS * 4])
    metadata = httpx.get(f"{ray_url}/v1/metadata").json()
    manifest = json.loads((ner_bundle / "manifest.json").read_text())
    assert metadata["serving"]["backend"] == "ray-serve" and metadata["sha256"] == manifest["variants"]["fp32"]["sha256"]
    assert "toolkit_batch_size_bucket" in httpx.get(f"{ray_url}/metrics").text


def test_ray_serve_gives_the_same_errors(ray_url):
    response = httpx.post(f"{ray_url}/v1/predict", json={"texts": ["ok", 3]})
    assert response.status_code == 422 and response.json()["error"]["code"] == "wrong_type"
    assert '"texts"[1]' in response.json()["error"]["message"]
    response = httpx.post(f"{ray_url}/v1/predict", content=b"x" * (1 << 20 + 1))
    assert response.status_code == 413 and "--max-body-bytes" in response.json()["error"]["message"]


def test_a_tampered_bundle_is_refused_before_ray_deploys(tmp_path, ner_bundle):
    from toolkit.serve.ray_app import deploy_ray

    bundle = tmp_path / "bundle"
    shutil.copytree(ner_bundle, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    (bundle / manifest["variants"][manifest["default_variant"]]["file"]).write_bytes(b"tampered")
    with pytest.raises(BundleError, match="does not match the manifest"):
        deploy_ray(ServeConfig(bundle, ray=True, replicas=2, port=free_port()))


def test_serve_ray_stops_cleanly_on_sigterm(ner_bundle):
    # its own Ray in a subprocess, as `toolkit serve --ray` runs it
    import signal
    import subprocess
    import sys
    import textwrap

    from toolkit.serve.server import wait_until_ready

    port = free_port()
    code = textwrap.dedent(f"""
        from toolkit.config import ServeConfig
        from toolkit.serve.ray_app import serve_ray
        serve_ray(ServeConfig({str(ner_bundle)!r}, ray=True, replicas=1, port={port}, replica_cpus=0.5))
        print("stopped")
    """)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", process, timeout=120)
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/predict", json={"text": TEXTS[0]}).json()
        assert answer == {"answer": load(ner_bundle)(TEXTS[0])}
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr[-2000:]
    assert stdout.strip().endswith("stopped")
