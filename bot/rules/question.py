"""What the company asked: the message that names its situation (plain functions).

A queue item, the offline ticket form and the advisor's suggested referral all need the
company's *question*, not its last message: the last one is often a click ("Prata med en
rådgivare"), a follow-up ("hur kontaktar jag er?") or a greeting. The NLU's top intent
tells them apart: a question is a message whose intent is a topic of the directory.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

# Below this confidence the NLU's guess is not trusted to name the situation (the bot's
# own fallback threshold, config.yml).
CONFIDENCE_FLOOR = 0.4


def top_intent(parse_data: Mapping[str, Any]) -> tuple[str | None, float]:
    intent = parse_data.get("intent") or {}
    name = intent.get("name") if isinstance(intent, Mapping) else None
    confidence = intent.get("confidence") if isinstance(intent, Mapping) else None
    return (str(name) if name else None), float(confidence or 0.0)


def names_a_situation(parse_data: Mapping[str, Any], topic_ids: Collection[str]) -> bool:
    """True when the NLU took the text for a situation the directory has a topic for."""
    name, confidence = top_intent(parse_data)
    return name is not None and name in topic_ids and confidence >= CONFIDENCE_FLOOR
