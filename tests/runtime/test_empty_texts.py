"""One rule for a text with nothing to read (empty or blank): no answer, whatever the task."""

from toolkit.runtime import load


def test_a_text_with_nothing_to_read_gets_no_answer_in_either_task(ner_bundle, sentiment_bundle):
    ner, sentiment = load(ner_bundle), load(sentiment_bundle)
    assert ner(["", "   ", "\n"]) == [[], [], []]
    answers = sentiment(["", "   ", "a wonderful film"])
    assert answers[0] == answers[1] == {"label": None, "score": None, "scores": {}}
    assert answers[2]["label"] in ("neg", "pos") and 0.5 <= answers[2]["score"] <= 1


def test_the_service_answers_it_with_a_null_label(sentiment_bundle):
    from fastapi.testclient import TestClient

    from toolkit.serve import create_app

    with TestClient(create_app(sentiment_bundle)) as client:
        response = client.post("/v1/predict", json={"texts": ["", "a wonderful film"]})
    assert response.status_code == 200
    first, second = response.json()["answers"]
    assert first == {"label": None, "score": None, "scores": {}} and second["label"] is not None
