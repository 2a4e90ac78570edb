"""Evaluation reports to render: one of an NER bundle (entities, variants against PyTorch) and one of a
sentiment bundle (labels), made once per session."""

import pytest

from toolkit.config import EvaluateConfig
from toolkit.evaluation import evaluate


@pytest.fixture(scope="session")
def ner_report(ner_bundle, tmp_path_factory) -> dict:
    output = tmp_path_factory.mktemp("ner-evaluation") / "report.json"
    return evaluate(EvaluateConfig(model_dir=ner_bundle, output=output, worst=4)).as_dict()


@pytest.fixture(scope="session")
def sentiment_report(sentiment_bundle, tmp_path_factory) -> dict:
    output = tmp_path_factory.mktemp("sentiment-evaluation") / "report.json"
    return evaluate(EvaluateConfig(model_dir=sentiment_bundle, output=output, worst=3)).as_dict()


def with_one_label_difference(report: dict, text: str) -> dict:
    """A copy of a sentiment report whose last variant answers example 7 (`text`) otherwise than PyTorch."""
    import copy

    report = copy.deepcopy(report)
    variant = report["differences"][-1]
    variant["differing"], variant["shown"] = 1, [{"index": 7, "text": text, "gold": "pos",
                                                  "pytorch": {"label": "pos", "score": 0.91},
                                                  "variant": {"label": "neg", "score": 0.61}}]
    return report
