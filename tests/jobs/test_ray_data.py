"""The batch job on Ray Data (the session's local Ray): the same rows, ids and answers as the local job."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.jobs.test_corpus import SENTENCES, job, read_output, write_corpus
from tests.serve.test_app import assert_same_answers
from toolkit.data.synthetic import make_sentence
from toolkit.runtime import load

pytestmark = [pytest.mark.ray, pytest.mark.e2e]


def test_the_local_ray_talks_over_loopback_only(ray_local):
    assert ray_local.util.get_node_ip_address() == "127.0.0.1"
    assert {node["NodeManagerAddress"] for node in ray_local.nodes()} == {"127.0.0.1"}
    assert ray_local.cluster_resources()["CPU"] == 2


def test_ray_data_job_answers_row_for_row_as_local(ray_local, tmp_path, ner_bundle):
    ids = write_corpus(tmp_path / "in")  # a.parquet, b.jsonl, c.csv
    rng = random.Random(0)
    varied = [" ".join(sum((make_sentence(rng)[0] for _ in range(rng.randint(1, 3))), [])) for _ in range(40)]
    more = [f"more-{i}" for i in range(40)]
    for name, part in (("d.parquet", slice(0, 25)), ("e.parquet", slice(25, 40))):  # chunks straddle these files
        pq.write_table(pa.table({"id": more[part], "text": varied[part]}), tmp_path / "in" / name)
    # the default variant, int8-dynamic: equal only if both runs put the same texts in each ONNX run
    local = job(ner_bundle, tmp_path / "in", tmp_path / "local.parquet", id_column="id", chunk_size=16)
    distributed = job(ner_bundle, tmp_path / "in", tmp_path / "ray.parquet", id_column="id", chunk_size=16,
                      ray=True)
    assert local.rows == distributed.rows == len(SENTENCES) + 40
    ours, theirs = read_output(tmp_path / "ray.parquet"), read_output(tmp_path / "local.parquet")
    assert [row["id"] for row in theirs] == ids + more
    assert ours == theirs
    assert any(row["entities"] for row in ours)
    numbered = job(ner_bundle, tmp_path / "in", tmp_path / "numbered.jsonl", chunk_size=16, variant="fp32",
                   aggregation="simple", ray=True)
    rows = read_output(numbered.output_path)
    assert [row["row"] for row in rows] == list(range(local.rows))
    runtime = load(ner_bundle, variant="fp32", aggregation="simple")
    assert_same_answers([r["entities"] for r in rows], [runtime(t) for t in SENTENCES + varied])
