"""The held-out referral set and how a model scores on it (plain functions and the file).

The set lives in the project (`evaluation/referrals.yml`, beside the data but not in it:
`rasa train` never reads it) so that a model is judged on questions it was not trained
on. Admins add questions from the Träning page; a question that is already a training
example is refused, since it would measure memory rather than understanding.

A model's evaluation: the intent it predicts for every question, accuracy, and
per-intent precision-recall F1 over the set; compared with the active model's, the
questions whose answer changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from content.validation import MAX_EXAMPLE_CHARS, clean_example, example_key, example_problems, normalise
from core.problems import Problem
from core.settings import PROJECT_ROOT

HELDOUT_FILE = PROJECT_ROOT / "evaluation" / "referrals.yml"
HEADER = (
    "# The held-out referral set (docs/training.md): questions a company might ask, each with\n"
    "# the intent that answers it. NOT training data: every new model is scored on these.\n"
    "# Admins add to it on the admin page Träning; edit by hand with care.\n"
)


@dataclass(frozen=True)
class Question:
    text: str
    intent: str


def load(path: Path = HELDOUT_FILE) -> list[Question]:
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [Question(str(q["text"]), str(q["intent"])) for q in data.get("questions") or []
            if isinstance(q, Mapping) and q.get("text") and q.get("intent")]


def set_fingerprint(questions: Iterable[Question]) -> str:
    digest = hashlib.sha256()
    for q in questions:
        digest.update(f"{q.text}\0{q.intent}\0".encode())
    return digest.hexdigest()[:16]


def question_problems(text: str, intent: str, questions: Collection[Question], intents: Collection[str],
                      training_keys: Collection[str]) -> list[Problem]:
    """Why a question cannot join the set (Swedish, per form field); training_keys are the
    examples' keys (`content.validation.example_key`)."""
    problems = [Problem("text", p.message) for p in example_problems(text)]
    if intent not in intents:
        problems.append(Problem("intent", "Välj vilken avsikt som ska svara på frågan."))
    if problems:
        return problems
    key = normalise(text)
    if any(normalise(q.text) == key for q in questions):
        problems.append(Problem("text", "Frågan finns redan i utvärderingen."))
    elif example_key(text) in training_keys:
        problems.append(Problem("text", (
            "Frågan är redan ett träningsexempel. Utvärderingen ska bara ha frågor som modellen inte "
            "tränats på; skriv frågan på ett annat sätt.")))
    return problems


def add(path: Path, text: str, intent: str) -> Question:
    """Append a question (already checked) to the set, replacing the file atomically."""
    question = Question(clean_example(text)[:MAX_EXAMPLE_CHARS], intent)
    questions = [*load(path), question]
    body = yaml.safe_dump({"questions": [{"text": q.text, "intent": q.intent} for q in questions]},
                          allow_unicode=True, sort_keys=False, width=100_000)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".referrals-", suffix=".yml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(HEADER + body)
    os.replace(temp, path)
    return question


# ---------------------------------------------------------------- scores


def score(questions: Iterable[Question], predictions: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A model's evaluation from its predictions ({text: {"intent", "confidence"}})."""
    questions = list(questions)
    counts: dict[str, list[int]] = {}  # intent -> [true positives, false positives, false negatives]
    correct = 0
    kept: dict[str, dict[str, Any]] = {}
    for q in questions:
        predicted = predictions.get(q.text) or {}
        name = str(predicted.get("intent") or "")
        kept[q.text] = {"intent": name, "confidence": round(float(predicted.get("confidence") or 0.0), 3),
                        "expected": q.intent}
        if name == q.intent:
            correct += 1
            counts.setdefault(q.intent, [0, 0, 0])[0] += 1
        else:
            counts.setdefault(q.intent, [0, 0, 0])[2] += 1
            if name:
                counts.setdefault(name, [0, 0, 0])[1] += 1
    per_intent = {}
    for intent, (tp, fp, fn) in sorted(counts.items()):
        if tp + fn == 0:
            continue  # predicted but never expected: no F1 of its own to show
        per_intent[intent] = round(2 * tp / (2 * tp + fp + fn), 3)
    return {
        "set": set_fingerprint(questions),
        "count": len(questions),
        "accuracy": round(correct / len(questions), 3) if questions else None,
        "macro_f1": round(sum(per_intent.values()) / len(per_intent), 3) if per_intent else None,
        "per_intent_f1": per_intent,
        "predictions": kept,
    }


@dataclass(frozen=True)
class Changed:
    text: str
    expected: str
    before: str | None  # None: the other model was not asked this question
    after: str

    @property
    def better(self) -> bool:
        return self.after == self.expected and self.before != self.expected

    @property
    def worse(self) -> bool:
        return self.before == self.expected and self.after != self.expected


def changed(new: Mapping[str, Any] | None, old: Mapping[str, Any] | None) -> list[Changed]:
    """The questions whose predicted intent (so the answer) differs between two evaluations."""
    if not new:
        return []
    before = (old or {}).get("predictions") or {}
    out = []
    for text, row in (new.get("predictions") or {}).items():
        previous = before.get(text)
        old_intent = str(previous["intent"]) if previous else None
        if old_intent != row["intent"]:
            out.append(Changed(text, str(row["expected"]), old_intent, str(row["intent"])))
    return out


def parse_predictions(output: str) -> dict[str, dict[str, dict[str, Any]]]:
    """The evaluator's stdout: its last line is {model file name: {text: prediction}}."""
    for line in reversed(output.strip().splitlines()):
        if line.startswith("{"):
            data = json.loads(line)
            if isinstance(data, dict):
                return data
    raise ValueError("no predictions in the evaluator's output")
