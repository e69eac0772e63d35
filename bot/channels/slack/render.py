"""A stored message as a Slack message: Block Kit blocks plus the `text` fallback that
notifications and screen readers use (plain functions).

* The bot: its text in section blocks, its buttons in actions blocks (the button's value
  is the payload; a click is the company typing it), an image block for an image.
* An advisor: a small line with the advisor's name, then the text.
* A notice of the gateway (queued, advisor joined, handed back, closed, bot unavailable,
  outside opening hours ...): a context block in Swedish, with the queue position and
  expected wait, or the advisor's name, from the notice's facts.

Every text is escaped (`markup.escape`), so no reply can mention @channel or a person.
Slack's limits are kept: 3,000 characters per section, 75 per button text, 2,000 per
button value, 5 buttons per actions block (so they wrap well on a phone), 50 blocks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.slack import texts
from bot.channels.slack.markup import escape
from bot.conversation.outbox import Outgoing

SECTION_MAX = 3000
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
BUTTONS_PER_BLOCK = 5
MAX_BLOCKS = 50
FALLBACK_MAX = 3000

REPLY_ACTION = "fs_reply"  # a payload button: action ids fs_reply_0, fs_reply_1 ...
TICKET_ACTION = "fs_ticket"  # opens the question form (outside opening hours)

NOTICE_ICONS = {
    "queued": ":hourglass_flowing_sand:",
    "advisor_joined": ":wave:",
    "handed_back": ":robot_face:",
    "left_queue": ":robot_face:",
    "closed": ":white_check_mark:",
    "ticket_thanks": ":white_check_mark:",
    "bot_unavailable": ":warning:",
    "advisor_lost": ":hourglass_flowing_sand:",
    "released": ":hourglass_flowing_sand:",
    "offline": ":clock5:",
}


@dataclass(frozen=True)
class Rendered:
    text: str  # mrkdwn, escaped: the notification text and the fallback without blocks
    blocks: list[dict[str, Any]]


def render(message: Outgoing) -> Rendered:
    if message.role == "advisor":
        return _advisor(message)
    if message.role == "system":
        return _notice(message)
    return _bot(message)


def _bot(message: Outgoing) -> Rendered:
    text = message.text or ""
    blocks = sections(text)
    if message.image and message.image.startswith(("https://", "http://")):
        blocks.append({"type": "image", "image_url": message.image[:3000], "alt_text": texts.IMAGE})
    blocks.extend(actions(message.buttons))
    titles = " · ".join(b.get("title", "") for b in message.buttons if b.get("title"))
    fallback = text or titles or (texts.IMAGE if message.image else "")
    return Rendered(_fallback(fallback), blocks[:MAX_BLOCKS])


def _advisor(message: Outgoing) -> Rendered:
    name = message.author or texts.ADVISOR.capitalize()
    header = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"*{escape(texts.advisor_line(name))}*"}]}
    text = message.text or ""
    return Rendered(_fallback(f"{name}: {text}"), [header, *sections(text)][:MAX_BLOCKS])


def notice_text(message: Outgoing) -> str:
    """A notice's Swedish text for Slack (plain, not yet escaped)."""
    notice: Mapping[str, Any] = message.notice or {}
    kind = notice.get("notice")
    text = message.text or ""
    if kind == "queued":
        position = notice.get("position")
        if isinstance(position, int):
            wait = notice.get("expected_wait_text")
            return f"{text}\n{texts.queue_place(position, wait if isinstance(wait, str) else None)}".strip()
    if kind == "advisor_joined" and isinstance(notice.get("advisor"), str):
        return texts.advisor_joined(notice["advisor"])
    return text


def _notice(message: Outgoing) -> Rendered:
    notice: Mapping[str, Any] = message.notice or {}
    kind = notice.get("notice")
    icon = NOTICE_ICONS.get(str(kind), ":information_source:")
    text = notice_text(message)
    name = notice.get("advisor")
    if kind == "advisor_joined" and isinstance(name, str) and name and text.startswith(name):
        shown = f"*{escape(name)}*{escape(text[len(name):])}"
    else:
        shown = escape(text)
    first, *more = _chunks(f"{icon} {shown}", SECTION_MAX, escaped=True)
    blocks: list[dict[str, Any]] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": first}]},
        *(_section(part) for part in more),
    ]
    blocks.extend(actions(message.buttons))
    if kind == "offline":
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": TICKET_ACTION,
                        "text": {"type": "plain_text", "text": texts.TICKET_BUTTON},
                        "value": "ticket",
                        "style": "primary",
                    }
                ],
            }
        )
    return Rendered(_fallback(text), blocks[:MAX_BLOCKS])


def sections(text: str) -> list[dict[str, Any]]:
    """A text in section blocks of at most 3,000 characters (after escaping)."""
    return [_section(part) for part in _chunks(escape(text), SECTION_MAX, escaped=True) if part.strip()]


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def actions(buttons: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Payload buttons, five to an actions block."""
    elements = []
    for n, button in enumerate(buttons):
        title, payload = button.get("title") or "", button.get("payload") or ""
        if not title.strip() or not payload or len(payload) > BUTTON_VALUE_MAX:
            continue  # nothing to show, or a payload Slack cannot carry
        elements.append(
            {
                "type": "button",
                "action_id": f"{REPLY_ACTION}_{n}",
                "text": {"type": "plain_text", "text": _shorten(title, BUTTON_TEXT_MAX), "emoji": False},
                "value": payload,
            }
        )
    return [
        {"type": "actions", "elements": elements[i : i + BUTTONS_PER_BLOCK]}
        for i in range(0, len(elements), BUTTONS_PER_BLOCK)
    ]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fallback(text: str) -> str:
    return _shorten_escaped(escape(text), FALLBACK_MAX)


def _shorten_escaped(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]  # never cut an entity (&amp;) in half
    return cut + "…"


def _chunks(text: str, limit: int, *, escaped: bool) -> Iterator[str]:
    """Pieces of at most `limit` characters, split at line breaks where possible and
    never inside an entity of escaped text."""
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
            if escaped:
                amp = rest.rfind("&", max(0, cut - 5), cut)
                if amp != -1 and ";" not in rest[amp:cut]:
                    cut = amp
        yield rest[:cut]
        rest = rest[cut:].lstrip("\n ")
    if rest:
        yield rest
