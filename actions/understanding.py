"""What the NLU understood, read from Rasa's parse data (plain functions, no Rasa imports)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from directory.compose import fold
from directory.mentions import mention_patterns, mentioned
from directory.views import Audience, IntentScore, SchemeView, Situation

MUNICIPALITY_INTENTS = frozenset({"municipality_layoff", "municipality_establishment"})
# Intents that are about the conversation itself, not a situation to refer.
CONVERSATION_INTENTS = frozenset({
    "greet", "thank", "goodbye", "affirm", "deny", "request_human", "complaint",
    "out_of_scope", "ask_contact", "ask_more", "inform_situation", "chitchat", "faq",
    "nlu_fallback",
})
_SPEAKS_FOR_MUNICIPALITY = re.compile(
    r"\b(vi är|vi ar|jag (jobbar|arbetar|ringer|skriver) (på|pa|från|fran|i|för|for))"
    r" (en |ett |)(kommun|region|kommunen|regionen)\b"
    r"|\bnäringslivs(chef|strateg|utvecklare)|\bnaringslivs(chef|strateg|utvecklare)",
    re.IGNORECASE,
)
# "Hur kontaktar jag er?" asks for us (Företagssupporten); "... dem?" for the target just named.
_ABOUT_US = re.compile(r"\b(er|ni|eran|ert|dig|du)\b", re.IGNORECASE)
_ABOUT_THEM = re.compile(r"\b(de|dem|dom|deras|dems)\b", re.IGNORECASE)
_ONE_PERSON = re.compile(r"ensam|enmans|solo|egenföretag|egenforetag|själv|sjalv|inga|utan")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Understanding:
    intents: tuple[IntentScore, ...]
    organisations: tuple[str, ...]  # ids of organisations the message names
    schemes: tuple[SchemeView, ...]  # schemes the message names
    employees: int | None
    municipality: str | None
    speaks_for_municipality: bool

    @property
    def top_intent(self) -> str | None:
        return self.intents[0].name if self.intents else None


def intent_ranking(parse_data: Mapping[str, Any]) -> tuple[IntentScore, ...]:
    """The intents best first; the top intent first even when the ranking omits it."""
    ranking = [
        IntentScore(str(item["name"]), float(item.get("confidence") or 0.0))
        for item in parse_data.get("intent_ranking") or []
        if item.get("name")
    ]
    top = parse_data.get("intent") or {}
    if top.get("name") and not any(i.name == top["name"] for i in ranking):
        ranking.insert(0, IntentScore(str(top["name"]), float(top.get("confidence") or 0.0)))
    return tuple(ranking)


def employees_from(value: str) -> int | None:
    """'12 anställda' -> 12, 'ensamföretagare' / 'inga anställda' -> 0 (only the owner)."""
    number = _NUMBER.search(value)
    if number:
        return int(number.group())
    if _ONE_PERSON.search(fold(value)) or _ONE_PERSON.search(value.lower()):
        return 0
    return None


def entity_values(parse_data: Mapping[str, Any], entity: str) -> list[str]:
    return [
        str(e["value"]) for e in parse_data.get("entities") or [] if e.get("entity") == entity
    ]


def understand(
    parse_data: Mapping[str, Any],
    organisation_names: Mapping[str, Sequence[str]],
    schemes: Mapping[str, SchemeView],
) -> Understanding:
    """What the message says. Organisations and schemes are recognised here, in the text,
    from the names and aliases the directory holds now (the model knows no names)."""
    text = str(parse_data.get("text") or "")
    scheme_names = {s.id: [s.name, *s.aliases] for s in schemes.values()}
    orgs = mentioned(text, mention_patterns(organisation_names))
    named_schemes = mentioned(text, mention_patterns(scheme_names))
    sizes = [n for n in map(employees_from, entity_values(parse_data, "company_size")) if n is not None]
    municipalities = entity_values(parse_data, "municipality")
    return Understanding(
        intents=intent_ranking(parse_data),
        organisations=orgs,
        schemes=tuple(schemes[s] for s in named_schemes),
        employees=sizes[0] if sizes else None,
        municipality=municipalities[0].capitalize() if municipalities else None,
        speaks_for_municipality=bool(_SPEAKS_FOR_MUNICIPALITY.search(text)),
    )


def contact_wanted(
    understanding: Understanding, text: str, last_targets: Sequence[str], self_id: str
) -> str | None:
    """Whose contact card 'hur kontaktar jag ...?' asks for: an organisation the message
    names; else the target just named when it says "dem"/"deras"; else us when it says
    "er"/"ni"; else the target just named; else nobody (the action asks which)."""
    if understanding.organisations:
        return understanding.organisations[0]
    if last_targets and _ABOUT_THEM.search(text):
        return last_targets[0]
    if _ABOUT_US.search(text):
        return self_id
    return last_targets[0] if last_targets else None


def situation(
    understanding: Understanding,
    previous_audience: str | None,
    previous_employees: float | None,
    previous_municipality: str | None,
) -> Situation:
    """Who is asking: what this message says, else what the conversation said before."""
    audience: Audience = "any"
    if understanding.speaks_for_municipality or (
        understanding.top_intent in MUNICIPALITY_INTENTS
    ):
        audience = "municipality"
    elif previous_audience in ("company", "municipality"):
        audience = previous_audience  # type: ignore[assignment]
    employees = understanding.employees
    if employees is None and previous_employees is not None:
        employees = int(previous_employees)
    return Situation(
        audience=audience,
        employees=employees,
        municipality=understanding.municipality or previous_municipality,
    )


def referral_intents(intents: Iterable[IntentScore], topic_ids: Iterable[str]) -> list[IntentScore]:
    """Only the intents that are referral topics (conversation intents carry no topic)."""
    known = set(topic_ids)
    return [i for i in intents if i.name in known and i.name not in CONVERSATION_INTENTS]
