"""The summary an advisor reads when a chat is handed over (plain functions)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from actions.understanding import CONVERSATION_INTENTS

MAX_QUESTIONS = 5


def summarise(
    events: Iterable[Mapping[str, Any]],
    topic_names: Mapping[str, str],
    given_targets: Sequence[str],
    organisation_names: Mapping[str, str],
    reason: str,
) -> dict[str, Any]:
    """What the company asked, what the bot understood and which targets it already gave."""
    asked: list[str] = []
    understood: list[str] = []
    for event in events:
        if event.get("event") != "user":
            continue
        text = str(event.get("text") or "").strip()
        if text and not text.startswith("/"):
            asked.append(text)
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent and intent not in CONVERSATION_INTENTS and intent in topic_names:
            name = topic_names[intent]
            if name not in understood:
                understood.append(name)
    asked = asked[-MAX_QUESTIONS:]
    targets = [organisation_names.get(t, t) for t in dict.fromkeys(given_targets)]
    return {
        "asked": asked,
        "understood": understood,
        "targets_given": targets,
        "text": _text(asked, understood, targets, reason),
    }


REASONS = {
    "request_human": "Företaget bad att få prata med en rådgivare.",
    "complaint": "Företaget vill lämna ett klagomål.",
    "fallback": "Assistenten förstod inte frågan två gånger i rad.",
}


def _text(asked: Sequence[str], understood: Sequence[str], targets: Sequence[str], reason: str) -> str:
    parts = [REASONS.get(reason, "Samtalet lämnades över till en rådgivare.")]
    if asked:
        parts.append("Senaste frågan: \u201d" + _short(asked[-1]) + "\u201d.")
    parts.append(
        "Assistenten uppfattade: " + ", ".join(understood) + "." if understood
        else "Assistenten kunde inte avgöra ämnet."
    )
    parts.append(
        "Redan hänvisat till: " + ", ".join(targets) + "." if targets
        else "Ingen hänvisning har getts ännu."
    )
    return " ".join(parts)


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
