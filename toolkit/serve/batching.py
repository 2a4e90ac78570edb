"""Dynamic batching: texts of concurrent requests answered in one model run, each answer back to its request.

Every text waits in one queue with an asyncio future. A model run takes up to `max_batch_size`
texts that share an aggregation, waiting at most `max_wait_ms` after the oldest arrived for others
to join; it runs on the shared predictor in a worker thread, so the event loop keeps accepting
requests meanwhile (and the next batch fills while this one runs).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from toolkit.answering import answer_batch
from toolkit.errors import ToolkitError

logger = logging.getLogger(__name__)

# Windows per ONNX Runtime run inside a batch. The runtime sorts a batch's windows by length before
# cutting runs, so short runs waste little on padding. On the 2-core CPU of bench/serve_load.py, for
# 16 random CoNLL sentences (median of 150 draws, int8-dynamic MiniLM): one padded run of 16 went
# 0.76x as fast as 16 runs of one; length-sorted runs of 4 went 1.16x as fast.
RUN_SIZE = 4
WARM_UP_TEXTS = ["Angela Merkel met Emmanuel Macron in Paris.", "A wonderful film."]


class ShuttingDown(Exception):
    """The batcher is closing and takes no new texts."""


@dataclass
class _Item:
    text: str
    aggregation: str | None
    future: asyncio.Future
    arrived: float = field(default_factory=time.monotonic)


def answer_texts(predictor, texts: list[str], aggregation: str | None = None) -> list:
    """Answer `texts` with one predictor call; `aggregation` (NER only) overrides the predictor's."""
    options = {"aggregation": aggregation} if aggregation is not None else {}
    return predictor.predict(texts, batch_size=RUN_SIZE, **options)


def answer_run(predictor, texts: list[str], aggregation: str | None = None) -> list:
    """Answers to one model run's `texts`; a text that breaks the run is answered alone, its exception as its
    answer, so the requests that happened to share its batch are still answered."""
    return answer_batch(partial(answer_texts, predictor, aggregation=aggregation), texts)


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
        self._pending: deque[_Item] = deque()
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._closing = False
        # One model thread: ONNX Runtime already spreads a run over its intra-op threads.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toolkit-model")

    async def start(self) -> None:
        """Start the batching loop and warm the model up (the first run allocates ONNX Runtime's buffers)."""
        self._wakeup = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="toolkit-batcher")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, answer_texts, self.predictor, WARM_UP_TEXTS)
        self.ready = True

    async def predict(self, texts: list[str], aggregation: str | None = None) -> list:
        """The answers to `texts`, in order, from whichever model runs they join."""
        if self._closing or self._task is None:
            raise ShuttingDown("the server is shutting down")
        loop = asyncio.get_running_loop()
        items = [_Item(text, aggregation, loop.create_future()) for text in texts]
        self._pending.extend(items)
        self._gauge(len(items))
        self._wakeup.set()
        return list(await asyncio.gather(*(item.future for item in items)))

    async def close(self) -> None:
        """Take no new texts, answer every waiting one, then stop the loop and the model thread."""
        self._closing = True
        self.ready = False
        if self._task is not None:
            self._wakeup.set()
            await self._task
        self._executor.shutdown(wait=True)

    def _gauge(self, change: int) -> None:
        if self.metrics is not None and change:
            self.metrics.queue_depth.inc(change)

    async def _run(self) -> None:
        while self._pending or not self._closing:
            if not self._pending:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = await self._collect()
            if batch:
                try:
                    await self._answer(batch)
                except Exception as error:  # the loop must outlive any one batch
                    logger.exception("batch of %d texts failed", len(batch))
                    for item in batch:
                        if not item.future.done():
                            item.future.set_exception(error)

    async def _collect(self) -> list[_Item]:
        """Wait until a full batch of the oldest text's aggregation is waiting, or its wait is over."""
        loop = asyncio.get_running_loop()
        oldest = self._pending[0]
        deadline = loop.time() + self.max_wait_s - (time.monotonic() - oldest.arrived)
        while not self._closing and self._count(oldest.aggregation) < self.max_batch_size:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except asyncio.TimeoutError:
                break
        batch, other, taken = [], [], 0
        while self._pending and len(batch) < self.max_batch_size:
            item = self._pending.popleft()
            if item.future.done():  # its request was cancelled (client went away)
                taken += 1
            elif item.aggregation == oldest.aggregation:
                batch.append(item)
                taken += 1
            else:
                other.append(item)
        self._pending.extendleft(reversed(other))
        self._gauge(-taken)
        return batch

    def _count(self, aggregation: str | None) -> int:
        return sum(1 for item in self._pending if item.aggregation == aggregation)

    async def _answer(self, batch: list[_Item]) -> None:
        loop = asyncio.get_running_loop()
        if self.metrics is not None:
            self.metrics.batch_size.observe(len(batch))
        answers = await loop.run_in_executor(self._executor, answer_run, self.predictor,
                                             [item.text for item in batch], batch[0].aggregation)
        for item, answer in zip(batch, answers):
            if item.future.done():
                continue
            if isinstance(answer, Exception):
                item.future.set_exception(answer)
            else:
                item.future.set_result(answer)
