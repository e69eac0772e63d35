"""A fake Slack, both sides, speaking the real protocols (never the network). The Slack
channel's tests (tests/channels/slack/) and its benchmark (bench/slack.py) use it.

* `FakeSlack.app()` is the Web API at `/api/<method>`: auth.test, chat.postMessage,
  chat.postEphemeral, users.info, conversations.history, conversations.replies and
  views.open. It checks what it receives like Slack does (the bearer token, a channel,
  text, the Block Kit limits, the metadata shape) and records every problem in
  `problems`; tests assert there are none. It can be made to fail like Slack: an outage
  (HTTP 503), rate limiting (HTTP 429 with Retry-After), a refused channel, or a call
  cut off after the message was posted.
* `SlackSide` is Slack sending to the gateway: signed Events API requests and
  interactions (a person writing in a DM, mentioning the bot, clicking a button,
  submitting a modal), with Slack's retry header when asked.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

TOKEN = "xoxb-test-token-0001"
SIGNING_SECRET = "test-signing-secret-8f2a"
TEAM = "T0FORETAG"
BOT_USER = "UBOTFS001"
BOT_ID = "BBOTFS001"
APP_ID = "AFORETAG01"
EVA = "UEVAEK001"
PER = "UPERSSON1"
PEOPLE = {
    EVA: {"display_name": "Eva Ek", "real_name": "Eva Ek (Ek Bygg AB)"},
    PER: {"display_name": "", "real_name": "Per Persson"},
}

SECTION_MAX = 3000
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000


@dataclass
class SlackMessage:
    channel: str
    ts: str
    text: str
    user: str | None = None  # a person
    bot_id: str | None = None  # our bot
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None

    def json(self, with_metadata: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if self.user:
            out["user"] = self.user
        if self.bot_id:
            out["bot_id"] = self.bot_id
            out["user"] = BOT_USER
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.blocks:
            out["blocks"] = self.blocks
        if with_metadata and self.metadata:
            out["metadata"] = self.metadata
        return out

    @property
    def root(self) -> str:
        return self.thread_ts or self.ts

    def buttons(self) -> list[dict[str, Any]]:
        return [e for b in self.blocks if b.get("type") == "actions" for e in b.get("elements", [])]

    def shown_text(self) -> str:
        """What a person reads: the blocks' texts (else the fallback text)."""
        parts = []
        for block in self.blocks:
            if block.get("type") == "section":
                parts.append(block["text"]["text"])
            elif block.get("type") == "context":
                parts.extend(e.get("text", "") for e in block.get("elements", []))
        return "\n".join(parts) if parts else self.text


class FakeSlack:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.messages: list[SlackMessage] = []
        self.ephemeral: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self.problems: list[str] = []
        self.post_attempts = 0
        # Failure modes
        self.outage = False  # every method answers HTTP 503 (an HTML page, like a proxy)
        self.rate_limit_posts = 0  # the next N chat.postMessage calls get 429
        self.retry_after = 1
        self.cut_posts = 0  # the next N posts are taken, then the connection is cut
        self.drop_posts = 0  # the next N posts: the connection is cut before Slack takes them
        self.refuse_blocks = False  # invalid_blocks for any message with blocks
        self.gone_channels: set[str] = set()  # channel_not_found
        self.delay = 0.0
        self._clock = itertools.count(1)
        self._base = int(time.time())
        self._posted = asyncio.Condition()

    # ------------------------------------------------------------------ helpers for tests

    def next_ts(self) -> str:
        n = next(self._clock)
        return f"{self._base + n}.{n:06d}"

    def person_writes(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> SlackMessage:
        message = SlackMessage(channel=channel, ts=self.next_ts(), text=text, user=user, thread_ts=thread_ts)
        self.messages.append(message)
        return message

    def bot_posts(self, channel: str | None = None, thread_ts: str | None = None) -> list[SlackMessage]:
        return [
            m for m in self.messages
            if m.bot_id and (channel is None or m.channel == channel)
            and (thread_ts is None or m.thread_ts == thread_ts)
        ]

    def bot_texts(self, channel: str | None = None, thread_ts: str | None = None) -> list[str]:
        return [m.shown_text() for m in self.bot_posts(channel, thread_ts)]

    async def wait_posts(self, channel: str, count: int, timeout: float = 30.0) -> SlackMessage:
        """Wait until the bot has posted `count` messages in `channel`; the last of them."""

        async def arrived() -> SlackMessage:
            async with self._posted:
                while len(self.bot_posts(channel)) < count:
                    await self._posted.wait()
                return self.bot_posts(channel)[count - 1]

        return await asyncio.wait_for(arrived(), timeout)

    def transcript_html(self, title: str) -> str:
        """The fake's conversation log as a page, roughly as Slack shows it (saved as a
        test artifact): sections as text, context blocks small and grey, buttons."""
        rows = []
        for m in self.messages:
            if m.bot_id:
                who = "Företagssupporten"
                parts = []
                for block in m.blocks or [{"type": "section", "text": {"text": m.text}}]:
                    if block["type"] == "section":
                        parts.append(f"<div class='text'>{mrkdwn_html(block['text']['text'])}</div>")
                    elif block["type"] == "context":
                        texts = " ".join(mrkdwn_html(e.get("text", "")) for e in block["elements"])
                        parts.append(f"<div class='context'>{texts}</div>")
                    elif block["type"] == "actions":
                        labels = [html.escape(e["text"]["text"]) for e in block["elements"]]
                        buttons = "".join(f"<button>{label}</button>" for label in labels)
                        parts.append(f"<div>{buttons}</div>")
                body = "".join(parts)
            else:
                who = PEOPLE.get(m.user or "", {}).get("display_name") or str(m.user)
                shown = m.text.replace(f"<@{BOT_USER}>", "@Företagssupporten")
                body = f"<div class='text'>{mrkdwn_html(shown)}</div>"
            where = "tråd " + m.thread_ts if m.thread_ts else ""
            rows.append(
                f"<div class='msg {'bot' if m.bot_id else 'person'}'><div class='who'>{html.escape(who)}"
                f" <span>{html.escape(where)}</span></div>{body}</div>"
            )
        style = (
            "body{font-family:sans-serif;max-width:760px;margin:2em auto;background:#f8f8f8;color:#1d1c1d}"
            ".msg{background:#fff;border-radius:6px;padding:.6em 1em;margin:.5em 0;box-shadow:0 1px 2px #ccc}"
            ".bot{border-left:4px solid #4a154b}.person{border-left:4px solid #2eb67d}"
            ".who{font-weight:bold}.who span{font-weight:normal;color:#555;font-size:.8em}"
            ".text{white-space:pre-wrap;margin-top:.3em}.context{color:#555;font-size:.85em;margin-top:.3em;"
            "white-space:pre-wrap}button{margin:.4em .4em 0 0;padding:.3em .8em;border:1px solid #bbb;"
            "border-radius:4px;background:#fff;font-weight:bold}"
        )
        return (
            f"<!doctype html><html lang='sv'><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style><h1>{html.escape(title)}</h1>{''.join(rows)}</html>"
        )

    # ------------------------------------------------------------------ the Web API

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self.dispatch)
        return app

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.calls.append(method)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.outage:
            return web.Response(status=503, text="<html>503 Service Unavailable</html>", content_type="text/html")
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.problems.append(f"{method}: wrong or missing bearer token")
            return web.json_response({"ok": False, "error": "invalid_auth"})
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(dict(await request.post()))
        handler = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.post_message,
            "chat.postEphemeral": self.post_ephemeral,
            "users.info": self.users_info,
            "conversations.history": self.history,
            "conversations.replies": self.replies,
            "views.open": self.views_open,
        }.get(method)
        if handler is None:
            self.problems.append(f"unknown method {method}")
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        return await handler(request, args)

    def _error(self, error: str, status: int = 200) -> web.Response:
        return web.json_response({"ok": False, "error": error}, status=status)

    async def auth_test(self, request: web.Request, args: dict[str, Any]) -> web.Response:
        return web.json_response(
            {"ok": True, "url": "https://foretag.slack.com/", "team": "Företagssupporten", "user": "foretagsstod",
             "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID}
        )

    async def post_message(self, request: web.Request, args: dict[str, Any]) -> web.StreamResponse:
        self.post_attempts += 1
        if request.content_type != "application/json":
            self.problems.append("chat.postMessage: not sent as JSON")
        if self.rate_limit_posts > 0:
            self.rate_limit_posts -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(self.retry_after)}
            )
        if self.drop_posts > 0:
            self.drop_posts -= 1
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        channel = args.get("channel")
        if not isinstance(channel, str) or not channel:
            self.problems.append("chat.postMessage: no channel")
            return self._error("channel_not_found")
        if channel in self.gone_channels:
            return self._error("channel_not_found")
        text, blocks = args.get("text"), args.get("blocks") or []
        if not (isinstance(text, str) and text.strip()):
            self.problems.append("chat.postMessage: no text fallback")
            if not blocks:
                return self._error("no_text")
        if self.refuse_blocks and blocks:
            return self._error("invalid_blocks")
        block_problems = check_blocks(blocks)
        if block_problems:
            self.problems.extend(block_problems)
            return self._error("invalid_blocks")
        metadata = args.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict) and isinstance(metadata.get("event_type"), str)
            and isinstance(metadata.get("event_payload"), dict)
        ):
            self.problems.append(f"chat.postMessage: bad metadata {metadata!r}")
            return self._error("invalid_metadata_format")
        for flag in ("link_names", "parse"):
            if args.get(flag) in (True, "true", "1", "full"):
                self.problems.append(f"chat.postMessage: {flag} would turn text into mentions")
        thread_ts = args.get("thread_ts")
        message = SlackMessage(
            channel=channel, ts=self.next_ts(), text=text or "", bot_id=BOT_ID,
            thread_ts=thread_ts if isinstance(thread_ts, str) else None, blocks=list(blocks), metadata=metadata,
        )
        self.messages.append(message)
        async with self._posted:
            self._posted.notify_all()
        if self.cut_posts > 0:
            self.cut_posts -= 1
            assert request.transport is not None
            request.transport.close()  # taken, but the answer never arrives
            return web.Response()
        return web.json_response({"ok": True, "channel": channel, "ts": message.ts, "message": message.json(True)})

    async def post_ephemeral(self, request: web.Request, args: dict[str, Any]) -> web.Response:
        if not args.get("channel") or not args.get("user") or not args.get("text"):
            self.problems.append(f"chat.postEphemeral: missing channel/user/text: {args}")
            return self._error("invalid_arguments")
        self.ephemeral.append(args)
        return web.json_response({"ok": True, "message_ts": self.next_ts()})

    async def users_info(self, request: web.Request, args: dict[str, Any]) -> web.Response:
        if request.method != "GET":
            self.problems.append("users.info: not a GET")
        user = args.get("user")
        profile = PEOPLE.get(str(user))
        if profile is None:
            return self._error("user_not_found")
        return web.json_response(
            {"ok": True, "user": {"id": user, "team_id": TEAM, "name": str(user).lower(),
                                  "real_name": profile["real_name"], "profile": dict(profile)}}
        )

    def _page(self, items: list[SlackMessage], args: dict[str, Any]) -> web.Response:
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = min(int(args.get("limit") or 100), 1000)
        start = int(args.get("cursor") or 0)
        page = items[start : start + limit]
        more = start + limit < len(items)
        return web.json_response(
            {"ok": True, "messages": [m.json(with_metadata) for m in page], "has_more": more,
             "response_metadata": {"next_cursor": str(start + limit) if more else ""}}
        )

    async def history(self, request: web.Request, args: dict[str, Any]) -> web.Response:
        channel = args.get("channel")
        top = [m for m in self.messages if m.channel == channel and (m.thread_ts is None or m.thread_ts == m.ts)]
        return self._page(list(reversed(top)), args)  # newest first, like Slack

    async def replies(self, request: web.Request, args: dict[str, Any]) -> web.Response:
        channel, ts = args.get("channel"), args.get("ts")
        thread = [m for m in self.messages if m.channel == channel and (m.ts == ts or m.thread_ts == ts)]
        if not thread:
            return self._error("thread_not_found")
        return self._page(thread, args)  # oldest first, the parent first

    async def views_open(self, request: web.Request, args: dict[str, Any]) -> web.Response:
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not args.get("trigger_id") or not isinstance(view, dict) or view.get("type") != "modal":
            self.problems.append(f"views.open: bad arguments {args}")
            return self._error("invalid_arguments")
        title = view.get("title", {}).get("text", "")
        if len(title) > 24:
            self.problems.append(f"views.open: title longer than 24 characters: {title!r}")
        self.views.append(view)
        return web.json_response({"ok": True, "view": {"id": f"V{len(self.views):08d}", **view}})


def mrkdwn_html(text: str) -> str:
    """A little of Slack's mrkdwn as HTML: entities and *bold*. Emoji shortcodes are left
    out (the test browser has no emoji font)."""
    plain = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    plain = re.sub(r":[a-z0-9_+-]+: ?", "", plain)
    return re.sub(r"\*([^*\n]+)\*", r"<b>\1</b>", html.escape(plain))


def check_blocks(blocks: Any) -> list[str]:
    """Slack's Block Kit limits for the blocks the gateway sends."""
    problems: list[str] = []
    if not isinstance(blocks, list) or len(blocks) > 50:
        return ["blocks: not a list of at most 50"]
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            text = block.get("text", {})
            if text.get("type") not in ("mrkdwn", "plain_text") or not 0 < len(text.get("text", "")) <= SECTION_MAX:
                problems.append(f"section text: {text!r:.80}")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 0 < len(elements) <= 10 or any(len(e.get("text", "")) > SECTION_MAX for e in elements):
                problems.append("context: 1..10 elements of at most 3000 characters")
        elif kind == "actions":
            elements = block.get("elements", [])
            ids = [e.get("action_id") for e in elements]
            if not 0 < len(elements) <= 25 or len(set(ids)) != len(ids):
                problems.append("actions: 1..25 elements with unique action ids")
            for e in elements:
                if e.get("type") != "button" or e.get("text", {}).get("type") != "plain_text":
                    problems.append(f"actions: not a plain-text button: {e!r:.80}")
                elif not 0 < len(e["text"].get("text", "")) <= BUTTON_TEXT_MAX:
                    problems.append(f"button text over {BUTTON_TEXT_MAX}: {e['text']['text']!r}")
                elif len(e.get("value", "")) > BUTTON_VALUE_MAX or len(e.get("action_id", "")) > 255:
                    problems.append("button value or action id too long")
        elif kind == "image":
            if not block.get("image_url") or not block.get("alt_text"):
                problems.append("image: image_url and alt_text")
        else:
            problems.append(f"unexpected block type {kind!r}")
    return problems


# ---------------------------------------------------------------------------- Slack → gateway


class SlackSide:
    """Slack calling the gateway's request URLs, signed with the app's signing secret."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, fake: FakeSlack,
                 secret: str = SIGNING_SECRET) -> None:
        self.http = http
        self.base = base_url.rstrip("/")
        self.fake = fake
        self.secret = secret
        self._events = itertools.count(1)

    def headers(self, body: bytes, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret or self.secret).generate_signature(timestamp=stamp, body=body)
        assert signature is not None
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}

    async def post(self, path: str, body: bytes, content_type: str, *, retry: int | None = None,
                   timestamp: int | None = None, secret: str | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, str]:
        sent = {"Content-Type": content_type, **self.headers(body, timestamp, secret), **(headers or {})}
        if retry is not None:
            sent["X-Slack-Retry-Num"] = str(retry)
            sent["X-Slack-Retry-Reason"] = "http_timeout"
        async with self.http.post(f"{self.base}{path}", data=body, headers=sent) as response:
            return response.status, await response.text()

    def envelope(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        return {
            "token": "legacy-verification-token-unused",
            "team_id": TEAM,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:12].upper()}",  # unique, like Slack's
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True, "is_enterprise_install": False}],
        }

    async def send_envelope(self, envelope: dict[str, Any], **kw: Any) -> tuple[int, str]:
        return await self.post("/webhooks/slack/events", json.dumps(envelope).encode(), "application/json", **kw)

    async def event(self, event: dict[str, Any], event_id: str | None = None, **kw: Any) -> tuple[int, str]:
        return await self.send_envelope(self.envelope(event, event_id), **kw)

    # A person writes ------------------------------------------------------------

    def dm_event(self, text: str, user: str = EVA, channel: str = "D0EVA0001") -> dict[str, Any]:
        message = self.fake.person_writes(channel, user, text)
        return {"type": "message", "channel": channel, "user": user, "text": text, "ts": message.ts,
                "event_ts": message.ts, "channel_type": "im", "team": TEAM}

    def mention_event(self, text: str, user: str = EVA, channel: str = "C0SUPPORT",
                      thread_ts: str | None = None) -> dict[str, Any]:
        full = f"<@{BOT_USER}> {text}"
        message = self.fake.person_writes(channel, user, full, thread_ts)
        event = {"type": "app_mention", "channel": channel, "user": user, "text": full, "ts": message.ts,
                 "event_ts": message.ts, "team": TEAM}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return event

    def thread_event(self, text: str, thread_ts: str, user: str = EVA, channel: str = "C0SUPPORT") -> dict[str, Any]:
        message = self.fake.person_writes(channel, user, text, thread_ts)
        return {"type": "message", "channel": channel, "user": user, "text": text, "ts": message.ts,
                "thread_ts": thread_ts, "event_ts": message.ts, "channel_type": "channel", "team": TEAM}

    async def dm(self, text: str, user: str = EVA, channel: str = "D0EVA0001", **kw: Any) -> tuple[int, str]:
        return await self.event(self.dm_event(text, user, channel), **kw)

    # A person clicks or submits ---------------------------------------------------

    async def interact(self, payload: dict[str, Any], **kw: Any) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post("/webhooks/slack/interactive", body, "application/x-www-form-urlencoded", **kw)

    def click_payload(self, message: SlackMessage, title: str, user: str = EVA) -> dict[str, Any]:
        button = next(b for b in message.buttons() if b["text"]["text"] == title)
        container: dict[str, Any] = {"type": "message", "message_ts": message.ts, "channel_id": message.channel,
                                     "is_ephemeral": False}
        raw_message = message.json(False)
        if message.thread_ts:
            container["thread_ts"] = message.thread_ts
        return {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "foretag"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "api_app_id": APP_ID,
            "token": "legacy-verification-token-unused",
            "container": container,
            "trigger_id": f"{next(self._events)}.{int(time.time())}.abcdef",
            "channel": {"id": message.channel, "name": "directmessage"},
            "message": raw_message,
            "response_url": "https://hooks.slack.invalid/actions/T0/1/x",
            "actions": [
                {"action_id": button["action_id"], "block_id": "b1", "text": button["text"],
                 "value": button.get("value", ""), "type": "button", "action_ts": self.fake.next_ts()}
            ],
        }

    async def click(self, message: SlackMessage, title: str, user: str = EVA, **kw: Any) -> tuple[int, str]:
        return await self.interact(self.click_payload(message, title, user), **kw)

    def submission(self, view: dict[str, Any], values: dict[str, str], view_id: str = "V00000001",
                   user: str = EVA) -> dict[str, Any]:
        state = {field: {"value": {"type": "plain_text_input", "value": value}} for field, value in values.items()}
        return {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "foretag"},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": APP_ID,
            "trigger_id": "1.2.submit",
            "view": {**view, "id": view_id, "state": {"values": state}},
        }
