"""The conversation test set: whole conversations through Rasa's REST channel.

Each conversation in `tests/conversations.yml` runs in a fresh chat; every turn is judged
as the dev set judges a question (scripts/referral_eval.py: the first organisation the
reply names, the hand-off signal, or nothing named), plus `clarify` (a question with topic
buttons and no name) and an optional `starts` (how the reply must begin).

`.venv/bin/python -m scripts.conversation_eval --url http://127.0.0.1:5005`
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from core.settings import PROJECT_ROOT, RASA_CHANNEL_HEADER, load_settings
from scripts.referral_eval import judge

CONVERSATIONS = PROJECT_ROOT / "tests" / "conversations.yml"
DIRECTORY = PROJECT_ROOT / "data" / "directory" / "organisations.yml"
TURNS_REQUIRED = 0.9


def load_conversations(path: Path = CONVERSATIONS) -> list[dict[str, Any]]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    conversations: list[dict[str, Any]] = data["conversations"]
    return conversations


def directory_names(path: Path = DIRECTORY) -> dict[str, list[str]]:
    """Each shipped organisation's name and aliases: what counts as naming it in a reply."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["organisations"]
    return {e["id"]: [e["name"], *e.get("aliases", [])] for e in entries}


def turn_ok(messages: Sequence[Mapping[str, Any]], turn: Mapping[str, Any],
            targets: Mapping[str, Sequence[str]]) -> tuple[bool, str | None]:
    """(as expected?, what the reply did: the first target named, "human", "clarify" or None)."""
    expect = list(turn["expect"])
    reply = " ".join(str(m.get("text") or "") for m in messages)
    if expect == ["clarify"]:
        verdict = judge(messages, ["none"], targets)
        asked = verdict.top1 and any(m.get("buttons") for m in messages)
        return asked, "clarify" if asked else verdict.first
    verdict = judge(messages, expect, targets)
    ok = verdict.top1 and reply.startswith(str(turn.get("starts") or ""))
    return ok, verdict.first


@dataclass
class Report:
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per turn

    @property
    def turn_score(self) -> float:
        return float(sum(bool(r["ok"]) for r in self.rows)) / max(len(self.rows), 1)

    @property
    def conversations(self) -> int:
        return len({r["conversation"] for r in self.rows})

    @property
    def conversation_score(self) -> float:
        failed = {r["conversation"] for r in self.rows if not r["ok"]}
        return (self.conversations - len(failed)) / max(self.conversations, 1)

    def failures(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if not r["ok"]]


async def run_conversation(http: aiohttp.ClientSession, url: str, conversation: Mapping[str, Any],
                           targets: Mapping[str, Sequence[str]], token: str) -> list[dict[str, Any]]:
    sender = f"conv-{uuid.uuid4().hex}"
    rows = []
    headers = {RASA_CHANNEL_HEADER: token}  # Rasa's REST channel asks for the API token
    for number, turn in enumerate(conversation["turns"], start=1):
        async with http.post(f"{url}/webhooks/rest/webhook", headers=headers,
                             json={"sender": sender, "message": turn["say"]}) as response:
            response.raise_for_status()
            messages: list[dict[str, Any]] = await response.json()
        ok, got = turn_ok(messages, turn, targets)
        rows.append({"conversation": conversation["name"], "turn": number, "say": turn["say"],
                     "expect": turn["expect"], "got": got, "ok": ok,
                     "reply": " ".join(str(m.get("text") or "") for m in messages)})
    return rows


async def evaluate(url: str, conversations: Sequence[Mapping[str, Any]] | None = None,
                   targets: Mapping[str, Sequence[str]] | None = None, concurrency: int = 4,
                   token: str = "") -> Report:
    token = token or load_settings().rasa_token
    conversations = load_conversations() if conversations is None else conversations
    targets = directory_names() if targets is None else targets
    limit = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        async def one(conversation: Mapping[str, Any]) -> list[dict[str, Any]]:
            async with limit:
                return await run_conversation(http, url, conversation, targets, token)

        results = await asyncio.gather(*(one(c) for c in conversations))
    return Report([row for rows in results for row in rows])


def summary(report: Report) -> str:
    return (f"Conversation set: {report.turn_score:.3f} of {len(report.rows)} turns as expected, "
            f"{report.conversation_score:.3f} of {report.conversations} conversations entirely "
            f"(required turns {TURNS_REQUIRED})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    args = parser.parse_args(argv)
    report = asyncio.run(evaluate(args.url))
    for row in report.failures():
        print(f"- {row['conversation']} #{row['turn']} {row['say'][:70]!r}: expected {row['expect']}, "
              f"got {row['got']}\n    {row['reply'][:200]}")
    print(summary(report))
    return 0 if report.turn_score >= TURNS_REQUIRED else 1


if __name__ == "__main__":
    sys.exit(main())
