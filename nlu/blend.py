"""Blend two intent rankings into one (plain functions, no Rasa imports).

`nlu.blended_classifier` uses this to average DIET's ranking with a logistic regression's
over the same sparse features: the two make different mistakes, and their average is
measurably better than either (README: "Choosing the pipeline").
"""

from __future__ import annotations

from collections.abc import Mapping

Ranking = list[dict[str, float | str]]


def blend(earlier: Mapping[str, float], own: Mapping[str, float], earlier_weight: float) -> Ranking:
    """Weighted average of two {intent: confidence} maps, best first.

    An intent missing from one map counts as confidence 0 there (DIET reports only its
    top intents). With no earlier ranking the own ranking is returned unchanged.
    """
    if not 0.0 <= earlier_weight <= 1.0:
        raise ValueError(f"earlier_weight must be within [0, 1], got {earlier_weight}")
    weight = earlier_weight if earlier else 0.0
    names = set(own) | set(earlier)
    scores = {
        name: weight * earlier.get(name, 0.0) + (1.0 - weight) * own.get(name, 0.0)
        for name in names
    }
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [{"name": name, "confidence": float(score)} for name, score in ordered]
