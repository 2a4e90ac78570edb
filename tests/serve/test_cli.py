"""`toolkit serve` and `toolkit predict --input` through the CLI: wiring, and errors as one line."""

from __future__ import annotations

import json
import socket

import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import cli_error
from toolkit.cli import build_parser, main


def test_serve_options_carry_the_library_defaults():
    from toolkit.serve.batching import MAX_BATCH_SIZE, MAX_WAIT_MS
    from toolkit.serve.limits import Limits

    args = build_parser().parse_args(["serve", "b"])
    assert (args.host, args.port, args.max_batch_size, args.max_wait_ms) == ("127.0.0.1", 8080, MAX_BATCH_SIZE,
                                                                             MAX_WAIT_MS)
    assert (args.max_body_bytes, args.max_texts, args.max_chars) == (Limits.max_body_bytes, Limits.max_texts,
                                                                     Limits.max_chars)


def test_serve_errors_are_one_line(capsys, ner_bundle, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert f"port {port} on 127.0.0.1 is already in use" in cli_error(capsys, "serve", str(ner_bundle),
                                                                          "--port", str(port))
    assert "not a bundle" in cli_error(capsys, "serve", str(tmp_path), "--port", "0")


def test_predict_input_output_writes_the_answers(capsys, ner_bundle, tmp_path):
    pq.write_table(pa.table({"text": ["Angela Merkel met John Smith in Paris .", "Olga"]}), tmp_path / "in.parquet")
    main(["predict", str(ner_bundle), "--input", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "out.jsonl")])
    assert "2 rows" in capsys.readouterr().out
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["row"] for row in rows] == [0, 1]
    assert "already exists; pass --overwrite" in cli_error(capsys, "predict", str(ner_bundle), "--input",
                                                           str(tmp_path / "in.parquet"), "--output",
                                                           str(tmp_path / "out.jsonl"))
    assert "--input and --output go together" in cli_error(capsys, "predict", str(ner_bundle), "--input",
                                                            str(tmp_path / "in.parquet"))
