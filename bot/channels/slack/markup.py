"""Slack's message markup, both ways (plain functions).

Inbound, a Slack message text carries escaped characters (`&amp;`, `&lt;`, `&gt;`) and
angle-bracket markup for mentions, channels and links; the bot and the advisor should
read what the person saw, so `to_plain` turns it into plain text and drops the mention
of our own bot (the company addresses the bot, it does not ask about it).

Outbound, `escape` makes any text (the bot's, an advisor's) inert for Slack's mrkdwn:
with `&`, `<` and `>` escaped no text can form `<!channel>`, `<@U…>` or a link that
hides its address, so an advisor or a bot reply can never ping a whole channel.
"""

from __future__ import annotations

import re

# <target> or <target|label>; Slack never nests them.
_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_SPACES = re.compile(r"[ \t]{2,}")

SPECIAL_MENTIONS = {"here", "channel", "everyone"}


def escape(text: str) -> str:
    """Text shown literally in Slack (mrkdwn): only &, < and > are special."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mentions(text: str, user_id: str) -> bool:
    """Whether a Slack message text mentions this user (our bot)."""
    if not user_id:
        return False
    return any(m.group(1) == f"@{user_id}" for m in _MARKUP.finditer(text))


def to_plain(text: str, bot_user_id: str = "") -> str:
    """A Slack message text as plain text, without the mention of our bot."""

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            if bot_user_id and target == f"@{bot_user_id}":
                return ""
            return f"@{label}" if label else target
        if target.startswith("#"):
            return f"#{label}" if label else target
        if target.startswith("!"):
            keyword = target[1:].split("^", 1)[0]
            if keyword in SPECIAL_MENTIONS:
                return f"@{keyword}"
            if keyword == "subteam":
                return "@" + (label or "grupp").lstrip("@")
            return label or ""  # a date or other formatted value: its fallback text
        if target.startswith("mailto:"):
            return label or target[len("mailto:"):]
        if label and label != target:
            return f"{label} ({target})"
        return target

    plain = unescape(_MARKUP.sub(replace, text))
    lines = [_SPACES.sub(" ", line).strip() for line in plain.split("\n")]
    return "\n".join(lines).strip()
