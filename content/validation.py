"""The rules an admin's change must follow, as plain functions with Swedish messages.

Nothing here touches the database: the callers (content.edit, the export) gather what
the rules need (the names that exist, the known slots) and raise `Invalid` with every
problem at once, each tied to the form field it is about.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from core.problems import Invalid, Problem, check

__all__ = ["Invalid", "Problem", "check"]

MAX_EXAMPLE_CHARS = 500
MIN_EXAMPLES = 2  # Rasa needs two to split an intent into training and test data
MAX_RESPONSE_CHARS = 4000
MAX_BUTTONS = 10
MAX_VARIATIONS = 20
MAX_DESCRIPTION_CHARS = 2000

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
# Names Rasa reserves or gives a meaning of its own.
RESERVED_NAMES = frozenset({
    "nlu_fallback", "restart", "back", "out_of_scope_default", "session_start", "default",
})
# `[text](entity)` and `[text]{"entity": ...}` mark entities in Rasa's training data.
ENTITY_MARKUP = re.compile(r"\[[^\]]*\]\s*[({]")
# How Rasa fills a response: `{slot}` is replaced, `{{` and `}}` are literal braces, and
# anything else with a brace breaks the reply (Python's str.format).
SLOT_REFERENCE = re.compile(r"\{([^{}\n]*)\}")


# ---------------------------------------------------------------- examples


def normalise(text: str) -> str:
    """The form two examples are compared in: case, spacing and Unicode form ignored."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def example_key(text: str) -> str:
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def clean_example(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def example_problems(text: str, field: str = "text") -> list[Problem]:
    """What is wrong with one example as typed (before `clean_example`)."""
    stripped = text.strip()
    if not stripped:
        return [Problem(field, "Exemplet är tomt. Skriv en mening som ett företag kan tänkas skriva.")]
    problems = []
    if len(stripped) > MAX_EXAMPLE_CHARS:
        problems.append(Problem(field, (
            f"Exemplet är {len(stripped):,} tecken långt; ett exempel får vara högst "
            f"{MAX_EXAMPLE_CHARS} tecken. Korta ner det till det företaget faktiskt frågar om."
        ).replace(",", " ")))
    if "\n" in stripped or "\r" in stripped:
        problems.append(Problem(field, "Ett exempel ska stå på en enda rad."))
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\r\t" for ch in stripped):
        problems.append(Problem(field, "Exemplet innehåller osynliga styrtecken. Skriv in det igen utan dem."))
    if ENTITY_MARKUP.search(stripped):
        problems.append(Problem(field, (
            "Hakparenteser följda av parentes, som [Almi](organisation), betyder entitetsmarkering "
            "i träningsdata. Skriv texten utan sådan markering."
        )))
    return problems


def split_lines(block: str) -> list[str]:
    """Examples typed one per line (blank lines and a leading "- " are ignored)."""
    lines = []
    for raw in block.splitlines():
        line = raw.strip()
        if line.startswith("- "):
            line = line[2:].strip()
        if line:
            lines.append(line)
    return lines


def duplicate_problems(
    texts: Sequence[str], existing: Mapping[str, str], intent: str, field: str = "text"
) -> list[Problem]:
    """Examples that already exist (in `intent` or another one) or repeat in `texts`.
    `existing` maps example_key → the name of the intent holding it."""
    problems = []
    seen: set[str] = set()
    for text in texts:
        key = example_key(text)
        holder = existing.get(key)
        if key in seen:
            problems.append(Problem(field, f"”{_short(text)}” står två gånger."))
        elif holder == intent:
            problems.append(Problem(field, f"”{_short(text)}” finns redan som exempel på {intent}."))
        elif holder is not None:
            problems.append(Problem(field, (
                f"”{_short(text)}” är redan ett exempel på {holder}. Samma mening kan inte lära "
                f"assistenten två avsikter; flytta exemplet i stället om det hör hemma här."
            )))
        seen.add(key)
    return problems


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- intents


def intent_name_problems(name: str, existing: Collection[str], field: str = "name") -> list[Problem]:
    """A new intent's name: Rasa's rules for names, and not taken."""
    parts = name.split("/")
    if not name:
        return [Problem(field, "Ge avsikten ett namn.")]
    if len(parts) > 2 or not all(NAME_PATTERN.match(p) for p in parts):
        return [Problem(field, (
            f"”{_short(name)}” går inte att använda som namn. Använd små bokstäver a–z, siffror och "
            "understreck (till exempel energy_support), 2–63 tecken, som börjar med en bokstav; "
            "inga å, ä, ö eller mellanslag."
        ))]
    if parts[0] in RESERVED_NAMES or parts[0].startswith(("utter_", "action_")):
        return [Problem(field, f"”{name}” är reserverat av Rasa. Välj ett annat namn.")]
    if name in existing:
        return [Problem(field, f"Det finns redan en avsikt som heter {name}.")]
    return []


def description_problems(description: str, field: str = "description") -> list[Problem]:
    if len(description) > MAX_DESCRIPTION_CHARS:
        return [Problem(field, f"Beskrivningen får vara högst {MAX_DESCRIPTION_CHARS} tecken.")]
    return []


# ---------------------------------------------------------------- responses


def response_problems(
    variations: Sequence[Mapping[str, Any]], slots: Collection[str], intents: Collection[str]
) -> list[Problem]:
    """A response's variations: each has text, known slots only, buttons with a title and
    a payload that is either plain text or /<a known intent>."""
    problems: list[Problem] = []
    if not variations:
        problems.append(Problem("variations", "Svaret behöver minst en text."))
    if len(variations) > MAX_VARIATIONS:
        problems.append(Problem("variations", f"Ett svar får ha högst {MAX_VARIATIONS} varianter."))
    for index, variation in enumerate(variations):
        field = f"text_{index}"
        label = f"Variant {index + 1}"
        text = str(variation.get("text") or "")
        if not text.strip():
            problems.append(Problem(field, f"{label} saknar text."))
        if len(text) > MAX_RESPONSE_CHARS:
            problems.append(Problem(field, f"{label} är för lång (högst {MAX_RESPONSE_CHARS} tecken)."))
        braces = text.replace("{{", "").replace("}}", "")
        if "{" in SLOT_REFERENCE.sub("", braces) or "}" in SLOT_REFERENCE.sub("", braces):
            problems.append(Problem(field, (
                f"{label} har en ensam klammerparentes. Skriv {{{{ eller }}}} för att visa en "
                "klammerparentes, eller {namn} för att infoga en uppgift."
            )))
        for ref in SLOT_REFERENCE.findall(braces):
            if ref not in slots:
                known = ", ".join(sorted(slots)) or "inga"
                problems.append(Problem(field, (
                    f"{label} använder {{{ref}}}, men assistenten har ingen uppgift (slot) som heter "
                    f"så. Kända uppgifter: {known}. Skriv {{{{ och }}}} om du menar klammerparenteser."
                )))
        if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in text):
            problems.append(Problem(field, f"{label} innehåller osynliga styrtecken."))
        buttons = list(variation.get("buttons") or [])
        if len(buttons) > MAX_BUTTONS:
            problems.append(Problem(field, f"{label} har fler än {MAX_BUTTONS} knappar."))
        for b_index, button in enumerate(buttons):
            problems += _button_problems(button, f"button_{index}_{b_index}", label, intents)
    return problems


def _button_problems(button: Mapping[str, Any], field: str, label: str, intents: Collection[str]) -> list[Problem]:
    title = str(button.get("title") or "").strip()
    payload = str(button.get("payload") or "").strip()
    problems = []
    if not title:
        problems.append(Problem(field, f"{label}: en knapp saknar text."))
    if not payload:
        problems.append(Problem(field, f"{label}: knappen ”{title}” saknar vad den skickar."))
    elif payload.startswith("/"):
        target = payload[1:].split("{", 1)[0]
        if target not in intents:
            problems.append(Problem(field, (
                f"{label}: knappen ”{title}” skickar {payload}, men det finns ingen aktiv avsikt "
                f"{target}. Välj en befintlig avsikt eller skriv vanlig text."
            )))
    return problems


RESPONSE_NAME = re.compile(r"^utter_[a-z0-9_]+(/[a-z0-9_]+)?$")


def response_name_problems(name: str, existing: Collection[str], field: str = "name") -> list[Problem]:
    if not RESPONSE_NAME.match(name) or len(name) > 100:
        return [Problem(field, "Ett svars namn börjar med utter_ och har små bokstäver a–z, siffror och understreck.")]
    if name in existing:
        return [Problem(field, f"Det finns redan ett svar som heter {name}.")]
    return []
