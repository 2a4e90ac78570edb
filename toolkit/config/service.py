"""Options of answering texts: predict (texts and corpus jobs) and serve."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.options import (
    check_number,
    check_scopes,
    option,
    raise_problems,
    unwritable,
)
from toolkit.runtime.entities import STRATEGIES as AGGREGATIONS
from toolkit.runtime.openvino import ENGINES
from toolkit.config.choices import LOG_LEVELS


@dataclass
class PredictConfig:
    bundle: Path = option("a bundle directory made by `toolkit export`", positional=True, type=Path)
    texts: list[str] = option("texts to answer; none: read JSON lines or plain lines from stdin", positional="*",
                              default_factory=list)
    variant: str | None = option("the variant to run (default: the manifest's default)", None)
    aggregation: str = option("ner: how word pieces' tags become entities", "first", choices=AGGREGATIONS)
    # A corpus job always verifies the model, runs it on ONNX Runtime and answers --chunk-size rows at a time.
    batch_size: int = option("texts per ONNX Runtime call", 32, type=int, only="not input")
    threads: int | None = option("ONNX Runtime threads (default: ONNX Runtime's choice)", None, type=int)
    no_verify: bool = option("skip the sha256 check of the model file", False, only="not input")
    engine: str | None = option("what runs the model: onnxruntime, or openvino (OpenVINO's CPU runtime; the "
                                "[openvino] extra) (default: the one the variant was made for)", None, choices=ENGINES,
                                only="not input")
    input: Path | None = option("answer a corpus instead: a parquet, jsonl or csv file, or a directory of them, read "
                                "in chunks", None, type=Path)
    output: Path | None = option("the answers' file, parquet or jsonl by its suffix", None, type=Path, only="input")
    text_column: str = option("the column of texts", "text", only="input")
    id_column: str | None = option("a column copied beside each answer (default: the row number)", None,
                                   only="input")
    chunk_size: int = option("rows read and answered at a time (memory stays bounded by it)", 256, type=int,
                             only="input")
    overwrite: bool = option("replace --output", False, only="input")
    ray: bool = option("answer on Ray Data (an actor pool of predictors), on a local Ray or the one at --address",
                       False, only="input")
    address: str | None = option("a Ray cluster to join (default: start a local Ray)", None, only="ray")

    def check(self) -> None:
        """Raise one error naming every option outside its allowed values or given where it does not apply."""
        problems: list[str] = []
        check_scopes(problems, self, {"input": ("a corpus", "texts given directly"),
                                      "ray": ("Ray Data", "this process")})
        check_number(problems, "--chunk-size", self.chunk_size, low=1)
        if self.input is not None and self.texts:
            problems.append("--input answers a corpus: give texts either as arguments or in --input, not both")
        if self.input is not None and self.output is None:
            problems.append("--input and --output go together: name the file the answers go to (.parquet or .jsonl)")
        if self.input is not None and self.output is not None:
            if Path(self.output).is_dir():
                problems.append(f"--output {self.output} is a directory: name a file such as "
                                f"{Path(self.output) / 'answers.parquet'}")
            elif unwritable(self.output):
                problems.append(f"--output {self.output}: {unwritable(self.output)}; choose a writable place")
        raise_problems(problems)


@dataclass
class ServeConfig:
    bundle: Path = option("a bundle directory made by `toolkit export`", positional=True, type=Path)
    host: str = option("address to listen on (127.0.0.1: this machine only)", "127.0.0.1")
    port: int = option("TCP port to listen on", 8080, type=int)
    variant: str | None = option("the variant to serve (default: the manifest's default)", None)
    threads: int | None = option("ONNX Runtime threads (default: ONNX Runtime's choice; 1 per replica with --ray)",
                                 None, type=int)
    engine: str | None = option("what runs the model: onnxruntime, or openvino (OpenVINO's CPU runtime; the "
                                "[openvino] extra; not with --ray) (default: the one the variant was made for)", None,
                                choices=ENGINES)
    max_batch_size: int = option("texts grouped into one model call from concurrent requests (1: no batching)", 32,
                                 type=int)
    max_wait_ms: float = option("how long a request may wait for others to join its batch", 5.0, type=float)
    max_body_bytes: int = option("largest request body accepted (413 above)", 1 << 20, type=int)
    max_texts: int = option("most texts in one request (422 above)", 256, type=int)
    # A long review is ~13k characters; the runtime's windows read it whole.
    max_chars: int = option("most characters in one text (422 above)", 20_000, type=int)
    # What one request may make the model read: 100,000 characters is ~25,000 MiniLM tokens, some 10 s on 2 cores.
    max_request_chars: int = option("most characters in one request, all its texts together (422 above)", 100_000,
                                    type=int)
    docs: bool = option("serve /docs and /redoc: their pages load scripts from a public CDN, so they are off unless "
                        "asked for (/openapi.json is always served)", False)
    shutdown_timeout: float = option("seconds SIGTERM waits for requests in flight, and for clients still sending "
                                     "one, before it closes their connections", 30.0, type=float, only="not ray")
    log_level: str = option("the server's log level", "info", choices=LOG_LEVELS, only="not ray")
    no_access_log: bool = option("log no line per request", False, only="not ray")
    ray: bool = option("serve on Ray Serve, with --replicas replicas, on a local Ray or the one at --address", False)
    replicas: int = option("replicas of the model", 2, type=int, only="ray")
    replica_cpus: float = option("Ray CPUs each replica reserves", 1.0, type=float, only="ray")
    address: str | None = option("a Ray cluster to join, e.g. ray://HOST:10001 or auto (default: start a local Ray)",
                                 None, only="ray")

    def check(self) -> None:
        """Raise one error naming every option outside its allowed values, before anything starts."""
        problems: list[str] = []
        check_scopes(problems, self, {"ray": ("Ray Serve", "this process")})
        check_number(problems, "--port", self.port, low=0, high=65535)
        check_number(problems, "--max-batch-size", self.max_batch_size, low=1)
        check_number(problems, "--max-wait-ms", self.max_wait_ms, low=0)
        for flag, value in (("--max-body-bytes", self.max_body_bytes), ("--max-texts", self.max_texts),
                            ("--max-chars", self.max_chars), ("--max-request-chars", self.max_request_chars),
                            ("--replicas", self.replicas)):
            check_number(problems, flag, value, low=1)
        check_number(problems, "--shutdown-timeout", self.shutdown_timeout, low=0)
        if self.log_level not in LOG_LEVELS:
            problems.append(f"--log-level must be one of {', '.join(LOG_LEVELS)}, found {self.log_level!r}")
        check_number(problems, "--replica-cpus", self.replica_cpus, above=0)
        if self.ray and self.engine == "openvino":
            problems.append("--engine openvino serves from this process only, not on Ray Serve's replicas: leave "
                            "--ray out, or --engine")
        raise_problems(problems)
