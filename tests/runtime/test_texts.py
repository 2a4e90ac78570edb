"""What the runtime takes as texts: a lone surrogate is a clear ValueError, never tokenizers' TypeError."""

from __future__ import annotations

import pytest

from toolkit.runtime import load
from toolkit.runtime.predict import check_texts


def test_a_lone_surrogate_is_a_value_error_naming_the_item():
    with pytest.raises(ValueError, match=r"item 1 holds '\\ud800' at character 2, which is not a character"):
        check_texts(["fine", "ab\ud800c"])
    assert check_texts(("fine", "é 😀")) == ["fine", "é 😀"]  # a surrogate pair in UTF-16 is one character here


def test_the_predictor_refuses_a_lone_surrogate_alone_or_in_a_list(sentiment_bundle):
    predictor = load(sentiment_bundle)
    for texts in ("\udfff", ["great film", "\udfff"]):
        with pytest.raises(ValueError, match="lone surrogate"):
            predictor(texts)
