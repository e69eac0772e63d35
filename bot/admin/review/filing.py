"""Filing a reviewed message: as a training example of the right intent, or as nothing to
learn from. Either way it leaves the to-do list (reviewed_messages), in the same
transaction as the example and its audit entry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.admin.review.models import DISMISSED, FILED, ReviewedMessage
from bot.conversation.models import Message
from content.edit import add_examples
from core.editing import Actor, Invalid, NotFound, Problem


def _message(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None or message.role != "user" or not message.text:
        raise NotFound("Meddelandet finns inte längre.")
    if session.get(ReviewedMessage, message_id) is not None:
        raise Invalid([Problem("", "Någon annan har redan granskat det här meddelandet.")])
    return message


def file_as_example(session: Session, actor: Actor, now: dt.datetime, message_id: int, intent: str) -> None:
    message = _message(session, message_id)
    if not intent:
        raise Invalid([Problem("intent", "Välj vilken avsikt meddelandet är ett exempel på.")])
    add_examples(session, actor, now, intent, [message.text or ""], source="review", field="intent")
    session.add(ReviewedMessage(message_id=message_id, outcome=FILED, intent=intent, reviewed_by=actor.id,
                                reviewed_at=now))
    session.flush()


def dismiss(session: Session, actor: Actor, now: dt.datetime, message_id: int) -> None:
    _message(session, message_id)
    session.add(ReviewedMessage(message_id=message_id, outcome=DISMISSED, intent=None, reviewed_by=actor.id,
                                reviewed_at=now))
    session.flush()
