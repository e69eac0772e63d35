"""An audit entry's before and after as the lines of a diff, in Swedish (plain functions)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LABELS = {
    "name": "Namn", "aliases": "Andra namn", "texts": "Exempel", "examples": "Exempel", "intent": "Avsikt",
    "variations": "Varianter", "description": "Beskrivning", "retired": "Avvecklad", "kind": "Sort",
    "action": "Besvaras med", "response": "Svar", "rule_title": "Regel", "nlu_file": "Fil", "summary": "Beskrivning",
    "contacts": "Kontaktväg", "targets": "Mottagare", "reviewed": "Granskad", "source": "Källa",
    "source_url": "Källans adress", "to_check": "Att kontrollera", "status": "Status", "start_date": "Startdatum",
    "end_date": "Slutdatum", "now_applies": "Vad gäller nu", "now_targets": "Vänd dig nu till",
    "organisation": "Organisation", "region": "Verkar i", "reached_through": "Nås genom",
    "publishes_phone": "Publicerar telefon", "role": "Roll", "active": "Aktivt", "email": "E-post",
    "new_topic": "Nytt ämne", "new_response": "Nytt svar", "model": "Modell",
}
ACTIONS = {
    "created": "skapade", "updated": "ändrade", "deleted": "tog bort", "reverted": "ångrade", "activated": "aktiverade",
    "erased": "raderade", "exported": "exporterade", "password_changed": "bytte lösenord för",
}
ENTITIES = {
    "example": "exempel", "intent": "avsikten", "response": "svaret", "organisation": "organisationen",
    "scheme": "stödet", "topic": "ämnet", "account": "kontot", "model": "modellen",
    "personal_data": "personuppgifter",
}


# Stored codes shown as words.
VALUES = {
    "role": {"advisor": "Rådgivare", "admin": "Administratör"},
    "kind": {"referral": "Hänvisning", "conversation": "Samtal", "retrieval": "Fråga och svar",
             "organisation": "Organisation", "authority": "Myndighet", "network": "Nätverk",
             "partner": "Samarbetspartner", "municipality": "Kommun"},
    "status": {"active": "Pågår", "ended": "Avslutat"},
}


@dataclass(frozen=True)
class Line:
    field: str
    before: str
    after: str


def show(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    if isinstance(value, Mapping):
        return "\n".join(f"{LABELS.get(str(k), k)}: {show(v)}" for k, v in value.items() if v not in (None, "", []))
    if isinstance(value, list):
        return "\n".join(show(v) for v in value)
    return str(value) if isinstance(value, str | int | float) else json.dumps(value, ensure_ascii=False)


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[Line]:
    """One line per changed field; lists of texts show only what was taken out and added,
    lists of rows (contacts, targets, variations) one line per changed row."""
    old, new = dict(before or {}), dict(after or {})
    lines: list[Line] = []
    for key in [*old, *(k for k in new if k not in old)]:
        a, b = old.get(key), new.get(key)
        if a == b and before is not None and after is not None:
            continue
        words = VALUES.get(key, {})
        a, b = (words.get(v, v) if isinstance(v, str) else v for v in (a, b))
        label = LABELS.get(key, key)
        if isinstance(a, list) and isinstance(b, list) and all(isinstance(v, str) for v in [*a, *b]):
            removed = [v for v in a if v not in b]
            added = [v for v in b if v not in a]
            lines.append(Line(label, show(removed), show(added)))
        elif isinstance(a, list) and isinstance(b, list):
            for index in range(max(len(a), len(b))):
                x = a[index] if index < len(a) else None
                y = b[index] if index < len(b) else None
                if x != y:
                    lines.append(Line(f"{label} {index + 1}", show(x), show(y)))
        else:
            lines.append(Line(label, show(a), show(b)))
    return lines
