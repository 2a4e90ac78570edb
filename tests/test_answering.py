"""The one rule for a batch: one call, and each text alone when it fails; a failed text's answer is its exception."""

from __future__ import annotations

from toolkit.answering import answer_batch


def upper_unless_boom(texts: list[str]) -> list[str]:
    if "boom" in texts:
        raise ValueError("the model failed")
    return [text.upper() for text in texts]


def test_a_failing_text_is_answered_by_its_exception_and_the_others_by_the_model():
    calls = []

    def predict(texts):
        calls.append(list(texts))
        return upper_unless_boom(texts)

    answers = answer_batch(predict, ["a", "boom", "b"])
    assert answers[0] == "A" and answers[2] == "B"
    assert isinstance(answers[1], ValueError) and str(answers[1]) == "the model failed"
    assert calls == [["a", "boom", "b"], ["a"], ["boom"], ["b"]]


def test_a_good_batch_is_one_call_and_nothing_is_no_call():
    calls = []
    assert answer_batch(lambda texts: calls.append(texts) or upper_unless_boom(texts), ["a", "b"]) == ["A", "B"]
    assert len(calls) == 1
    assert answer_batch(lambda texts: calls.append(texts), []) == [] and len(calls) == 1
    single = answer_batch(upper_unless_boom, ["boom"])
    assert len(single) == 1 and isinstance(single[0], ValueError)  # one text that fails is not run twice
