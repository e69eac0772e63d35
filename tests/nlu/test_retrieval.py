"""Choosing the answer within a retrieval intent (nlu.retrieval), in the shape Rasa's
retrieval actions read."""

import pytest

from nlu.retrieval import group_of, per_group, prediction, utter_action

KEYS = ["chitchat/ask_name", "faq/is_it_free", "faq/opening_hours", "chitchat/how_are_you"]


def test_a_key_belongs_to_the_group_before_its_slash() -> None:
    assert group_of("faq/is_it_free") == "faq"
    assert utter_action("faq/is_it_free") == "utter_faq/is_it_free"


@pytest.mark.parametrize("key", ["faq", "/is_it_free", "faq/", ""])
def test_a_key_without_group_and_name_is_refused(key: str) -> None:
    with pytest.raises(ValueError):
        group_of(key)


def test_each_group_ranks_its_own_answers_with_probabilities_renormalised_within_it() -> None:
    groups = per_group(KEYS, [0.1, 0.2, 0.6, 0.1])

    assert [key for key, _ in groups["faq"]] == ["faq/opening_hours", "faq/is_it_free"]
    assert [p for _, p in groups["faq"]] == pytest.approx([0.75, 0.25])
    assert [p for _, p in groups["chitchat"]] == pytest.approx([0.5, 0.5])
    # Ties are ordered by key, so the choice does not depend on the classifier's class order.
    assert [key for key, _ in groups["chitchat"]] == ["chitchat/ask_name", "chitchat/how_are_you"]


def test_a_group_with_no_probability_shares_it_evenly() -> None:
    groups = per_group(["faq/a", "faq/b"], [0.0, 0.0])

    assert [p for _, p in groups["faq"]] == [0.5, 0.5]


def test_probabilities_and_keys_must_pair_up() -> None:
    with pytest.raises(ValueError):
        per_group(KEYS, [1.0])


def test_the_prediction_has_the_shape_rasas_retrieval_action_reads() -> None:
    responses = {"utter_faq/opening_hours": [{"text": "Vardagar 8–16.30."}]}

    predicted = prediction([("faq/opening_hours", 0.75), ("faq/is_it_free", 0.25)], responses)

    assert predicted["response"] == {
        "responses": [{"text": "Vardagar 8–16.30."}],
        "confidence": 0.75,
        "intent_response_key": "faq/opening_hours",
        "utter_action": "utter_faq/opening_hours",
    }
    assert [r["intent_response_key"] for r in predicted["ranking"]] == ["faq/opening_hours", "faq/is_it_free"]


def test_an_empty_ranking_is_refused() -> None:
    with pytest.raises(ValueError):
        prediction([], {})
