"""Referral actions: name the right organisation, follow up with contacts and more options."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions import runtime
from actions.understanding import (
    CONVERSATION_INTENTS,
    Understanding,
    contact_wanted,
    referral_intents,
    situation,
    understand,
)
from directory import compose, queries
from directory.ranking import rank_targets
from directory.views import (
    IntentScore,
    OrganisationView,
    RankedTarget,
    SchemeView,
    TopicView,
)

FOLLOW_UP_BUTTONS = [
    {"title": "Hur kontaktar jag dem?", "payload": "/ask_contact"},
    {"title": "Finns det något mer?", "payload": "/ask_more"},
    {"title": "Prata med en rådgivare", "payload": "/request_human"},
]
ALSO_NAMED = 1  # how many further targets the referral names briefly
MORE_KEPT = 4  # how many further targets "finns det något mer?" can offer


def _understand(session: Session, tracker: Tracker) -> Understanding:
    return understand(
        tracker.latest_message, queries.recognisable_names(session), queries.schemes(session)
    )


def _read(session: Session, tracker: Tracker) -> tuple[Understanding, dict[str, TopicView]]:
    """What the message says, and the topics of its intents and of the remembered topic."""
    understanding = _understand(session, tracker)
    topic_ids = [i.name for i in understanding.intents if i.name not in CONVERSATION_INTENTS]
    last_topic = tracker.get_slot("last_topic")
    if last_topic:
        topic_ids.append(str(last_topic))
    return understanding, queries.topics(session, topic_ids)


class ActionReferral(Action):
    """Answer a situation with a concrete referral composed from the directory."""

    def name(self) -> str:
        return "action_referral"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        with runtime.sessions()() as session:
            understanding, topics = _read(session, tracker)
            last_topic = tracker.get_slot("last_topic")
            intents = referral_intents(understanding.intents, topics)
            if last_topic in topics and (
                not intents or understanding.top_intent in CONVERSATION_INTENTS
            ):
                # A follow-up such as "vi är 12 anställda": re-rank the previous topic; the
                # referral intents in the tail of its ranking are noise.
                intents = [IntentScore(str(last_topic), 1.0)]
            elif understanding.top_intent in CONVERSATION_INTENTS:
                # Facts with nothing remembered to re-rank: the referral intents in the
                # tail of the ranking are noise, not a question.
                intents = []
            who = situation(
                understanding,
                tracker.get_slot("audience"),
                tracker.get_slot("employees"),
                tracker.get_slot("municipality"),
            )
            ranked = rank_targets(
                intents, topics, who, understanding.organisations, understanding.schemes
            )
            organisations = queries.organisations(
                session, [r.organisation_id for r in ranked] + _scheme_orgs(understanding.schemes)
            )
        remembered = [
            SlotSet("audience", None if who.audience == "any" else who.audience),
            SlotSet("employees", None if who.employees is None else float(who.employees)),
            SlotSet("municipality", who.municipality),
            SlotSet("fallback_count", 0.0),
        ]
        if not ranked and understanding.top_intent == "inform_situation":
            # Facts before any question ("vi är ett byggföretag i Sala med 5 anställda"):
            # remember them and ask what the company needs.
            dispatcher.utter_message(response="utter_ask_situation")
            return remembered
        if not ranked:
            dispatcher.utter_message(response="utter_no_referral")
            return [SlotSet("fallback_count", 0.0)]

        text, named = _referral_text(ranked, organisations, understanding.schemes)
        dispatcher.utter_message(text=text, buttons=FOLLOW_UP_BUTTONS)
        rest = [r.organisation_id for r in ranked if r.organisation_id not in named]
        given = list(dict.fromkeys([*(tracker.get_slot("given_targets") or []), *named]))
        topic = intents[0].name if intents else last_topic
        return [
            SlotSet("last_topic", topic),
            SlotSet("last_targets", named),
            SlotSet("more_targets", rest[:MORE_KEPT]),
            SlotSet("given_targets", given),
            *remembered,
        ]


def _scheme_orgs(schemes: Sequence[SchemeView]) -> list[str]:
    return [org for s in schemes for org in (s.organisation_id, *s.now_targets)]


def _referral_text(
    ranked: Sequence[RankedTarget],
    organisations: dict[str, OrganisationView],
    schemes: Sequence[SchemeView],
) -> tuple[str, list[str]]:
    """The reply and the ids it names, in order."""
    today = dt.date.today()
    ended = [s for s in schemes if s.has_ended(today) and s.organisation_id in organisations]
    if ended:
        scheme = ended[0]
        runner = organisations[scheme.organisation_id]
        named = list(dict.fromkeys([runner.id, *scheme.now_targets]))
        return compose.ended_scheme(scheme, runner), named

    first = ranked[0]
    org = organisations[first.organisation_id]
    pitch = first.pitch
    if not pitch:
        active = [s for s in schemes if s.organisation_id == org.id]
        pitch = compose.active_scheme(active[0], org) if active else org.summary
    also = [
        organisations[r.organisation_id]
        for r in ranked[1 : 1 + ALSO_NAMED]
        if r.organisation_id in organisations
    ]
    via = organisations.get(org.reached_through) if org.reached_through else None
    text = compose.referral(org, pitch, also, via)
    return text, [org.id, *(o.id for o in also)]


class ActionContactDetails(Action):
    """'Hur kontaktar jag dem?': the contact card of the organisation just named."""

    def name(self) -> str:
        return "action_contact_details"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        with runtime.sessions()() as session:
            understanding = _understand(session, tracker)
            organisations = queries.organisations(session)
        last_targets = [t for t in tracker.get_slot("last_targets") or [] if t in organisations]
        wanted = contact_wanted(understanding, str(tracker.latest_message.get("text") or ""),
                                last_targets, compose.SELF_ID)
        target = organisations.get(wanted) if wanted else None
        if target is None:
            dispatcher.utter_message(response="utter_ask_which_contact")
            return []
        via = organisations.get(target.reached_through) if target.reached_through else None
        dispatcher.utter_message(text=compose.contact_details(target, via))
        return [SlotSet("last_targets", [target.id])]


class ActionMoreOptions(Action):
    """'Finns det något mer?': the next organisations for the same situation."""

    def name(self) -> str:
        return "action_more_options"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        remaining = list(tracker.get_slot("more_targets") or [])
        shown, rest = remaining[:2], remaining[2:]
        with runtime.sessions()() as session:
            organisations = queries.organisations(session, shown)
            last_topic = tracker.get_slot("last_topic")
            topic = queries.topics(session, [last_topic]).get(last_topic) if last_topic else None
        pitches = {t.organisation_id: t.pitch for t in topic.targets} if topic else {}
        options = [(organisations[i], pitches.get(i, "")) for i in shown if i in organisations]
        buttons = FOLLOW_UP_BUTTONS if rest else FOLLOW_UP_BUTTONS[::2]
        dispatcher.utter_message(text=compose.more_options(options), buttons=buttons)
        if not options:
            return []
        given = list(dict.fromkeys([*(tracker.get_slot("given_targets") or []), *shown]))
        return [
            SlotSet("last_targets", [o.id for o, _ in options]),
            SlotSet("more_targets", rest),
            SlotSet("given_targets", given),
        ]
