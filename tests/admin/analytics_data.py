"""A small, hand-built week of conversations whose every analytics figure is known.

Week of Monday 30 November 2026 (the period 2026-11-30 … 2026-12-06):

- c1 widget, Mon 10:00: "Hur startar jag eget företag?" → start_business, Almi;
  Västerås, ensamföretagare.
- c2 widget, Mon 11:00: not understood → hand-off (fallback); Anna claims after 120 s and
  replies 60 s later; the company says "vi är i Köping".
- c3 slack, Tue 09:00: "Hur startar jag eget företag" → start_business, Almi; Västerås,
  5 anställda.
- c4 teams, Wed 10:00: "Kan ni hjälpa med min katt?" twice (out_of_scope) → hand-off
  (request_human); Bo claims after 600 s and replies 30 s later.
- c5 widget, Thu 10:00: complaint → hand-off; Anna claims after 60 s and never writes.
- c0 (Sun 29 Nov) and c9 (Mon 7 Dec): outside the period.

CSAT (`csat_ratings`, as the survey stores them): c2 Anna 5, c5 Anna 3, c4 Bo 2.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation.events import EventKind
from bot.conversation.models import (
    Advisor,
    Conversation,
    ConversationEvent,
    CsatRating,
    Message,
    MessageNlu,
    QueueEntry,
)
from bot.rules.analytics import company_facets

UTC = dt.timezone.utc
MONDAY = dt.date(2026, 11, 30)
SUNDAY = dt.date(2026, 12, 6)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A moment in the week: day 0 is Monday 30 November."""
    return dt.datetime.combine(MONDAY + dt.timedelta(days=day), dt.time(hour, minute, second), UTC)


@dataclass(frozen=True)
class Team:
    anna: int
    bo: int


def build(factory: sessionmaker[Session], *, with_ratings: bool = True, team: Team | None = None) -> Team:
    """The week in `factory`'s database; Anna and Bo are created unless `team` names existing accounts."""
    with factory.begin() as s:
        if team is None:
            anna = Advisor(email="anna@example.se", name="Anna Berg", password_hash="x", role="advisor")
            bo = Advisor(email="bo@example.se", name="Bo Ek", password_hash="x", role="admin")
            s.add_all([anna, bo])
            s.flush()
            team = Team(anna.id, bo.id)

        def conversation(cid: str, channel: str, opened: dt.datetime) -> None:
            s.add(Conversation(id=cid, channel=channel, created_at=opened, updated_at=opened))
            s.add(ConversationEvent(conversation_id=cid, kind=EventKind.OPENED.value, at=opened, channel=channel,
                                    data={}))
            s.flush()

        def said(cid: str, seq: int, when: dt.datetime, text: str, intent: str, confidence: float,
                 entities: list[dict[str, str]] | None = None, referral: str | None = None) -> None:
            s.add(Message(conversation_id=cid, seq=seq, role="user", text=text, created_at=when, rasa_status="done"))
            municipality, size = company_facets(entities or [])
            s.add(MessageNlu(conversation_id=cid, seq=seq, at=when, intent=intent, confidence=confidence,
                             entities=entities or [], referral_target=referral, municipality=municipality,
                             company_size=size))

        def handoff(cid: str, channel: str, when: dt.datetime, reason: str, advisor: int, wait: int,
                    reply_after: int | None, seq: int) -> None:
            s.add(ConversationEvent(conversation_id=cid, kind=EventKind.HANDOFF.value, at=when, channel=channel,
                                    data={"reason": reason}))
            claimed = when + dt.timedelta(seconds=wait)
            s.add(QueueEntry(conversation_id=cid, status="claimed", reason=reason, enqueued_at=when,
                             claimed_by=advisor, claimed_at=claimed))
            s.add(ConversationEvent(conversation_id=cid, kind=EventKind.CLAIMED.value, at=claimed, channel=channel,
                                    advisor_id=advisor, data={"from_state": "queued"}))
            if reply_after is not None:
                s.add(Message(conversation_id=cid, seq=seq, role="advisor", text="Hej, jag heter …",
                              advisor_id=advisor, created_at=claimed + dt.timedelta(seconds=reply_after)))

        conversation("c0", "widget", at(-1, 12))
        said("c0", 1, at(-1, 12), "Hur startar jag eget?", "start_business", 0.9, referral="almi")
        conversation("c9", "widget", at(7, 12))
        said("c9", 1, at(7, 12), "xyz", "nlu_fallback", 0.2)

        conversation("c1", "widget", at(0, 10))
        said("c1", 1, at(0, 10), "Hur startar jag eget företag?", "start_business", 0.92,
             [{"entity": "municipality", "value": "västerås"}, {"entity": "company_size", "value": "ensamföretagare"}],
             referral="almi")
        conversation("c2", "widget", at(0, 11))
        said("c2", 1, at(0, 11), "xyz blabla", "nlu_fallback", 0.3)
        said("c2", 2, at(0, 11, 0, 30), "vi är i Köping", "inform_situation", 0.8,
             [{"entity": "municipality", "value": "Köping"}])
        handoff("c2", "widget", at(0, 11, 1), "fallback", team.anna, 120, 60, 3)
        conversation("c3", "slack", at(1, 9))
        said("c3", 1, at(1, 9), "Hur startar jag eget företag", "start_business", 0.88,
             [{"entity": "municipality", "value": "Västerås"}, {"entity": "company_size", "value": "5 anställda"}],
             referral="almi")
        conversation("c4", "teams", at(2, 10))
        said("c4", 1, at(2, 10), "Kan ni hjälpa med min katt?", "out_of_scope", 0.7)
        said("c4", 2, at(2, 10, 1), "kan ni hjälpa med min  katt", "out_of_scope", 0.75)
        handoff("c4", "teams", at(2, 10, 2), "request_human", team.bo, 600, 30, 3)
        conversation("c5", "widget", at(3, 10))
        handoff("c5", "widget", at(3, 10, 1), "complaint", team.anna, 60, None, 1)
        s.execute(update(Conversation).where(Conversation.id.in_(["c2", "c5"])).values(closed_by=team.anna))

        if with_ratings:
            s.add_all([
                CsatRating(conversation_id="c2", advisor_id=team.anna, channel="widget", asked_at=at(0, 11),
                           rating=5, rated_at=at(0, 12)),
                CsatRating(conversation_id="c5", advisor_id=team.anna, channel="widget", asked_at=at(3, 11),
                           rating=3, rated_at=at(3, 12)),
                CsatRating(conversation_id="c4", advisor_id=team.bo, channel="teams", asked_at=at(2, 11),
                           rating=2, rated_at=at(2, 12)),
            ])
    return team
