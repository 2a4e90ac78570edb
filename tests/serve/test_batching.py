"""The batcher alone, with a recording stand-in predictor: grouping, fairness, isolation of failures, draining,
cancelling."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from toolkit.errors import ToolkitError
from toolkit.serve.batching import RUN_CHARS, SHORT_TEXT_CHARS, Batcher, ShuttingDown
from toolkit.serve.metrics import Metrics


class RecordingPredictor:
    """Answers each text with its upper case; fails a whole run that holds "boom"."""

    def __init__(self):
        self.runs: list[tuple[list[str], str | None]] = []

    def predict(self, texts, batch_size=32, aggregation=None):
        self.runs.append((list(texts), aggregation))
        if "boom" in texts:
            raise ValueError("the model failed")
        return [text.upper() for text in texts]


def run(coroutine):
    return asyncio.run(coroutine)


async def started(predictor, **options) -> Batcher:
    batcher = Batcher(predictor, metrics=Metrics(), **options)
    await batcher.start()
    predictor.runs.clear()  # the warm-up run
    return batcher


def test_concurrent_texts_share_runs_up_to_the_batch_size():
    async def scenario():
        predictor = RecordingPredictor()
        batcher = await started(predictor, max_batch_size=4, max_wait_ms=2000)
        answers = await asyncio.gather(*(batcher.predict([f"t{i}"]) for i in range(6)),
                                       batcher.predict(["x", "y"], aggregation="max"))
        await batcher.close()
        return predictor.runs, answers

    runs, answers = run(scenario())
    assert answers == [[f"T{i}"] for i in range(6)] + [["X", "Y"]]
    # 4 texts fill a run at once; the rest wait their 2 s, grouped by aggregation
    assert runs[0] == (["t0", "t1", "t2", "t3"], None)
    assert sorted(runs[1:]) == sorted([(["t4", "t5"], None), (["x", "y"], "max")])


def test_a_failing_text_does_not_fail_its_neighbours():
    async def scenario():
        predictor = RecordingPredictor()
        batcher = await started(predictor, max_batch_size=8, max_wait_ms=200)
        results = await asyncio.gather(batcher.predict(["a"]), batcher.predict(["boom"]), batcher.predict(["b"]),
                                       return_exceptions=True)
        await batcher.close()
        return results

    ok, failed, other = run(scenario())
    assert ok == ["A"] and other == ["B"]
    assert isinstance(failed, ValueError)


def test_close_answers_waiting_texts_at_once_then_refuses_new_ones():
    async def scenario():
        predictor = RecordingPredictor()
        batcher = await started(predictor, max_batch_size=32, max_wait_ms=60_000)
        waiting = asyncio.gather(batcher.predict(["a"]), batcher.predict(["b", "c"]))
        await asyncio.sleep(0.05)
        started_closing = time.monotonic()
        await batcher.close()
        answers = await waiting
        with pytest.raises(ShuttingDown):
            await batcher.predict(["late"])
        return answers, time.monotonic() - started_closing, batcher.metrics

    answers, seconds, metrics = run(scenario())
    assert answers == [["A"], ["B", "C"]]
    assert seconds < 5  # not the 60 s wait
    assert metrics.registry.get_sample_value("toolkit_queue_depth") == 0


def test_a_cancelled_request_is_skipped():
    async def scenario():
        predictor = RecordingPredictor()
        batcher = await started(predictor, max_batch_size=32, max_wait_ms=300)
        gone = asyncio.ensure_future(batcher.predict(["gone"]))
        kept = asyncio.ensure_future(batcher.predict(["kept"]))
        await asyncio.sleep(0.01)
        gone.cancel()
        answer = await kept
        await batcher.close()
        return predictor.runs, answer

    runs, answer = run(scenario())
    assert answer == ["KEPT"] and runs == [(["kept"], None)]


def test_bad_settings_are_one_error():
    with pytest.raises(ToolkitError, match="max_batch_size must be an integer >= 1.*--max-batch-size.*--max-wait-ms"):
        Batcher(RecordingPredictor(), max_batch_size=0, max_wait_ms=-1)


class GatedPredictor(RecordingPredictor):
    """RecordingPredictor whose runs holding a text that starts with "wait" block until `gate` is set."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()
        self.held = 0  # runs that reached the gate

    def predict(self, texts, batch_size=32, aggregation=None):
        if any(text.startswith("wait") for text in texts):
            self.held += 1
            assert self.gate.wait(timeout=30), "the test never opened the gate"
        return super().predict(texts, batch_size, aggregation)


def test_a_short_request_runs_next_behind_a_long_one():
    async def scenario():
        predictor = GatedPredictor()
        batcher = await started(predictor, max_batch_size=32, max_wait_ms=0)
        heavy = asyncio.ensure_future(batcher.predict([f"wait {i} " + "x" * 400 for i in range(200)]))
        while not predictor.held:  # the first run of the long request has begun, and is held at the gate
            await asyncio.sleep(0.01)
        short = asyncio.ensure_future(batcher.predict(["short"]))
        await asyncio.sleep(0.05)
        predictor.gate.set()
        await asyncio.gather(heavy, short)
        await batcher.close()
        return predictor.runs

    runs = run(scenario())
    # runs of at most RUN_CHARS characters, the short request's text in the very next one, not after all 200 texts
    assert all(sum(len(t) + 1 for t in texts) <= RUN_CHARS or len(texts) == 1 for texts, _ in runs)
    assert "short" in runs[1][0]
    assert sum(len(texts) for texts, _ in runs) == 201


def test_two_long_requests_share_the_model_alike():
    async def scenario():
        predictor = RecordingPredictor()
        batcher = await started(predictor, max_batch_size=2, max_wait_ms=0)
        await asyncio.gather(batcher.predict([f"a{i}" for i in range(6)]), batcher.predict([f"b{i}" for i in range(6)]))
        await batcher.close()
        return predictor.runs

    runs = run(scenario())
    assert [texts for texts, _ in runs][:3] == [["a0", "b0"], ["a1", "b1"], ["a2", "b2"]]


def test_a_short_request_is_answered_while_a_long_text_runs():
    async def scenario():
        predictor = GatedPredictor()
        batcher = await started(predictor, max_batch_size=32, max_wait_ms=0)
        long = asyncio.ensure_future(batcher.predict(["wait" + "x" * (SHORT_TEXT_CHARS + 1)]))
        while not predictor.held:
            await asyncio.sleep(0.01)
        try:  # the long text's run is held at the gate: the short text must not wait for it
            short = await asyncio.wait_for(batcher.predict(["short"]), timeout=10)
        finally:
            predictor.gate.set()
        await long
        await batcher.close()
        return short, long.done()

    assert run(scenario()) == (["SHORT"], True)


def test_a_cancelled_request_drops_its_waiting_texts_and_counts_them():
    async def scenario():
        predictor = GatedPredictor()
        batcher = await started(predictor, max_batch_size=2, max_wait_ms=0)
        gone = asyncio.ensure_future(batcher.predict([f"wait {i}" for i in range(10)]))
        while not predictor.held:
            await asyncio.sleep(0.01)
        gone.cancel()
        await asyncio.sleep(0.05)
        predictor.gate.set()
        kept = await batcher.predict(["kept"])
        await batcher.close()
        return predictor.runs, kept, batcher.metrics

    runs, kept, metrics = run(scenario())
    assert kept == ["KEPT"] and [texts for texts, _ in runs] == [["wait 0", "wait 1"], ["kept"]]
    assert metrics.registry.get_sample_value("toolkit_texts_cancelled_total") == 8
    assert metrics.registry.get_sample_value("toolkit_queue_depth") == 0
