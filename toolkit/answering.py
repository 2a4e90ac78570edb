"""One batch of texts answered so that no text can fail the others: the rule `toolkit predict`'s stdin
protocol and the HTTP server's batches share."""

from __future__ import annotations

import logging
from typing import Callable

logger = logging.getLogger(__name__)


def answer_batch(predict: Callable[[list[str]], list], texts: list[str]) -> list:
    """Answers to `texts` from one call of `predict`; if it fails, each text alone, its exception as its answer.

    A text that breaks the model must not fail the texts that happened to share its batch.
    """
    if not texts:
        return []
    try:
        return list(predict(texts))
    except Exception as error:  # noqa: BLE001 - which text failed is found below, and answered as its exception
        if len(texts) == 1:
            return [error]
        logger.warning("a batch of %d texts failed (%s); answering them one by one", len(texts), error)
    answers = []
    for text in texts:
        try:
            answers.append(predict([text])[0])
        except Exception as error:  # noqa: BLE001 - this text's answer is its exception
            answers.append(error)
    return answers
