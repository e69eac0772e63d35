"""What Slack sends us, as plain data (no I/O): Events API envelopes and Block Kit clicks.

Which Slack conversation is which of ours:

* a direct message (a `D…` channel) is one conversation per DM channel; the bot answers
  in the DM itself, not in threads;
* in a channel (or a group DM) a conversation is a thread: a mention of the bot starts
  one (the answer goes in the thread of the mention), and every later message in that
  thread continues it, mentioned or not (the views check the thread is ours).

The key is the channel (and the thread's root ts): Slack's channel ids are unique, and a
deployment serves the one workspace its bot token belongs to. The same message seen
twice, as `message.im` and `app_mention`, or as `message.channels` and `app_mention`,
maps to the same conversation and the same client id (its `ts`), so it is stored once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.slack.markup import mentions, to_plain

# Message subtypes written by a person that are still a message to us. Edits, deletions,
# joins, bot messages, file shares and the rest are ignored.
PERSON_SUBTYPES = frozenset({"thread_broadcast"})

_ID = re.compile(r"^[A-Z0-9]{2,40}$")
_TS = re.compile(r"^[0-9]{1,12}\.[0-9]{1,9}$")


@dataclass(frozen=True)
class Place:
    """Where a conversation lives in Slack, and where its replies go."""

    channel: str
    thread_ts: str | None  # None: a direct message, answered in the DM itself

    @property
    def external_id(self) -> str:
        return self.channel if self.thread_ts is None else f"{self.channel}:{self.thread_ts}"

    @property
    def address(self) -> dict[str, Any]:
        return {"channel": self.channel, "thread_ts": self.thread_ts}

    @property
    def is_dm(self) -> bool:
        return self.thread_ts is None


def place_of(channel: str, thread_root: str | None) -> Place:
    """A DM is the whole DM channel; anything else is the thread rooted at `thread_root`."""
    if channel.startswith("D"):
        return Place(channel, None)
    return Place(channel, thread_root)


@dataclass(frozen=True)
class IncomingMessage:
    """A person wrote to the bot (or in one of its threads)."""

    event_id: str | None
    user: str
    place: Place
    ts: str  # Slack's id of the message: our client id for it
    text: str  # plain text, without the mention of the bot (may be empty)
    addressed: bool  # a DM or a mention of the bot: it may start a conversation


@dataclass(frozen=True)
class Click:
    """A person clicked one of our Block Kit buttons."""

    user: str
    place: Place
    action_id: str
    action_ts: str
    title: str  # the button's text as the person saw it
    value: str  # the payload
    trigger_id: str | None  # lets us open a modal within the next 3 seconds


@dataclass(frozen=True)
class Ignored:
    reason: str


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _ok_id(value: object) -> str | None:
    return value if isinstance(value, str) and _ID.match(value) else None


def _ok_ts(value: object) -> str | None:
    return value if isinstance(value, str) and _TS.match(value) else None


def parse_event(envelope: Mapping[str, Any], bot_user_id: str) -> IncomingMessage | Ignored:
    """An Events API `event_callback` as a message for us, or why it is not one."""
    if envelope.get("type") != "event_callback":
        return Ignored("not an event callback")
    event = envelope.get("event")
    if not isinstance(event, Mapping):
        return Ignored("no event")
    kind = event.get("type")
    if kind not in ("message", "app_mention"):
        return Ignored(f"event type {kind!r}")
    subtype = event.get("subtype")
    if subtype is not None and subtype not in PERSON_SUBTYPES:
        return Ignored(f"message subtype {subtype!r}")
    if event.get("bot_id") or event.get("bot_profile") or event.get("hidden"):
        return Ignored("written by a bot")
    user = _ok_id(event.get("user"))
    channel = _ok_id(event.get("channel"))
    ts = _ok_ts(event.get("ts"))
    if user is None or channel is None or ts is None:
        return Ignored("malformed event")
    if bot_user_id and user == bot_user_id:
        return Ignored("our own message")
    raw = event.get("text")
    raw_text = raw if isinstance(raw, str) else ""
    thread_ts = _ok_ts(event.get("thread_ts"))
    place = place_of(channel, thread_ts or ts)
    addressed = place.is_dm or kind == "app_mention" or mentions(raw_text, bot_user_id)
    event_id = envelope.get("event_id")
    return IncomingMessage(
        event_id=event_id if isinstance(event_id, str) and event_id else None,
        user=user,
        place=place,
        ts=ts,
        text=to_plain(raw_text, bot_user_id),
        addressed=addressed,
    )


def parse_clicks(payload: Mapping[str, Any]) -> list[Click] | Ignored:
    """The button clicks of a `block_actions` interaction."""
    if payload.get("type") != "block_actions":
        return Ignored(f"interaction type {payload.get('type')!r}")
    user_part = payload.get("user")
    user = _ok_id(user_part.get("id")) if isinstance(user_part, Mapping) else None
    container = _mapping(payload.get("container"))
    message = _mapping(payload.get("message"))
    channel_part = payload.get("channel")
    channel = _ok_id(channel_part.get("id")) if isinstance(channel_part, Mapping) else None
    channel = channel or _ok_id(container.get("channel_id"))
    if user is None or channel is None:
        return Ignored("no user or channel")
    root = (
        _ok_ts(message.get("thread_ts"))
        or _ok_ts(container.get("thread_ts"))
        or _ok_ts(message.get("ts"))
        or _ok_ts(container.get("message_ts"))
    )
    if root is None and not channel.startswith("D"):
        return Ignored("no thread")
    place = place_of(channel, root)
    trigger = payload.get("trigger_id")
    clicks = []
    actions = payload.get("actions")
    for action in actions if isinstance(actions, list) else []:
        if not isinstance(action, Mapping) or action.get("type") != "button":
            continue
        text = action.get("text")
        title = text.get("text") if isinstance(text, Mapping) else None
        value, action_id, action_ts = action.get("value"), action.get("action_id"), _ok_ts(action.get("action_ts"))
        if not (isinstance(title, str) and isinstance(value, str) and isinstance(action_id, str) and action_ts):
            continue
        clicks.append(
            Click(
                user=user,
                place=place,
                action_id=action_id[:255],
                action_ts=action_ts,
                title=title,
                value=value,
                trigger_id=trigger if isinstance(trigger, str) else None,
            )
        )
    return clicks
