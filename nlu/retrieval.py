"""Which answer of a retrieval intent fits a message (plain functions, no Rasa imports).

A retrieval intent groups several questions with an answer each: `faq/is_it_free`,
`faq/opening_hours`, `chitchat/ask_name`. The intent classifiers only decide the group
(`faq`); `nlu.retrieval_selector` then picks the answer within it from one classifier's
probabilities over every full key. This module turns those probabilities into the
per-group prediction Rasa's retrieval actions (`utter_faq`) read, in the shape Rasa's own
ResponseSelector writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def group_of(key: str) -> str:
    """`faq/is_it_free` -> `faq`."""
    group, separator, answer = key.partition("/")
    if not separator or not group or not answer:
        raise ValueError(f"not a retrieval key (group/name): {key!r}")
    return group


def utter_action(key: str) -> str:
    """The response that answers a key: `faq/is_it_free` -> `utter_faq/is_it_free`."""
    return f"utter_{key}"


def per_group(keys: Sequence[str], probabilities: Sequence[float]) -> dict[str, list[tuple[str, float]]]:
    """Each group's keys, best first, with the probabilities renormalised within the group.

    The classifier compares every answer with every other; once the intent classifiers
    have chosen the group, only that group's answers compete, so their share of the
    probability is what the answer's confidence is. A group whose keys all have
    probability 0 shares it evenly.
    """
    if len(keys) != len(probabilities):
        raise ValueError("one probability per key")
    grouped: dict[str, list[tuple[str, float]]] = {}
    for key, probability in zip(keys, probabilities, strict=True):
        grouped.setdefault(group_of(key), []).append((key, max(0.0, float(probability))))
    result = {}
    for group, entries in grouped.items():
        total = sum(p for _, p in entries)
        normalised = [(k, p / total if total > 0 else 1.0 / len(entries)) for k, p in entries]
        result[group] = sorted(normalised, key=lambda item: (-item[1], item[0]))
    return result


def prediction(ranking: Sequence[tuple[str, float]], responses: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """One group's entry under `response_selector`, as Rasa's ResponseSelector writes it.

    `responses` maps `utter_<key>` to the answer's variations (from the training data);
    Rasa's `utter_faq` action reads `response.utter_action` and answers with the domain's
    response of that name.
    """
    if not ranking:
        raise ValueError("a group has at least one answer")
    best, confidence = ranking[0]
    return {
        "response": {
            "responses": list(responses.get(utter_action(best), [])),
            "confidence": confidence,
            "intent_response_key": best,
            "utter_action": utter_action(best),
        },
        "ranking": [{"id": index, "confidence": p, "intent_response_key": key}
                    for index, (key, p) in enumerate(ranking)],
    }
