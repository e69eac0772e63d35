"""Company conversations for the review list: in the gateway's tables, and in a tracker
store written as Rasa 3.6 writes it (its `events` table)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import create_engine

from bot.admin.review import tracker
from bot.conversation.models import Conversation, ConversationEvent, Message
from core.db import make_engine, make_sessionmaker, transaction

UTC = dt.timezone.utc
DAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday 7 December, 10:00 in Stockholm

# (conversation, channel, [(company message, (intent, confidence, ranking), actions, bot reply)])
CONVERSATIONS: list[tuple[str, str, list[tuple[str, tuple[str, float, list[tuple[str, float]]], list[str], str]]]] = [
    ("conv-loan", "widget", [
        ("vi behöver låna pengar till en ny maskin",
         ("financing", 0.93, [("financing", 0.93), ("export_finance", 0.04)]), ["action_referral"],
         "Almi Företagspartner Mälardalen lånar ut pengar till små företag."),
        ("hur når jag dem", ("ask_contact", 0.88, [("ask_contact", 0.88)]), ["action_contact_details"],
         "Almi nås via https://www.almi.se."),
    ]),
    ("conv-unsure", "rest", [
        ("vi har problem med kassaflödet efter en stor kundförlust", ("nlu_fallback", 0.4,
         [("economy_advice", 0.31), ("crisis_general", 0.28), ("financing", 0.2)]), ["action_fallback"],
         "Jag är inte säker på att jag förstod. Kan du beskriva din fråga med andra ord?"),
        ("jag vill prata med en människa", ("request_human", 0.97, [("request_human", 0.97)]), ["action_handoff"],
         "Jag kopplar dig till en rådgivare."),
    ]),
    ("conv-low", "widget", [
        ("momsen för sålda tjänster till norge", ("customs", 0.45, [("customs", 0.45), ("tax_general", 0.41)]),
         ["action_referral"], "Tullverket svarar på frågor om tull vid export."),
    ]),
]


def write_tracker(path: Path) -> str:
    """A tracker store as Rasa 3.6 writes it, holding the conversations' user and action events."""
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    tracker.metadata.create_all(engine)
    with engine.begin() as connection:
        for conversation_id, _channel, turns in CONVERSATIONS:
            connection.execute(tracker.events.insert(), [{
                "sender_id": conversation_id, "type_name": "action", "action_name": "action_session_start",
                "data": json.dumps({"event": "action", "name": "action_session_start"})}])
            for text, (intent, confidence, ranking), actions, _reply in turns:
                parse = {"intent": {"name": intent, "confidence": confidence},
                         "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking], "entities": []}
                rows = [{"sender_id": conversation_id, "type_name": "user", "intent_name": intent,
                         "data": json.dumps({"event": "user", "text": text, "parse_data": parse})}]
                rows += [{"sender_id": conversation_id, "type_name": "action", "action_name": a,
                          "data": json.dumps({"event": "action", "name": a})} for a in [*actions, "action_listen"]]
                for row in rows:
                    connection.execute(tracker.events.insert(), row)
    engine.dispose()
    return url


def write_conversations(db_url: str) -> dict[str, int]:
    """The same conversations in the gateway's tables; returns message id by text."""
    ids: dict[str, int] = {}
    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as session:
        for n, (conversation_id, channel, turns) in enumerate(CONVERSATIONS):
            start = DAY + dt.timedelta(days=-n)  # one conversation a day, the first on the newest day
            session.add(Conversation(id=conversation_id, channel=channel, state="bot", created_at=start,
                                     updated_at=start))
            seq = 0
            for index, (text, _nlu, actions, reply) in enumerate(turns):
                at = start + dt.timedelta(minutes=index)
                seq += 1
                message = Message(conversation_id=conversation_id, seq=seq, role="user", text=text,
                                  rasa_status="done", created_at=at, buttons=[])
                session.add(message)
                session.flush()
                ids[text] = message.id
                seq += 1
                session.add(Message(conversation_id=conversation_id, seq=seq, role="bot", text=reply,
                                    reply_to=seq - 1, created_at=at, buttons=[]))
                if "action_handoff" in actions:
                    session.add(ConversationEvent(conversation_id=conversation_id, kind="handoff", channel=channel,
                                                  at=at + dt.timedelta(seconds=1), data={"reason": "request_human"}))
    engine.dispose()
    return ids
