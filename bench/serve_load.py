"""Throughput and latency of serving a bundle over HTTP, with and without dynamic batching, and of batch jobs.

    python bench/serve_load.py BUNDLE [--requests 2000] [--clients 16] [--copies 10] [--skip-ray]

One CoNLL-2003 validation sentence per request (../shared/data), `--clients` concurrent clients,
`--requests` requests in all, then it stops. Measured, in this order:

- the in-process runtime on the same texts: one text per call, and batches of 32 (the ceiling);
- `toolkit serve` (uvicorn, a subprocess) with batching on (max_batch_size 32) and off (1);
- Ray Serve with 2 replicas (one ONNX Runtime thread each), the same load;
- the batch job over `--copies` copies of the validation set: local vs Ray Data (2 actors).

The load generator runs in this process and shares the machine's cores with the server; the
numbers compare the serving set-ups with each other on one machine, not against other hardware.
Writes bench/results/serve_load.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from toolkit.serve.server import wait_until_ready

CONLL_VALIDATION = Path(__file__).resolve().parents[2] / "shared" / "data" / "conll2003" / "validation.parquet"
RESULTS = Path(__file__).parent / "results" / "serve_load.json"


def conll_texts() -> list[str]:
    import pyarrow.parquet as pq

    return [" ".join(row["tokens"]) for row in pq.read_table(CONLL_VALIDATION, columns=["tokens"]).to_pylist()]


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def summarize(name: str, latencies: list[float], seconds: float, errors: int = 0, **extra) -> dict:
    ordered = sorted(latencies)
    return {"setup": name, "requests": len(latencies), "errors": errors, "seconds": round(seconds, 2),
            "requests_per_s": round(len(latencies) / seconds, 1),
            "p50_ms": round(1000 * statistics.median(ordered), 1) if ordered else None,
            "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1) if ordered else None,
            **extra}


def runtime_throughput(bundle: Path, texts: list[str], threads: int) -> list[dict]:
    """The in-process runtime on the same texts: one per call (what a request costs), and batches of 32."""
    from toolkit.runtime import load

    predictor = load(bundle, threads=threads)
    predictor(texts[:64])
    latencies = []
    started = time.perf_counter()
    for text in texts:
        begun = time.perf_counter()
        predictor(text)
        latencies.append(time.perf_counter() - begun)
    one = summarize("runtime in process, 1 text per call", latencies, time.perf_counter() - started)
    started = time.perf_counter()
    predictor(texts, batch_size=32)
    seconds = time.perf_counter() - started
    batched = {"setup": "runtime in process, batches of 32", "requests": len(texts), "errors": 0,
               "seconds": round(seconds, 2), "requests_per_s": round(len(texts) / seconds, 1),
               "p50_ms": None, "p99_ms": None}
    return [one, batched]


async def load_http(url: str, texts: list[str], clients: int, requests: int) -> tuple[list[float], float, int]:
    """`clients` concurrent clients send `requests` single-text requests in all; latencies of the good ones."""
    import httpx

    latencies, errors, counter = [], 0, iter(range(requests))

    async def client(http):
        nonlocal errors
        for index in counter:
            begun = time.perf_counter()
            response = await http.post(f"{url}/v1/predict", json={"text": texts[index % len(texts)]})
            if response.status_code == 200:
                latencies.append(time.perf_counter() - begun)
            else:
                errors += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        for text in texts[:clients]:  # warm the connections and the model
            await http.post(f"{url}/v1/predict", json={"text": text})
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return latencies, time.perf_counter() - started, errors


def uvicorn_load(bundle: Path, texts: list[str], clients: int, requests: int, max_batch_size: int,
                 threads: int) -> dict:
    port = free_port()
    code = (f"from toolkit.config import ServeConfig; from toolkit.serve.server import serve; "
            f"serve(ServeConfig({str(bundle)!r}, port={port}, threads={threads}, max_batch_size={max_batch_size}, "
            f"max_wait_ms=5, log_level='warning'))")
    process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url, process, timeout=120, interval=0.3)
        latencies, seconds, errors = asyncio.run(load_http(url, texts, clients, requests))
        batches = batch_sizes(url)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    name = f"toolkit serve (uvicorn), batching {'on, max_batch_size 32' if max_batch_size > 1 else 'off'}"
    return summarize(name, latencies, seconds, errors, mean_batch=batches)


def batch_sizes(url: str) -> float | None:
    """Mean texts per model run, from the server's /metrics."""
    import httpx

    samples = {}
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(("toolkit_batch_size_sum ", "toolkit_batch_size_count ")):
            name, value = line.split()
            samples[name] = float(value)
    count = samples.get("toolkit_batch_size_count", 0)
    return round(samples["toolkit_batch_size_sum"] / count, 1) if count else None


def ray_serve_load(bundle: Path, texts: list[str], clients: int, requests: int) -> dict:
    from ray import serve

    from toolkit.config import ServeConfig
    from toolkit.serve.ray_app import APP_NAME, deploy_ray

    url = deploy_ray(ServeConfig(bundle, ray=True, replicas=2, port=free_port(), threads=1, max_batch_size=32,
                                 max_wait_ms=5))
    try:
        wait_until_ready(url, timeout=120, interval=0.3)
        latencies, seconds, errors = asyncio.run(load_http(url, texts, clients, requests))
    finally:
        serve.delete(APP_NAME)
    return summarize("Ray Serve, 2 replicas x 1 thread, @serve.batch 32", latencies, seconds, errors)


def job_comparison(bundle: Path, texts: list[str], copies: int, skip_ray: bool) -> list[dict]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from toolkit.config import PredictConfig
    from toolkit.jobs import predict_corpus

    results = []
    with tempfile.TemporaryDirectory() as work:
        corpus = Path(work) / "corpus"
        corpus.mkdir()
        for copy in range(copies):
            ids = [f"{copy}-{i}" for i in range(len(texts))]
            pq.write_table(pa.table({"id": ids, "text": texts}), corpus / f"validation-{copy:02d}.parquet")
        outputs = {}
        for use_ray in ([False] if skip_ray else [False, True]):
            output = Path(work) / f"answers-{'ray' if use_ray else 'local'}.parquet"
            job = predict_corpus(PredictConfig(bundle, input=corpus, output=output, id_column="id", ray=use_ray,
                                               threads=None if use_ray else 2))
            outputs[use_ray] = pq.read_table(output).to_pylist()
            results.append({"setup": f"batch job, {'Ray Data, 2 actors x 1 thread' if use_ray else 'local, 2 threads'}",
                            "rows": job.rows, "seconds": round(job.seconds, 1),
                            "rows_per_s": round(job.rows / job.seconds, 1)})
        if not skip_ray:
            results[-1].update(agreement(outputs[False], outputs[True]))
    return results


def agreement(local: list[dict], distributed: list[dict]) -> dict:
    """Row for row: the same ids in order, the same entities (label, text, offsets), and how far scores moved
    (int8-dynamic scales activations per ONNX run, so a different batch composition moves scores a little)."""
    same_entities, score_diff = 0, 0.0
    for a, b in zip(local, distributed):
        ours, theirs = json.loads(a["entities"]), json.loads(b["entities"])
        spans = [[(e["entity"], e["start"], e["end"]) for e in answer] for answer in (ours, theirs)]
        if spans[0] == spans[1]:
            same_entities += 1
            score_diff = max([score_diff] + [abs(x["score"] - y["score"]) for x, y in zip(ours, theirs)])
    return {"same_ids_in_order": [a["id"] for a in local] == [b["id"] for b in distributed],
            "rows_with_same_entities": round(same_entities / len(local), 4),
            "max_score_diff": round(score_diff, 4)}


def markdown(rows: list[dict]) -> str:
    lines = ["| set-up | requests | req/s | p50 ms | p99 ms | texts per model run |", "|---|---|---|---|---|---|"]
    for row in rows:
        if "requests" in row:
            lines.append(f"| {row['setup']} | {row['requests']} | {row['requests_per_s']} | {row['p50_ms'] or ''} | "
                         f"{row['p99_ms'] or ''} | {row.get('mean_batch') or ''} |")
    lines += ["", "| batch job | rows | seconds | rows/s | rows with the local run's entities | max score diff |",
              "|---|---|---|---|---|---|"]
    for row in rows:
        if "rows" in row:
            lines.append(f"| {row['setup']} | {row['rows']} | {row['seconds']} | {row['rows_per_s']} | "
                         f"{row.get('rows_with_same_entities', '')} | {row.get('max_score_diff', '')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads of the uvicorn server")
    parser.add_argument("--copies", type=int, default=10, help="copies of CoNLL validation for the batch jobs")
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-jobs", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    texts = conll_texts()
    rows = runtime_throughput(args.bundle, texts[:args.requests], args.threads)
    for max_batch_size in (32, 1):
        rows.append(uvicorn_load(args.bundle, texts, args.clients, args.requests, max_batch_size, args.threads))
        print(json.dumps(rows[-1]), file=sys.stderr)
    if not args.skip_ray:
        rows.append(ray_serve_load(args.bundle, texts, args.clients, args.requests))
        print(json.dumps(rows[-1]), file=sys.stderr)
    if not args.skip_jobs:
        rows += job_comparison(args.bundle, texts, args.copies, args.skip_ray)
    if "ray" in sys.modules:
        import ray
        from ray import serve

        serve.shutdown()
        ray.shutdown()
    report = {"cpu": cpu_model(), "cores": os.cpu_count(), "bundle": str(args.bundle),
              "variant": json.loads((args.bundle / "manifest.json").read_text())["default_variant"],
              "clients": args.clients, "rows": rows}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
