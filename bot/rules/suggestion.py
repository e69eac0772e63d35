"""The referral the bot would give for a company message, for an advisor to insert
(plain functions).

It reads the NLU's parse of the message and ranks the directory's organisations with
the bot's own ranking (`directory.ranking.rank_targets`) and composes the text with the
bot's own functions (`directory.compose`), in the order the bot's referral uses: an
ended scheme is answered first, then the best organisation, its pitch, how to reach it,
and one more that can help.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from directory import compose
from directory.mentions import UNNAMED_KINDS, mention_patterns, mentioned
from directory.ranking import rank_targets
from directory.views import IntentScore, OrganisationView, SchemeView, Situation, TopicView

ALSO_NAMED = 1  # like the bot: one more organisation named briefly
MUNICIPALITY_INTENTS = frozenset({"municipality_layoff", "municipality_establishment"})
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Suggestion:
    text: str
    organisation_id: str
    organisation_name: str
    topic_id: str | None


def intent_ranking(parse_data: Mapping[str, Any]) -> list[IntentScore]:
    """The intents best first; the top intent first even when the ranking omits it."""
    ranking = [
        IntentScore(str(item["name"]), float(item.get("confidence") or 0.0))
        for item in parse_data.get("intent_ranking") or []
        if isinstance(item, Mapping) and item.get("name")
    ]
    top = parse_data.get("intent") or {}
    if isinstance(top, Mapping) and top.get("name") and not any(i.name == top["name"] for i in ranking):
        ranking.insert(0, IntentScore(str(top["name"]), float(top.get("confidence") or 0.0)))
    return ranking


def entity_values(parse_data: Mapping[str, Any], entity: str) -> list[str]:
    return [
        str(e.get("value")) for e in parse_data.get("entities") or []
        if isinstance(e, Mapping) and e.get("entity") == entity and e.get("value")
    ]


def situation_of(parse_data: Mapping[str, Any]) -> Situation:
    """What the message itself says about who asks: a municipality (its intents), the
    company's size, the municipality named. (The bot also remembers these from earlier
    turns in its slots; a suggestion reads the one message.)"""
    sizes = [int(m.group()) for v in entity_values(parse_data, "company_size") if (m := _NUMBER.search(v))]
    municipalities = entity_values(parse_data, "municipality")
    ranking = intent_ranking(parse_data)
    speaks_for_municipality = bool(ranking) and ranking[0].name in MUNICIPALITY_INTENTS
    return Situation(
        audience="municipality" if speaks_for_municipality else "any",
        employees=sizes[0] if sizes else None,
        municipality=municipalities[0].capitalize() if municipalities else None,
    )


def suggest(
    parse_data: Mapping[str, Any],
    topics: Mapping[str, TopicView],
    organisations: Mapping[str, OrganisationView],
    schemes: Mapping[str, SchemeView],
    today: dt.date,
) -> Suggestion | None:
    """The bot's referral for the parsed message, or None when the directory has none."""
    # Names are recognised in the text from the directory as it is now, like the bot does
    # (the model knows no names): directory.mentions.
    text = str(parse_data.get("text") or "")
    org_names = {o.id: [o.name, *o.aliases] for o in organisations.values() if o.kind not in UNNAMED_KINDS}
    scheme_names = {s.id: [s.name, *s.aliases] for s in schemes.values()}
    named_orgs = list(mentioned(text, mention_patterns(org_names)))
    named_schemes = [schemes[i] for i in mentioned(text, mention_patterns(scheme_names))]
    intents = [i for i in intent_ranking(parse_data) if i.name in topics]
    ranked = rank_targets(intents, topics, situation_of(parse_data), dict.fromkeys(named_orgs), named_schemes)
    ended = [s for s in named_schemes if s.has_ended(today) and s.organisation_id in organisations]
    if ended:
        runner = organisations[ended[0].organisation_id]
        return Suggestion(compose.ended_scheme(ended[0], runner), runner.id, runner.name, None)
    ranked = [r for r in ranked if r.organisation_id in organisations]
    if not ranked:
        return None
    first = ranked[0]
    org = organisations[first.organisation_id]
    pitch = first.pitch
    if not pitch:
        active = [s for s in named_schemes if s.organisation_id == org.id]
        pitch = compose.active_scheme(active[0], org) if active else org.summary
    also = [organisations[r.organisation_id] for r in ranked[1 : 1 + ALSO_NAMED]]
    via = organisations.get(org.reached_through) if org.reached_through else None
    return Suggestion(compose.referral(org, pitch, also, via), org.id, org.name, first.topic_id)


def topic_ids_of(parse_data: Mapping[str, Any], known: Sequence[str]) -> list[str]:
    """The intents of the parse that are topics (what to load from the directory)."""
    return [i.name for i in intent_ranking(parse_data) if i.name in known]
