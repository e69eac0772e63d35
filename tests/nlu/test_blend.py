"""Blending DIET's intent ranking with the logistic regression's (nlu.blend)."""

import pytest

from nlu.blend import blend


def test_the_blend_is_the_weighted_average_best_first() -> None:
    ranking = blend({"financing": 0.9, "crisis_general": 0.1},
                    {"financing": 0.2, "crisis_general": 0.8}, earlier_weight=0.25)

    assert [r["name"] for r in ranking] == ["crisis_general", "financing"]
    assert ranking[0]["confidence"] == pytest.approx(0.25 * 0.1 + 0.75 * 0.8)
    assert ranking[1]["confidence"] == pytest.approx(0.25 * 0.9 + 0.75 * 0.2)


def test_an_intent_missing_from_one_ranking_counts_as_zero_there() -> None:
    ranking = blend({"greet": 1.0}, {"thank": 0.6, "greet": 0.4}, earlier_weight=0.5)

    assert ranking == [{"name": "greet", "confidence": pytest.approx(0.7)},
                       {"name": "thank", "confidence": pytest.approx(0.3)}]


def test_without_an_earlier_ranking_the_own_ranking_is_kept() -> None:
    ranking = blend({}, {"thank": 0.6, "greet": 0.4}, earlier_weight=0.5)

    assert ranking == [{"name": "thank", "confidence": 0.6}, {"name": "greet", "confidence": 0.4}]


def test_confidences_of_two_distributions_still_sum_to_one() -> None:
    ranking = blend({"a": 0.5, "b": 0.5}, {"a": 0.1, "b": 0.3, "c": 0.6}, earlier_weight=0.4)

    assert sum(float(r["confidence"]) for r in ranking) == pytest.approx(1.0)


@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_a_weight_outside_zero_to_one_is_refused(weight: float) -> None:
    with pytest.raises(ValueError):
        blend({"a": 1.0}, {"a": 1.0}, earlier_weight=weight)
