"""`toolkit predict`'s stdin protocol: a record per line, in order; a bad line cannot stop the others."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from toolkit.config import PredictConfig
from toolkit.jobs import load_predictor
from toolkit.jobs.stdin import predict_lines
from toolkit.runtime import load


def test_predict_reads_stdin_lines_and_reports_bad_ones(ner_bundle):
    predictor = load_predictor(PredictConfig(bundle=ner_bundle, batch_size=4))
    stdin = io.BytesIO(b'Angela Merkel met John Smith in Paris .\n{"text": "Olga Petrova", "id": "doc-7"}\n'
                       b'\xff\xfe broken\n{"text": oops}\n"a JSON string"\nlast line\n')
    out = io.StringIO()
    predict_lines(predictor, stdin, out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 6
    assert [r["line"] for r in lines] == [1, 2, 3, 4, 5, 6] and lines[1]["id"] == "doc-7" and "id" not in lines[0]
    assert isinstance(lines[0]["answer"], list) and isinstance(lines[1]["answer"], list)
    alone = load(ner_bundle)("Angela Merkel met John Smith in Paris .")  # int8 scores move with the batch
    assert [(e["entity"], e["start"], e["end"]) for e in lines[0]["answer"]] == [
        (e["entity"], e["start"], e["end"]) for e in alone] and alone
    assert lines[2] == {"line": 3, "error": "line 3: invalid UTF-8 at byte 0"}
    assert lines[3]["line"] == 4 and "not valid JSON" in lines[3]["error"]


def test_predict_answers_every_line_a_bad_one_cannot_stop_the_others(ner_bundle):
    lines = ['Angela Merkel met John Smith in Paris .', '{"text": "a \\ud800 b"}', '{"text": "Olga Petrova"}']
    run = subprocess.run([sys.executable, "-m", "toolkit", "predict", str(ner_bundle)], input="\n".join(lines),
                         capture_output=True, text=True)
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(answers) == 3 and isinstance(answers[0]["answer"], list) and isinstance(answers[2]["answer"], list)
    assert answers[1]["line"] == 2 and "lone surrogate" in answers[1]["error"]
    assert run.returncode == 1 and "1 input line(s) could not be answered" in run.stderr
    assert "Traceback" not in run.stderr
