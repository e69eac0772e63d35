"""Hand-off to a human advisor, and the two-stage fallback that leads to it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import runtime
from actions.handoff_summary import summarise
from actions.understanding import CONVERSATION_INTENTS, situation, understand
from directory import compose, queries
from directory.models import Organisation, Topic
from directory.ranking import INTENTS_CONSIDERED, clear_guess, rank_targets

HANDOFF_TEXT = {
    "request_human": "Jag kopplar dig till en rådgivare. Du får besked här i chatten om när någon kan ta över.",
    "complaint": (
        "Det är tråkigt att höra. Jag lämnar över till en rådgivare som tar hand om "
        "dina synpunkter. Du får besked här i chatten om när någon kan ta över."
    ),
    "fallback": (
        "Jag förstår tyvärr inte riktigt din fråga, så jag kopplar dig till en rådgivare. "
        "Du får besked här i chatten om när någon kan ta över."
    ),
}


def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list[EventType]:
    """Send the hand-off signal first (the gateway acts on it), then tell the company."""
    with runtime.sessions()() as session:
        topic_names = dict(session.execute(select(Topic.id, Topic.name)).tuples().all())
        org_names = dict(session.execute(select(Organisation.id, Organisation.name)).tuples().all())
    summary = summarise(
        tracker.events, topic_names, tracker.get_slot("given_targets") or [], org_names, reason
    )
    dispatcher.utter_message(json_message={"handoff": {"reason": reason, "summary": summary}})
    dispatcher.utter_message(text=HANDOFF_TEXT[reason])
    # The bot stays silent until the gateway resumes the conversation.
    return [SlotSet("fallback_count", 0.0), ConversationPaused()]


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        return hand_off(dispatcher, tracker, "complaint" if intent == "complaint" else "request_human")


class ActionFallback(Action):
    """Two-stage fallback: first a hedged guess or a clarifying question, then hand off.

    The first time, the best guess is named (hedged) only when the evidence points to one
    organisation (`directory.ranking.clear_guess`: the likely topics agree, or the message
    names an organisation or a scheme); when the likely topics point to different
    organisations it asks which topic is meant, with the topics as buttons.
    """

    def name(self) -> str:
        return "action_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        failures = int(tracker.get_slot("fallback_count") or 0) + 1
        if failures >= 2:
            return hand_off(dispatcher, tracker, "fallback")

        with runtime.sessions()() as session:
            understanding = understand(
                tracker.latest_message, queries.recognisable_names(session), queries.schemes(session)
            )
            guesses = [i for i in understanding.intents if i.name not in CONVERSATION_INTENTS][:INTENTS_CONSIDERED]
            topics = queries.topics(session, [g.name for g in guesses])
            who = situation(understanding, tracker.get_slot("audience"), tracker.get_slot("employees"),
                            tracker.get_slot("municipality"))
            options = [g for g in guesses if g.name in topics]
            ranked = rank_targets(options, topics, who, understanding.organisations, understanding.schemes)
            guess = clear_guess(options, topics, ranked)
            organisations = queries.organisations(
                session, [*(r.organisation_id for r in ranked[:2]),
                          *(o for s in understanding.schemes for o in (s.organisation_id, *s.now_targets))])
        buttons = [{"title": topics[g.name].name, "payload": f"/{g.name}"} for g in options]
        buttons.append({"title": "Prata med en rådgivare", "payload": "/request_human"})
        counted = SlotSet("fallback_count", float(failures))

        today = dt.date.today()
        ended = [s for s in understanding.schemes if s.has_ended(today) and s.organisation_id in organisations]
        if ended:  # a named scheme that has ended: say so, whatever the intent
            runner = organisations[ended[0].organisation_id]
            dispatcher.utter_message(text=compose.ended_scheme(ended[0], runner), buttons=buttons)
            return [counted, SlotSet("last_targets", [runner.id, *ended[0].now_targets])]
        org = organisations.get(guess.organisation_id) if guess else None
        if guess is not None and org is not None:
            topic = topics.get(guess.topic_id or "")
            text = compose.hedged_referral(topic.name if topic else "", org, guess.pitch) if topic \
                else compose.hedged_named(org)
            dispatcher.utter_message(text=text, buttons=buttons)
            return [counted, SlotSet("last_topic", topic.id if topic else tracker.get_slot("last_topic")),
                    SlotSet("last_targets", [org.id])]
        if len(options) > 1:  # the likely topics point to different organisations
            dispatcher.utter_message(response="utter_ask_clarify", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_rephrase", buttons=buttons)
        return [counted]
