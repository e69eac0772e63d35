"""A fake Rasa server speaking the contract the gateway relies on (never a real Rasa here).

* `POST /webhooks/rest/webhook` {"sender","message"} → canned bot messages; a paused
  conversation records the message and answers []. Like the real bot's two-stage
  fallback, the second not-understood message in a row hands off (reason `fallback`).
* `POST /conversations/{id}/tracker/events?token=...` records events; pause/resume apply.
* `POST /model/parse?token=...` {"text"} → an intent ranking from a few keywords (a loan is
  `financing`, a layoff notice `layoff_notice`, both topics of the shipped directory;
  asking for a person `request_human`, contact questions `ask_contact`, else
  `nlu_fallback`), and `organisation` entities for the names it knows.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "test-rasa-token"
HUMAN_PLEASE = "jag vill prata med en människa"
COMPLAINT = "jag vill klaga"
NOT_UNDERSTOOD = "blubb"
LOAN = "vi behöver ett lån"

HANDOFF_SUMMARY = {
    "asked": ["Vi behöver ett lån", HUMAN_PLEASE],
    "understood": ["Finansiering"],
    "targets_given": ["Almi Mälardalen"],
    "text": "Företaget bad att få prata med en rådgivare. Assistenten uppfattade: Finansiering.",
}


@dataclass
class Conversation:
    paused: bool = False
    not_understood: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


class FakeRasa:
    def __init__(self) -> None:
        self.conversations: dict[str, Conversation] = {}
        self.down = False
        self.delay = 0.0
        self.webhook_calls = 0
        self.bad_tokens = 0
        self.parsed: list[str] = []
        # Like a real Rasa whose action server is dead: takes the message, answers [].
        self.actions_down = False
        # Like a real Rasa whose lock store (Redis) is down: answers [] and records nothing.
        self.loses_turns = False
        # Turns under way per conversation now, and the most ever at once (replica tests).
        self.active: dict[str, int] = {}
        self.most_parallel = 0

    def conversation(self, sender: str) -> Conversation:
        return self.conversations.setdefault(sender, Conversation())

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.root)
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_post("/conversations/{sender}/tracker/events", self.events)
        app.router.add_get("/conversations/{sender}/tracker", self.tracker)
        app.router.add_post("/model/parse", self.parse)
        return app

    async def parse(self, request: web.Request) -> web.Response:
        if request.query.get("token") != TOKEN:
            self.bad_tokens += 1
            return web.json_response({"error": "unauthorized"}, status=401)
        if self.down:
            return web.json_response({"error": "down"}, status=500)
        text = str((await request.json()).get("text") or "")
        self.parsed.append(text)
        return web.json_response(parse_text(text))

    async def root(self, request: web.Request) -> web.Response:
        if self.down:
            return web.json_response({"error": "down"}, status=500)
        return web.Response(text="Hello from Rasa: 3.6.21")

    async def webhook(self, request: web.Request) -> web.Response:
        # Like Rasa's REST channel here (scripts/rasa_channel.py): the API token or 401.
        if TOKEN not in (request.headers.get("X-Rasa-Token"), request.query.get("token")):
            self.bad_tokens += 1
            return web.json_response({"error": "unauthorized"}, status=401)
        self.webhook_calls += 1
        if self.down:
            return web.json_response({"error": "down"}, status=500)
        body = await request.json()
        sender = body["sender"]
        self.active[sender] = self.active.get(sender, 0) + 1
        self.most_parallel = max(self.most_parallel, self.active[sender])
        try:
            return await self._turn(sender, body)
        finally:
            self.active[sender] -= 1

    async def _turn(self, sender: str, body: dict[str, Any]) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.loses_turns:
            return web.json_response([])
        text = body["message"]
        conv = self.conversation(sender)
        conv.messages.append(text)
        conv.events.append({"event": "user", "text": text, "metadata": body.get("metadata")})
        if conv.paused or self.actions_down:
            return web.json_response([])
        replies = self.reply(conv, text)
        for reply in replies:
            if "text" in reply:
                conv.events.append({"event": "bot", "text": reply["text"]})
        return web.json_response([{"recipient_id": sender, **r} for r in replies])

    def reply(self, conv: Conversation, text: str) -> list[dict[str, Any]]:
        lowered = text.lower().strip()
        conv.not_understood = conv.not_understood + 1 if lowered == NOT_UNDERSTOOD else 0
        if conv.not_understood >= 2:
            conv.paused = True
            conv.not_understood = 0
            return [
                {"custom": {"handoff": {"reason": "fallback", "summary": HANDOFF_SUMMARY}}},
                {"text": "Jag förstår tyvärr inte, så jag kopplar dig till en rådgivare."},
            ]
        if lowered in {HUMAN_PLEASE, "/request_human", COMPLAINT}:
            conv.paused = True
            reason = "complaint" if lowered == COMPLAINT else "request_human"
            return [
                {"custom": {"handoff": {"reason": reason, "summary": HANDOFF_SUMMARY}}},
                {"text": "Jag kopplar dig till en rådgivare."},
            ]
        if lowered == LOAN:
            return [
                {
                    "text": "Almi Mälardalen kan hjälpa er med lån.",
                    "buttons": [
                        {"title": "Kontaktuppgifter", "payload": "/ask_contact"},
                        {"title": "Prata med en rådgivare", "payload": "/request_human"},
                    ],
                }
            ]
        if lowered == "/ask_contact":
            return [{"text": "Almi Mälardalen: 010-123 45 00."}]
        if lowered == NOT_UNDERSTOOD:
            return [{"text": "Jag förstod inte riktigt."}]
        if lowered == "hej":
            return [{"text": "Hej! Vad kan jag hjälpa till med?"}]
        return [{"text": f"Du skrev: {text}"}]

    async def tracker(self, request: web.Request) -> web.Response:
        if request.query.get("token") != TOKEN:
            self.bad_tokens += 1
            return web.json_response({"error": "unauthorized"}, status=401)
        conv = self.conversation(request.match_info["sender"])
        return web.json_response({"sender_id": request.match_info["sender"], "events": conv.events})

    async def events(self, request: web.Request) -> web.Response:
        if request.query.get("token") != TOKEN:
            self.bad_tokens += 1
            return web.json_response({"error": "unauthorized"}, status=401)
        if self.down:
            return web.json_response({"error": "down"}, status=500)
        body = await request.json()
        events = body if isinstance(body, list) else [body]
        conv = self.conversation(request.match_info["sender"])
        for event in events:
            conv.events.append(event)
            if event.get("event") == "pause":
                conv.paused = True
            elif event.get("event") == "resume":
                conv.paused = False
            elif event.get("event") == "rewind" and conv.messages:
                conv.messages.pop()  # the latest user turn is undone
        return web.json_response({"sender_id": request.match_info["sender"]})


# Keyword -> (intent, confidence) for the fake NLU, first match wins.
INTENT_WORDS = (
    ("människa", "request_human", 0.95),
    ("rådgivare", "request_human", 0.9),
    ("kontaktar", "ask_contact", 0.92),
    ("varsla", "layoff_notice", 0.88),
    ("lån", "financing", 0.91),
    ("pengar", "financing", 0.8),
    ("hej", "greet", 0.97),
)
ORGANISATIONS = {"almi": "Almi", "arbetsförmedlingen": "Arbetsförmedlingen"}


def parse_text(text: str) -> dict[str, Any]:
    """Rasa's parse result for `text`, as the fake NLU sees it."""
    lowered = text.lower()
    intent, confidence = next(
        ((name, conf) for word, name, conf in INTENT_WORDS if word in lowered), ("nlu_fallback", 0.3)
    )
    entities = [
        {"entity": "organisation", "value": value, "start": lowered.index(key), "end": lowered.index(key) + len(key)}
        for key, value in ORGANISATIONS.items()
        if key in lowered
    ]
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [
            {"name": intent, "confidence": confidence},
            {"name": "general_support", "confidence": round(1 - confidence, 2)},
        ],
        "entities": entities,
    }
