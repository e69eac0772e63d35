"""Predict the intent of every held-out question with one or more models. Runs in Rasa's
environment (imports nothing of ours):

    .venv-rasa/bin/python -m training.rasa_evaluate --set evaluation/referrals.yml model.tar.gz ...

Prints one JSON line: {model file name: {question: {"intent", "confidence"}}}. A retrieval
intent is reported with its answer key (faq/opening_hours), as the admin pages name it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

import yaml


def _intent(parsed: dict[str, Any]) -> tuple[str, float]:
    intent = parsed.get("intent") or {}
    name, confidence = str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)
    # Our RetrievalSelector answers under the group's name; Rasa's ResponseSelector under "default".
    selectors = parsed.get("response_selector") or {}
    selector = selectors.get(name) or (selectors.get("default") if "/" not in name and name in
                                       (selectors.get("all_retrieval_intents") or []) else None) or {}
    key = (selector.get("response") or {}).get("intent_response_key")
    return (str(key) if key else name), confidence


async def predict(model: Path, texts: list[str]) -> dict[str, dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    out = {}
    for text in texts:
        name, confidence = _intent(await agent.parse_message(text))
        out[text] = {"intent": name, "confidence": confidence}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", type=Path, required=True)
    parser.add_argument("models", type=Path, nargs="+")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    data = yaml.safe_load(args.set.read_text(encoding="utf-8")) or {}
    texts = [str(q["text"]) for q in data.get("questions") or []]
    result = {model.name: asyncio.run(predict(model, texts)) for model in args.models}
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
