"""Batch jobs without Ray: formats in and out, ids, atomic output, re-runs, and one-line errors; and the
job through `toolkit predict --input`."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import toolkit.jobs.corpus as jobs
from tests.conftest import cli_error
from tests.serve.test_app import assert_same_answers
from toolkit.cli import main
from toolkit.config import PredictConfig
from toolkit.errors import DataError
from toolkit.jobs import predict_corpus
from toolkit.runtime import load

SENTENCES = ["Angela Merkel met John Smith in Paris .", "Olga Petrova visited Nairobi .", "",
             "Shares of Barclays fell after Maria Garcia resigned .", "Greenpeace and Toyota met in Tokyo ."]


def write_corpus(directory, texts=SENTENCES):
    """The same rows split over parquet, jsonl and csv files (read in name order: a, b, c)."""
    directory.mkdir(parents=True, exist_ok=True)
    ids = [f"doc-{i}" for i in range(len(texts))]
    pq.write_table(pa.table({"id": ids[:2], "text": texts[:2], "other": [1, 2]}), directory / "a.parquet")
    (directory / "b.jsonl").write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in zip(ids[2:4], texts[2:4])))
    pacsv.write_csv(pa.table({"id": ids[4:], "text": texts[4:]}), directory / "c.csv")
    return ids


def job(bundle, input_path, output_path, **options):
    """predict_corpus with `options` as PredictConfig fields."""
    return predict_corpus(PredictConfig(bundle, input=input_path, output=output_path, **options))


def read_output(path):
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_a_directory_of_formats_is_answered_as_the_runtime_does(tmp_path, ner_bundle, suffix):
    ids = write_corpus(tmp_path / "in")
    result = job(ner_bundle, tmp_path / "in", tmp_path / f"out{suffix}", id_column="id", variant="fp32")
    rows = read_output(tmp_path / f"out{suffix}")
    assert result.rows == len(rows) == len(SENTENCES) and result.files == 3
    assert [row["id"] for row in rows] == ids and list(rows[0]) == ["id", "entities"]
    runtime = load(ner_bundle, variant="fp32")
    assert_same_answers([row["entities"] for row in rows], [runtime(t) for t in SENTENCES])
    assert any(row["entities"] for row in rows)


def test_aggregation_reaches_the_ner_predictor_and_sentiment_ignores_it(tmp_path, ner_bundle, sentiment_bundle):
    write_corpus(tmp_path / "in")
    job(ner_bundle, tmp_path / "in", tmp_path / "ner.jsonl", variant="fp32", aggregation="simple")
    runtime = load(ner_bundle, variant="fp32", aggregation="simple")
    found = [row["entities"] for row in read_output(tmp_path / "ner.jsonl")]
    assert_same_answers(found, [runtime(t) for t in SENTENCES])
    assert found != [load(ner_bundle, variant="fp32")(t) for t in SENTENCES]  # "simple" differs from "first" here
    job(sentiment_bundle, tmp_path / "in", tmp_path / "sentiment.jsonl", aggregation="first")
    assert len(read_output(tmp_path / "sentiment.jsonl")) == len(SENTENCES)


def test_sentiment_rows_numbered_and_null_texts(tmp_path, sentiment_bundle):
    texts = ["great film", None, "a bad movie", "boring movie"]
    pq.write_table(pa.table({"review": pa.array(texts, pa.string())}), tmp_path / "in.parquet")
    job(sentiment_bundle, tmp_path / "in.parquet", tmp_path / "out.jsonl", text_column="review", chunk_size=2,
        variant="fp32")
    rows = read_output(tmp_path / "out.jsonl")
    assert [row["row"] for row in rows] == [0, 1, 2, 3]
    assert rows[1] == {"row": 1, "label": None, "score": None}
    runtime = load(sentiment_bundle, variant="fp32")
    for row, text in zip(rows, texts):
        if text is not None:
            expected = runtime(text)
            assert row["label"] == expected["label"] and row["score"] == pytest.approx(expected["score"], abs=1e-5)


def test_existing_output_is_refused_unless_overwrite(tmp_path, ner_bundle):
    write_corpus(tmp_path / "in")
    output = tmp_path / "out.parquet"
    output.write_text("keep me")
    with pytest.raises(DataError, match="already exists; pass --overwrite"):
        job(ner_bundle, tmp_path / "in", output)
    assert output.read_text() == "keep me"
    job(ner_bundle, tmp_path / "in", output, overwrite=True)
    assert len(read_output(output)) == len(SENTENCES)


def test_an_interrupted_run_leaves_nothing_and_reruns_cleanly(tmp_path, ner_bundle, monkeypatch):
    write_corpus(tmp_path / "in")
    output = tmp_path / "in" / "_answers" / "answers.parquet"  # a folder of the input that is never read
    calls = []
    real = jobs.answer_columns

    def interrupt_on_the_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "answer_columns", interrupt_on_the_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        job(ner_bundle, tmp_path / "in", output, chunk_size=1)
    assert not output.exists() and not list((tmp_path / "in").rglob(".*partial"))
    monkeypatch.setattr(jobs, "answer_columns", real)
    job(ner_bundle, tmp_path / "in", output, chunk_size=1)
    assert [row["row"] for row in read_output(output)] == list(range(len(SENTENCES)))
    job(ner_bundle, tmp_path / "in", output, overwrite=True)
    assert len(read_output(output)) == len(SENTENCES)


def test_an_output_that_is_its_own_input_is_refused_even_with_overwrite(tmp_path, ner_bundle):
    write_corpus(tmp_path / "in")
    corpus = tmp_path / "in" / "b.jsonl"
    before = corpus.read_bytes()
    message = one_line_error(ner_bundle, corpus, corpus, overwrite=True)
    assert f"--output {corpus} is --input {corpus}" in message
    message = one_line_error(ner_bundle, tmp_path / "in", corpus, overwrite=True)
    assert f"would be read as part of --input {tmp_path / 'in'}" in message
    assert "answers.jsonl" in one_line_error(ner_bundle, tmp_path / "in", tmp_path / "in" / "answers.jsonl")
    assert corpus.read_bytes() == before and sorted(p.name for p in (tmp_path / "in").iterdir()) == [
        "a.parquet", "b.jsonl", "c.csv"]


def test_a_jsonl_input_that_is_not_utf8_names_the_file_and_line(tmp_path, ner_bundle):
    corpus = tmp_path / "in.jsonl"
    corpus.write_bytes('{"text": "Paris"}\n{"text": "M\u00fcller"}\n'.encode("latin-1"))
    message = one_line_error(ner_bundle, corpus, tmp_path / "out.jsonl")
    assert f"{corpus}, line 2: not UTF-8 text" in message and "save the file as UTF-8" in message
    assert not (tmp_path / "out.jsonl").exists()


def one_line_error(*args, **kwargs) -> str:
    with pytest.raises(DataError) as error:
        job(*args, **kwargs)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_bad_inputs_and_outputs_are_one_line_errors(tmp_path, ner_bundle):
    write_corpus(tmp_path / "in")
    out = tmp_path / "out.parquet"
    message = one_line_error(ner_bundle, tmp_path / "in", out, text_column="body")
    assert "no column 'body'" in message and "'text'" in message and "'id'" in message and "--text-column" in message
    message = one_line_error(ner_bundle, tmp_path / "in", out, id_column="key")
    assert "no column 'key'" in message and "--id-column" in message
    (tmp_path / "notes.txt").write_text("hello")
    assert "unknown format '.txt'" in one_line_error(ner_bundle, tmp_path / "notes.txt", out)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    assert "cannot read it as parquet" in one_line_error(ner_bundle, tmp_path / "broken.parquet", out)
    assert "expected an output path ending in .parquet or .jsonl" in one_line_error(
        ner_bundle, tmp_path / "in", tmp_path / "out.csv")
    assert "no such file" in one_line_error(ner_bundle, tmp_path / "missing", out)
    (tmp_path / "empty").mkdir()
    assert "no .parquet" in one_line_error(ner_bundle, tmp_path / "empty", out)
    pq.write_table(pa.table({"text": [1, 2]}), tmp_path / "numbers.parquet")
    assert "holds int64, expected strings" in one_line_error(ner_bundle, tmp_path / "numbers.parquet", out)
    assert not out.exists()


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


def test_entities_are_an_array_in_json_lines_and_a_list_of_structs_in_parquet(tmp_path, ner_bundle):
    write_corpus(tmp_path / "in")
    job(ner_bundle, tmp_path / "in", tmp_path / "out.parquet", variant="fp32")
    kind = pq.read_schema(tmp_path / "out.parquet").field("entities").type
    assert pa.types.is_list(kind) and pa.types.is_struct(kind.value_type)
    assert [kind.value_type.field(i).name for i in range(kind.value_type.num_fields)] == [
        "entity", "text", "start", "end", "score"]
    job(ner_bundle, tmp_path / "in", tmp_path / "out.jsonl", variant="fp32")
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert all(isinstance(row["entities"], list) for row in lines)
    assert any(row["entities"] and isinstance(row["entities"][0]["start"], int) for row in lines)
