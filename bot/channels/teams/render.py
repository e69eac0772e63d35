"""A stored message as a Bot Framework message Activity for Teams.

- Text is sent with `textFormat: plain`, so what a company, an advisor or Rasa wrote is
  shown as written: no Markdown, no XML/HTML, no `<at>` mentions can be injected.
- Buttons become a hero card under the text whose buttons are `messageBack` actions:
  the chat shows the button's title as the person's message (`displayText`), and the bot
  receives the title as `text` and the payload in `value`, so a click is taken in exactly
  like typing the payload (the widget's rule). The card has no text of its own (card text
  is rendered as XML), only the buttons and, if any, the image.
- System notices say in words what the widget shows in its status bar: the queue position
  and the expected wait (with a "Lämna kön" button), and outside opening hours a form
  card (Adaptive Card) to leave a question, like the widget's ticket form.
- Advisor replies carry the advisor's name (in Teams every message is the bot's).
"""

from __future__ import annotations

from typing import Any

from bot.channels.teams import texts
from bot.channels.teams.activity import ACTION_KEY, PAYLOAD_KEY, TICKET_ACTION, Address
from bot.conversation.outbox import Outgoing

HERO_CARD = "application/vnd.microsoft.card.hero"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
LOCALE = "sv-SE"

# One field for "how do we reach you": an e-mail address or a phone number (the widget's
# rule: at least one of them), checked in Teams before the form is sent.
CONTACT_PATTERN = r"^\s*([^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}|[0-9 +()\-]{6,20})\s*$"


def render(message: Outgoing, address: Address, max_chars: int = 2000) -> dict[str, Any]:
    """The Activity that posts `message` into the conversation at `address`."""
    text, buttons = content(message)
    conversation: dict[str, Any] = {"id": address.conversation_id}
    activity: dict[str, Any] = {
        "type": "message",
        "from": _account(address.bot_id, address.bot_name),
        "conversation": conversation,
        "textFormat": "plain",
        "locale": LOCALE,
    }
    if address.user_id:
        activity["recipient"] = _account(address.user_id, address.user_name)
    if address.tenant_id:
        conversation["tenantId"] = address.tenant_id
        activity["channelData"] = {"tenant": {"id": address.tenant_id}}
    if message.reply_to_client_id:
        activity["replyToId"] = message.reply_to_client_id
    if text:
        activity["text"] = text
    attachments = []
    if buttons or message.image:
        attachments.append(hero_card(buttons, message.image))
    if notice_kind(message) == "offline":
        attachments.append(ticket_card(max_chars))
    if attachments:
        activity["attachments"] = attachments
    return activity


def notice_kind(message: Outgoing) -> str | None:
    kind = (message.notice or {}).get("notice")
    return kind if isinstance(kind, str) else None


def content(message: Outgoing) -> tuple[str, list[dict[str, str]]]:
    """The text and the buttons of a message, as a company in Teams reads them."""
    text = message.text or ""
    buttons = list(message.buttons)
    if message.role == "advisor":
        return f"{texts.advisor_heading(message.author)}\n{text}", buttons
    if message.role == "system":
        notice = message.notice or {}
        kind = notice_kind(message)
        if kind == "queued":
            place = texts.queue_place(notice.get("position"), notice.get("expected_wait_text"))
            text = f"{text}\n\n{place}" if place else text
            buttons.append(dict(texts.LEAVE_QUEUE_BUTTON))
        elif kind == "offline":
            buttons.append(dict(texts.NO_THANKS_BUTTON))
    return text, buttons


def hero_card(buttons: list[dict[str, str]], image: str | None) -> dict[str, Any]:
    card: dict[str, Any] = {}
    if image:
        card["images"] = [{"url": image}]
    if buttons:
        card["buttons"] = [message_back(b["title"], b["payload"]) for b in buttons]
    return {"contentType": HERO_CARD, "content": card}


def message_back(title: str, payload: str) -> dict[str, Any]:
    return {
        "type": "messageBack",
        "title": title,
        "text": title,
        "displayText": title,
        "value": {PAYLOAD_KEY: payload},
    }


def ticket_card(max_chars: int) -> dict[str, Any]:
    """The offline form: the question and how to reach the company (Adaptive Card 1.4,
    with Teams checking the required fields before it sends them)."""
    body = [
        {"type": "TextBlock", "text": texts.TICKET_TITLE, "weight": "Bolder", "wrap": True},
        {
            "type": "Input.Text",
            "id": "question",
            "label": texts.TICKET_QUESTION,
            "isMultiline": True,
            "isRequired": True,
            "maxLength": max_chars,
            "errorMessage": texts.TICKET_QUESTION_MISSING,
        },
        {
            "type": "Input.Text",
            "id": "contact",
            "label": texts.TICKET_CONTACT,
            "isRequired": True,
            "regex": CONTACT_PATTERN,
            "maxLength": 254,
            "errorMessage": texts.TICKET_CONTACT_INVALID,
        },
        {"type": "Input.Text", "id": "name", "label": texts.TICKET_NAME, "maxLength": 200},
        {"type": "Input.Text", "id": "company", "label": texts.TICKET_COMPANY, "maxLength": 200},
    ]
    return {
        "contentType": ADAPTIVE_CARD,
        "content": {
            "type": "AdaptiveCard",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": "1.4",
            "body": body,
            "actions": [{"type": "Action.Submit", "title": texts.TICKET_SEND, "data": {ACTION_KEY: TICKET_ACTION}}],
        },
    }


def _account(account_id: str, name: str | None) -> dict[str, str]:
    return {"id": account_id, "name": name} if name else {"id": account_id}
