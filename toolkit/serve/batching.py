"""Dynamic batching: texts of concurrent requests answered in one model run, each answer back to its request,
and no request stalling the others.

Texts wait in two lanes, each with its own model thread: short texts (a sentence, a paragraph) in
one, longer ones in the other, so a one-sentence request never waits behind a run of long texts.
Within a lane each request's texts wait in a line of their own (toolkit/serve/queue.py: fair
queueing), and a run takes them from the least-served request first, up to `max_batch_size` texts
and RUN_CHARS characters; it waits at most `max_wait_ms` after the oldest arrived for others to
join. A run goes to the lane's worker thread, so the event loop keeps accepting requests meanwhile.
A request whose caller goes away (its client disconnected) has its waiting texts dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from toolkit.answering import answer_batch
from toolkit.errors import ToolkitError
from toolkit.serve.queue import FairQueue, Line, Waiting

logger = logging.getLogger(__name__)

# Windows per ONNX Runtime run inside a batch. The runtime sorts a batch's windows by length before
# cutting runs, so short runs waste little on padding. On the 2-core CPU of bench/serve_load.py, for
# 16 random CoNLL sentences (median of 150 draws, int8-dynamic MiniLM): one padded run of 16 went
# 0.76x as fast as 16 runs of one; length-sorted runs of 4 went 1.16x as fast.
RUN_SIZE = 4
# Characters in one model run (a longer text runs alone): ~500 MiniLM tokens, some 75 ms on 2 cores,
# which bounds how long a request waits for a run of another's texts to end. 20 CoNLL sentences fit.
RUN_CHARS = 2_000
# Texts up to this long go to the short lane; longer ones (several windows at 512 tokens) to the other.
SHORT_TEXT_CHARS = 1_000
WARM_UP_TEXTS = ["Angela Merkel met Emmanuel Macron in Paris.", "A wonderful film."]


class ShuttingDown(Exception):
    """The batcher is closing and takes no new texts."""


def answer_texts(predictor, texts: list[str], aggregation: str | None = None) -> list:
    """Answer `texts` with one predictor call; `aggregation` (NER only) overrides the predictor's."""
    options = {"aggregation": aggregation} if aggregation is not None else {}
    return predictor.predict(texts, batch_size=RUN_SIZE, **options)


def answer_run(predictor, texts: list[str], aggregation: str | None = None) -> list:
    """Answers to one model run's `texts`; a text that breaks the run is answered alone, its exception as its
    answer, so the requests that happened to share its batch are still answered."""
    return answer_batch(partial(answer_texts, predictor, aggregation=aggregation), texts)


class Lane:
    """One model thread and the texts waiting for it."""

    def __init__(self, name: str):
        self.name = name
        self.queue = FairQueue()
        self.wakeup = asyncio.Event()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"toolkit-model-{name}")
        self.task: asyncio.Task | None = None


class Batcher:
    """Answer texts with one shared predictor, grouping concurrent callers' texts into model runs."""

    def __init__(self, predictor, max_batch_size: int, max_wait_ms: float, metrics=None):
        problems = []
        if not isinstance(max_batch_size, int) or max_batch_size < 1:
            problems.append(f"max_batch_size must be an integer >= 1, found {max_batch_size!r} (--max-batch-size)")
        if max_wait_ms < 0:
            problems.append(f"max_wait_ms must be >= 0, found {max_wait_ms!r} (--max-wait-ms)")
        if problems:
            raise ToolkitError("; ".join(problems) + ".")
        self.predictor = predictor
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000
        self.metrics = metrics
        self.ready = False
        self._closing = False
        # Two model threads at most, one per lane: ONNX Runtime already spreads a run over its intra-op
        # threads, and a session may run in several threads at once.
        self._short, self._long = Lane("short"), Lane("long")

    @property
    def _lanes(self) -> tuple[Lane, Lane]:
        return self._short, self._long

    async def start(self) -> None:
        """Start the lanes and warm the model up (the first run allocates ONNX Runtime's buffers)."""
        for lane in self._lanes:
            lane.wakeup = asyncio.Event()  # of this event loop
            lane.task = asyncio.create_task(self._serve(lane), name=f"toolkit-batcher-{lane.name}")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._short.executor, answer_texts, self.predictor, WARM_UP_TEXTS)
        self.ready = True

    async def predict(self, texts: list[str], aggregation: str | None = None) -> list:
        """The answers to `texts`, in order, from whichever model runs they join. Cancelling the call (its client
        went away) drops its texts that no run has taken yet."""
        if self._closing or self._short.task is None:
            raise ShuttingDown("the server is shutting down")
        loop = asyncio.get_running_loop()
        waiting = [Waiting(text, loop.create_future()) for text in texts]
        lines: list[tuple[Lane, Line | None]] = []
        for lane in self._lanes:
            mine = [w for w in waiting if (len(w.text) <= SHORT_TEXT_CHARS) == (lane is self._short)]
            lines.append((lane, lane.queue.add(mine, aggregation)))
            if mine:
                lane.wakeup.set()
        self._gauge()
        try:
            return list(await asyncio.gather(*(w.future for w in waiting)))
        except BaseException as error:  # nobody waits for the rest of this request's texts any more
            dropped = sum(lane.queue.remove(line) for lane, line in lines)
            self._gauge()
            if isinstance(error, asyncio.CancelledError):
                self._count_cancelled(dropped)
            raise

    async def close(self) -> None:
        """Take no new texts, answer every waiting one, then stop the lanes and their model threads."""
        self._closing = True
        self.ready = False
        for lane in self._lanes:
            lane.wakeup.set()
        await asyncio.gather(*(lane.task for lane in self._lanes if lane.task is not None))
        for lane in self._lanes:
            lane.executor.shutdown(wait=True)

    def _gauge(self) -> None:
        if self.metrics is not None:
            self.metrics.queue_depth.set(sum(len(lane.queue) for lane in self._lanes))

    def _count_cancelled(self, texts: int) -> None:
        if self.metrics is not None and texts:
            self.metrics.texts_cancelled.inc(texts)

    async def _serve(self, lane: Lane) -> None:
        while lane.queue or not self._closing:
            if not lane.queue:
                lane.wakeup.clear()
                await lane.wakeup.wait()
                continue
            await self._fill(lane)
            aggregation, run = lane.queue.take(self.max_batch_size, RUN_CHARS)
            self._gauge()
            wanted = [text for text in run if not text.future.done()]  # done: its request was cancelled
            self._count_cancelled(len(run) - len(wanted))
            if not wanted:
                continue
            try:
                await self._answer(lane, wanted, aggregation)
            except Exception as error:  # the lane must outlive any one run
                logger.exception("a run of %d texts failed", len(wanted))
                for text in wanted:
                    if not text.future.done():
                        text.future.set_exception(error)

    async def _fill(self, lane: Lane) -> None:
        """Wait until a whole run is waiting in `lane`, or the oldest text's wait is over."""
        while not self._closing and not lane.queue.full(self.max_batch_size, RUN_CHARS):
            remaining = lane.queue.oldest() + self.max_wait_s - time.monotonic()
            if remaining <= 0:
                return
            lane.wakeup.clear()
            try:
                await asyncio.wait_for(lane.wakeup.wait(), remaining)
            except asyncio.TimeoutError:
                return
            if not lane.queue:  # its only request was cancelled meanwhile
                return

    async def _answer(self, lane: Lane, run: list[Waiting], aggregation: str | None) -> None:
        loop = asyncio.get_running_loop()
        if self.metrics is not None:
            self.metrics.batch_size.observe(len(run))
        answers = await loop.run_in_executor(lane.executor, answer_run, self.predictor,
                                             [text.text for text in run], aggregation)
        for text, answer in zip(run, answers):
            if text.future.done():
                continue
            if isinstance(answer, Exception):
                text.future.set_exception(answer)
            else:
                text.future.set_result(answer)
