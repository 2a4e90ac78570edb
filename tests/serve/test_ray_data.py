"""The batch job on Ray Data (the session's local Ray): the same rows, ids and answers as the local job."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.serve.test_app import assert_same_answers
from tests.serve.test_jobs import SENTENCES, read_output, write_corpus
from toolkit.runtime import load
from toolkit.serve.jobs import predict_corpus

pytestmark = pytest.mark.ray


def test_the_local_ray_talks_over_loopback_only(ray_local):
    assert ray_local.util.get_node_ip_address() == "127.0.0.1"
    assert {node["NodeManagerAddress"] for node in ray_local.nodes()} == {"127.0.0.1"}
    assert ray_local.cluster_resources()["CPU"] == 2


def test_ray_data_job_answers_row_for_row_as_local(ray_local, tmp_path, ner_bundle):
    ids = write_corpus(tmp_path / "in")
    pq.write_table(pa.table({"id": [f"more-{i}" for i in range(40)], "text": (SENTENCES * 8)}),
                   tmp_path / "in" / "d.parquet")
    local = predict_corpus(ner_bundle, tmp_path / "in", tmp_path / "local.parquet", id_column="id",
                           batch_size=16, variant="fp32", progress=False)
    distributed = predict_corpus(ner_bundle, tmp_path / "in", tmp_path / "ray.parquet", id_column="id",
                                 batch_size=16, variant="fp32", use_ray=True, progress=False)
    assert local.rows == distributed.rows == len(SENTENCES) + 40
    ours, theirs = read_output(tmp_path / "ray.parquet"), read_output(tmp_path / "local.parquet")
    assert [row["id"] for row in ours] == [row["id"] for row in theirs] == ids + [f"more-{i}" for i in range(40)]
    assert_same_answers([json.loads(r["entities"]) for r in ours], [json.loads(r["entities"]) for r in theirs])
    numbered = predict_corpus(ner_bundle, tmp_path / "in", tmp_path / "numbered.jsonl", batch_size=16, variant="fp32",
                              aggregation="simple", use_ray=True, progress=False)
    rows = read_output(numbered.output_path)
    assert [row["row"] for row in rows] == list(range(local.rows))
    runtime = load(ner_bundle, variant="fp32", aggregation="simple")
    assert_same_answers([json.loads(r["entities"]) for r in rows], [runtime(t) for t in SENTENCES + SENTENCES * 8])
