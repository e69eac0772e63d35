"""Hand-off to a human advisor, and the two-stage fallback that leads to it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import runtime
from actions.handoff_summary import summarise
from actions.understanding import CONVERSATION_INTENTS, intent_ranking
from directory import compose, queries
from directory.models import Organisation, Topic

# Below this confidence the fallback asks the company to rephrase; above it, it also
# offers its best guess as a hedged referral.
GUESS_FLOOR = 0.2

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
    """Two-stage fallback: first ask again (with the best guess), then hand off."""

    def name(self) -> str:
        return "action_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        failures = int(tracker.get_slot("fallback_count") or 0) + 1
        if failures >= 2:
            return hand_off(dispatcher, tracker, "fallback")

        guesses = [
            i for i in intent_ranking(tracker.latest_message)
            if i.name not in CONVERSATION_INTENTS
        ][:3]
        with runtime.sessions()() as session:
            topics = queries.topics(session, [g.name for g in guesses])
            first_targets = [topics[g.name].targets[0].organisation_id
                             for g in guesses if g.name in topics and topics[g.name].targets]
            organisations = queries.organisations(session, first_targets)
        options = [g for g in guesses if g.name in topics]
        buttons = [{"title": topics[g.name].name, "payload": f"/{g.name}"} for g in options]
        buttons.append({"title": "Prata med en rådgivare", "payload": "/request_human"})

        best = options[0] if options and options[0].confidence >= GUESS_FLOOR else None
        if best is not None and topics[best.name].targets:
            target = topics[best.name].targets[0]
            org = organisations.get(target.organisation_id)
            if org is not None:
                dispatcher.utter_message(
                    text=(
                        f"Jag är inte helt säker på att jag förstod, men om din fråga gäller "
                        f"{topics[best.name].name.lower()} kan {org.name} hjälpa dig. "
                        f"{target.pitch or org.summary} {compose.contact_line(org)}"
                    ).strip(),
                    buttons=buttons,
                )
                return [SlotSet("fallback_count", float(failures)),
                        SlotSet("last_topic", best.name),
                        SlotSet("last_targets", [org.id])]
        dispatcher.utter_message(response="utter_ask_rephrase", buttons=buttons)
        return [SlotSet("fallback_count", float(failures))]
