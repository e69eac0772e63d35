"""Where each response is used: the rules (intents answered with it), the stories and
rules kept as written, and the custom actions that send it (found in actions/*.py as
`response="utter_..."`, read as text: content never imports the actions)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.models import DialogueBlock, Intent
from core.settings import PROJECT_ROOT

ACTION_NAME = re.compile(r"return\s+[\"'](action_[a-z0-9_]+)[\"']")
RESPONSE_REFERENCE = re.compile(r"response\s*=\s*[\"'](utter_[a-z0-9_/]+)[\"']")


@dataclass(frozen=True)
class Use:
    kind: str  # rule | story | action
    where: str  # Swedish, for the admin


def action_uses(actions_dir: Path = PROJECT_ROOT / "actions") -> dict[str, list[str]]:
    """response → the custom actions (with their file) that send it."""
    uses: dict[str, list[str]] = {}
    for path in sorted(actions_dir.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        classes = re.split(r"\n(?=class\s)", text)
        for chunk in classes:
            names = ACTION_NAME.findall(chunk)
            for response in RESPONSE_REFERENCE.findall(chunk):
                label = f"{names[0]} ({path.relative_to(actions_dir.parent)})" if names else str(
                    path.relative_to(actions_dir.parent))
                uses.setdefault(response, [])
                if label not in uses[response]:
                    uses[response].append(label)
    return uses


def _steps(body: dict[str, object]) -> Iterable[dict[str, object]]:
    steps = body.get("steps")
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def uses(session: Session, actions_dir: Path = PROJECT_ROOT / "actions") -> dict[str, list[Use]]:
    """response name → where it is used (rules, stories, actions)."""
    found: dict[str, list[Use]] = {}
    for intent in session.scalars(select(Intent).where(Intent.retired.is_(False)).order_by(Intent.position)):
        if intent.response:
            found.setdefault(intent.response, []).append(Use("rule", f"Svar på avsikten {intent.name}"))
        elif intent.action.startswith("utter_"):
            found.setdefault(intent.action, []).append(Use("rule", f"Regel: {intent.name} → {intent.action}"))
    for block in session.scalars(select(DialogueBlock).order_by(DialogueBlock.position)):
        kind = {"story": "Berättelse", "rule": "Regel"}.get(block.kind)
        if kind is None:
            continue
        for step in _steps(block.body):
            action = str(step.get("action") or "")
            if action.startswith("utter_"):
                use = Use(block.kind, f"{kind}: {block.name}")
                if use not in found.get(action, []):
                    found.setdefault(action, []).append(use)
    for response, actions in action_uses(actions_dir).items():
        for label in actions:
            found.setdefault(response, []).append(Use("action", f"Skickas av {label}"))
    return found


def uses_of(name: str, all_uses: dict[str, list[Use]]) -> list[Use]:
    """A retrieval response (utter_faq/x) is also used wherever its group (utter_faq) is."""
    group = name.split("/", 1)[0]
    extra = [u for u in all_uses.get(group, []) if group != name]
    return all_uses.get(name, []) + extra
