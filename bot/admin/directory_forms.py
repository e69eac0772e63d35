"""The directory editor's forms, read into the canonical entries of directory/seed.py
(what the rules check, the audit log holds and the rows are written from)."""

from __future__ import annotations

from typing import Any

from multidict import MultiDictProxy

from bot.admin.pages import int_or_none, lines, rows

PHONE_CHOICES = {"ja": True, "nej": False, "": None}


def _review(form: MultiDictProxy[str]) -> dict[str, Any]:
    return {
        "source": form.get("source", "").strip(),
        "source_url": form.get("source_url", "").strip(),
        "to_check": form.get("to_check", "").strip(),
        "reviewed": form.get("reviewed", "").strip() or None,
    }


def organisation(form: MultiDictProxy[str]) -> dict[str, Any]:
    return {
        "name": form.get("name", "").strip(),
        "aliases": lines(form.get("aliases")),
        "kind": form.get("kind", ""),
        "region": form.get("region", "").strip(),
        "reached_through": form.get("reached_through") or None,
        "summary": form.get("summary", "").strip(),
        "contacts": rows(form, "contact", ("kind", "value", "label")),
        "publishes_phone": PHONE_CHOICES.get(form.get("publishes_phone", "")),
        **_review(form),
    }


def scheme(form: MultiDictProxy[str]) -> dict[str, Any]:
    return {
        "name": form.get("name", "").strip(),
        "aliases": lines(form.get("aliases")),
        "organisation": form.get("organisation", ""),
        "status": form.get("status", ""),
        "start_date": form.get("start_date", "").strip() or None,
        "end_date": form.get("end_date", "").strip() or None,
        "summary": form.get("summary", "").strip(),
        "now_applies": form.get("now_applies", "").strip(),
        "now_targets": [r["organisation"] for r in rows(form, "now", ("organisation",))],
        **_review(form),
    }


def topic(form: MultiDictProxy[str]) -> dict[str, Any]:
    targets = [t for t in rows(form, "target", ("organisation", "audience", "min", "max", "pitch", "order"))
               if t["organisation"] or t["pitch"]]
    ordered = sorted(enumerate(targets), key=lambda pair: (int_or_none(pair[1]["order"]) or 10_000, pair[0]))
    return {
        "name": form.get("name", "").strip(),
        "targets": [
            {"target": t["organisation"], "audience": t["audience"] or "any", "min_employees": int_or_none(t["min"]),
             "max_employees": int_or_none(t["max"]), "pitch": t["pitch"]}
            for _, t in ordered
        ],
        **_review(form),
    }


def typed_fields(data: dict[str, Any]) -> list[tuple[str, str]]:
    """An admin's unsaved entry as label/text pairs, kept beside a conflict message."""
    labels = {"name": "Namn", "aliases": "Andra namn", "summary": "Beskrivning", "now_applies": "Vad gäller nu",
              "source": "Källa", "source_url": "Källans adress", "to_check": "Att kontrollera"}
    out = []
    for key, label in labels.items():
        value = data.get(key)
        if isinstance(value, list):
            value = "\n".join(value)
        if value:
            out.append((label, str(value)))
    for n, target in enumerate(data.get("targets") or [], start=1):
        out.append((f"Mottagare {n}", f"{target['target']}: {target['pitch']}"))
    for n, contact in enumerate(data.get("contacts") or [], start=1):
        out.append((f"Kontaktväg {n}", f"{contact['kind']}: {contact['value']} {contact['label']}".strip()))
    return out
