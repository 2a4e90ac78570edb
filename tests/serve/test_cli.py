"""`toolkit serve` through the CLI: wiring, and errors as one line."""

from __future__ import annotations

import socket

from tests.conftest import cli_error
from toolkit.cli import build_parser


def test_serve_options_carry_the_library_defaults():
    from toolkit.config import ServeConfig

    library = ServeConfig(bundle="b")  # what serve(), create_app() and the Ray deployment default to
    args = build_parser().parse_args(["serve", "b"])
    assert (args.host, args.port, args.max_batch_size, args.max_wait_ms) == ("127.0.0.1", 8080, library.max_batch_size,
                                                                             library.max_wait_ms)
    assert (args.max_body_bytes, args.max_texts, args.max_chars) == (library.max_body_bytes, library.max_texts,
                                                                     library.max_chars)


def test_serve_errors_are_one_line(capsys, ner_bundle, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert f"port {port} on 127.0.0.1 is already in use" in cli_error(capsys, "serve", str(ner_bundle),
                                                                          "--port", str(port))
    assert "not a bundle" in cli_error(capsys, "serve", str(tmp_path), "--port", "0")

