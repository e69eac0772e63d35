"""Answer quality: top-1 referral and any-mention over a JSONL set (shared/eval/README.md).

Each question is the first message of a fresh conversation on Rasa's REST channel (or the
gateway's compatible endpoint). The first target named in the joined reply must be one of
`expect`; for `human` the reply must carry the hand-off payload with no target named before
it; for `none` it names no target and does not hand off.

`.venv/bin/python -m scripts.referral_eval --url http://127.0.0.1:5005 [--set FILE]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from core.settings import PROJECT_ROOT, RASA_CHANNEL_HEADER, load_settings

EVAL_DIR = PROJECT_ROOT.parent / "shared" / "eval"
DEV_SET = EVAL_DIR / "dev.jsonl"
TARGETS = EVAL_DIR / "targets.json"
TOP1_REQUIRED = 0.85


def load_targets(path: Path = TARGETS) -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_set(path: Path = DEV_SET) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)


def mentions(text: str, targets: Mapping[str, Sequence[str]]) -> list[tuple[int, str]]:
    """(position, target id) of every target named in `text`, in order of position."""
    found: list[tuple[int, int, str]] = []
    for target_id, names in targets.items():
        for name in names:
            found += [(m.start(), -len(name), target_id) for m in _pattern(name).finditer(text)]
    found.sort()
    return [(pos, target_id) for pos, _, target_id in found]


@dataclass
class Verdict:
    top1: bool
    any_mention: bool
    first: str | None  # the target named first, "human", or None


def judge(messages: Sequence[Mapping[str, Any]], expect: Sequence[str],
          targets: Mapping[str, Sequence[str]]) -> Verdict:
    handoff_at = next(
        (i for i, m in enumerate(messages) if isinstance(m.get("custom"), dict) and "handoff" in m["custom"]),
        None,
    )
    before = messages if handoff_at is None else messages[:handoff_at]
    named_before = mentions(" ".join(str(m.get("text") or "") for m in before), targets)
    named_all = mentions(" ".join(str(m.get("text") or "") for m in messages), targets)
    if handoff_at is not None and not named_before:
        first: str | None = "human"
    else:
        first = named_before[0][1] if named_before else None
    ids = {t for _, t in named_all}
    if "none" in expect:
        top1 = not named_all and handoff_at is None
        return Verdict(top1, top1, first)
    top1 = first in expect
    any_mention = bool(ids & set(expect)) or ("human" in expect and handoff_at is not None)
    return Verdict(top1, any_mention, first)


@dataclass
class Report:
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def top1(self) -> float:
        return float(sum(r["top1"] for r in self.rows)) / max(len(self.rows), 1)

    @property
    def any_mention(self) -> float:
        return float(sum(r["any_mention"] for r in self.rows)) / max(len(self.rows), 1)

    def failures(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if not r["top1"]]


async def ask(session: aiohttp.ClientSession, url: str, text: str, token: str) -> list[dict[str, Any]]:
    payload = {"sender": f"eval-{uuid.uuid4().hex}", "message": text}
    headers = {RASA_CHANNEL_HEADER: token}  # Rasa's REST channel asks for the API token
    async with session.post(f"{url}/webhooks/rest/webhook", json=payload, headers=headers) as response:
        response.raise_for_status()
        messages: list[dict[str, Any]] = await response.json()
        return messages


async def evaluate(url: str, questions: Sequence[Mapping[str, Any]],
                   targets: Mapping[str, Sequence[str]], concurrency: int = 4, token: str = "") -> Report:
    token = token or load_settings().rasa_token
    report = Report()
    limit = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=120)

    async with aiohttp.ClientSession(timeout=timeout) as session:
        async def one(question: Mapping[str, Any]) -> dict[str, Any]:
            async with limit:
                messages = await ask(session, url, str(question["text"]), token)
            verdict = judge(messages, question["expect"], targets)
            return {"text": question["text"], "expect": question["expect"],
                    "first": verdict.first, "top1": verdict.top1,
                    "any_mention": verdict.any_mention,
                    "reply": " ".join(str(m.get("text") or "") for m in messages)}

        report.rows = list(await asyncio.gather(*(one(q) for q in questions)))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--set", type=Path, default=DEV_SET)
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args(argv)
    report = asyncio.run(evaluate(args.url, load_set(args.set), load_targets()))
    if args.show_failures:
        for row in report.failures():
            print(f"- {row['text'][:90]!r}: expected {row['expect']}, got {row['first']}\n    {row['reply'][:200]}")
    print(f"top-1 referral: {report.top1:.3f}   any-mention: {report.any_mention:.3f}   "
          f"({len(report.rows)} questions)")
    return 0 if report.top1 >= TOP1_REQUIRED else 1


if __name__ == "__main__":
    sys.exit(main())
