"""The rules a directory entry edited by an admin must follow (plain functions, Swedish).

They check the canonical dicts of directory/seed.py (dates as ISO strings), the same shape
the seed files, the audit log and the editor's forms use.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from core.problems import Problem

ORGANISATION_KINDS = {
    "organisation": "Organisation",
    "authority": "Myndighet",
    "network": "Nätverk",
    "partner": "Samarbetspartner",
    "municipality": "Kommun",
}
CONTACT_KINDS = {"web": "Webbplats", "phone": "Telefon", "email": "E-post", "address": "Adress", "hours": "Öppettider"}
AUDIENCES = {"company": "Företag", "municipality": "Kommuner och regioner", "any": "Alla"}
STATUSES = {"active": "Pågår", "ended": "Avslutat"}
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,30}$")
MAX_TEXT = 4000
REVIEW_MONTHS = 12


def needs_review(reviewed: dt.date | None, today: dt.date) -> bool:
    """Not checked against its source for 12 months (or never): flagged for the admins."""
    if reviewed is None:
        return True
    try:
        limit = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        limit = today.replace(year=today.year - 1, day=28)
    return reviewed < limit


def _url(value: str) -> bool:
    return bool(re.match(r"^https?://[^\s/$.?#][^\s]*$", value))


def _date(value: object, field: str, label: str) -> tuple[dt.date | None, list[Problem]]:
    if value in (None, ""):
        return None, []
    try:
        return dt.date.fromisoformat(str(value)), []
    except ValueError:
        return None, [Problem(field, f"{label} ska vara ett datum som 2026-12-04.")]


def review_problems(data: Mapping[str, Any], today: dt.date) -> list[Problem]:
    problems = []
    url = str(data.get("source_url") or "")
    if url and not _url(url):
        problems.append(Problem("source_url", "Källans adress ska börja med https:// (eller http://)."))
    reviewed, bad = _date(data.get("reviewed"), "reviewed", "Granskad")
    problems += bad
    if reviewed is not None and reviewed > today:
        problems.append(Problem("reviewed", "Granskningsdatumet kan inte ligga i framtiden."))
    if len(str(data.get("source") or "")) > MAX_TEXT or len(str(data.get("to_check") or "")) > MAX_TEXT:
        problems.append(Problem("source", f"Källa och ”att kontrollera” får vara högst {MAX_TEXT} tecken."))
    return problems


def new_id_problems(entry_id: str, taken: Collection[str]) -> list[Problem]:
    if not ID_PATTERN.match(entry_id):
        return [Problem("id", "Id skrivs med små bokstäver a–z, siffror och bindestreck, t.ex. energikontoret.")]
    if entry_id in taken:
        return [Problem("id", f"Id {entry_id} används redan.")]
    return []


def _name_problems(data: Mapping[str, Any], other_names: Mapping[str, str]) -> list[Problem]:
    """Name and aliases: present, not repeated, and naming nothing else in the directory.
    `other_names` maps a casefolded name or alias of another entry → that entry's name."""
    problems = []
    name = str(data.get("name") or "").strip()
    if not name:
        problems.append(Problem("name", "Skriv ett namn."))
    elif len(name) > 200:
        problems.append(Problem("name", "Namnet får vara högst 200 tecken."))
    seen: set[str] = set()
    for index, alias in enumerate([name, *(data.get("aliases") or [])]):
        key = alias.casefold().strip()
        field = "aliases" if index else "name"
        if not key:
            continue
        if len(alias) > 200:
            problems.append(Problem("aliases", f"Det alternativa namnet ”{alias[:40]}…” är för långt."))
        if index and alias in seen:
            problems.append(Problem(field, f"”{alias}” står två gånger."))
        elif key in other_names:
            problems.append(Problem(field, (
                f"”{alias}” är redan ett namn på {other_names[key]}. Två poster kan inte heta samma sak: "
                "assistenten skulle inte veta vilken som menas."
            )))
        seen.add(alias)
    return problems


def organisation_problems(
    data: Mapping[str, Any], other_names: Mapping[str, str], organisation_ids: Collection[str], today: dt.date
) -> list[Problem]:
    problems = _name_problems(data, other_names)
    if data.get("kind") not in ORGANISATION_KINDS:
        problems.append(Problem("kind", "Välj vilken sorts organisation det är."))
    if not str(data.get("region") or "").strip():
        problems.append(Problem("region", "Skriv var organisationen verkar, t.ex. Västmanland eller national."))
    via = data.get("reached_through")
    if via and (via not in organisation_ids or via == data.get("id")):
        problems.append(Problem("reached_through", "Välj en annan organisation i katalogen, eller ingen."))
    if len(str(data.get("summary") or "")) > MAX_TEXT:
        problems.append(Problem("summary", f"Beskrivningen får vara högst {MAX_TEXT} tecken."))
    problems += contact_problems(data.get("contacts") or [])
    return problems + review_problems(data, today)


def contact_problems(contacts: Sequence[Mapping[str, Any]]) -> list[Problem]:
    problems = []
    for index, contact in enumerate(contacts, start=1):
        kind, value = contact.get("kind"), str(contact.get("value") or "").strip()
        field = f"contact_{index - 1}"
        if kind not in CONTACT_KINDS:
            problems.append(Problem(field, f"Kontaktväg {index}: välj typ (webbplats, telefon, e-post …)."))
        elif not value:
            problems.append(Problem(field, f"Kontaktväg {index}: skriv själva uppgiften."))
        elif kind == "web" and not _url(value):
            problems.append(Problem(field, f"Kontaktväg {index}: en webbadress börjar med https://."))
        elif kind == "email" and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
            problems.append(Problem(field, f"Kontaktväg {index}: ”{value}” är ingen e-postadress."))
        elif kind == "phone" and not PHONE.match(value):
            problems.append(Problem(field, f"Kontaktväg {index}: skriv telefonnumret med siffror, t.ex. 021-17 30 00."))
        if len(str(contact.get("label") or "")) > 200:
            problems.append(Problem(field, f"Kontaktväg {index}: etiketten får vara högst 200 tecken."))
    return problems


def scheme_problems(
    data: Mapping[str, Any], other_names: Mapping[str, str], organisation_ids: Collection[str], today: dt.date
) -> list[Problem]:
    problems = _name_problems(data, other_names)
    if data.get("organisation") not in organisation_ids:
        problems.append(Problem("organisation", "Välj vilken organisation som har stödet."))
    if data.get("status") not in STATUSES:
        problems.append(Problem("status", "Välj om stödet pågår eller har avslutats."))
    start, bad_start = _date(data.get("start_date"), "start_date", "Startdatum")
    end, bad_end = _date(data.get("end_date"), "end_date", "Slutdatum")
    problems += bad_start + bad_end
    if start and end and end < start:
        problems.append(Problem("end_date", "Slutdatumet ligger före startdatumet."))
    if data.get("status") == "ended":
        if not data.get("end_date"):
            problems.append(Problem("end_date", "Ett avslutat stöd behöver ett slutdatum."))
        if not str(data.get("now_applies") or "").strip():
            problems.append(Problem("now_applies", "Skriv vad som gäller nu, när stödet har avslutats."))
    elif end and end < today:
        problems.append(Problem("status", "Slutdatumet har passerat: markera stödet som avslutat."))
    unknown = [t for t in data.get("now_targets") or [] if t not in organisation_ids]
    if unknown:
        problems.append(Problem("now_targets", f"Okända organisationer: {', '.join(unknown)}."))
    for key in ("summary", "now_applies"):
        if len(str(data.get(key) or "")) > MAX_TEXT:
            problems.append(Problem(key, f"Texten får vara högst {MAX_TEXT} tecken."))
    return problems + review_problems(data, today)


def topic_problems(data: Mapping[str, Any], organisation_ids: Collection[str], today: dt.date) -> list[Problem]:
    problems = []
    if not str(data.get("name") or "").strip():
        problems.append(Problem("name", "Skriv ett namn på ämnet."))
    targets = list(data.get("targets") or [])
    if not targets:
        problems.append(Problem("targets", "Ämnet behöver minst en organisation att hänvisa till."))
    seen: set[str] = set()
    for index, target in enumerate(targets, start=1):
        field = f"target_{index - 1}"
        org = target.get("target")
        if org not in organisation_ids:
            problems.append(Problem(field, f"Mottagare {index}: välj en organisation i katalogen."))
        elif org in seen:
            problems.append(Problem(field, f"Mottagare {index}: {org} står redan i listan."))
        seen.add(str(org))
        if target.get("audience") not in AUDIENCES:
            problems.append(Problem(field, f"Mottagare {index}: välj vem hänvisningen gäller."))
        low, high = target.get("min_employees"), target.get("max_employees")
        if any(v is not None and (not isinstance(v, int) or v < 0) for v in (low, high)):
            problems.append(Problem(field, f"Mottagare {index}: antal anställda skrivs som ett heltal, 0 eller mer."))
        elif low is not None and high is not None and low > high:
            problems.append(Problem(field, f"Mottagare {index}: lägsta antal anställda är större än högsta."))
        if len(str(target.get("pitch") or "")) > MAX_TEXT:
            problems.append(Problem(field, f"Mottagare {index}: texten får vara högst {MAX_TEXT} tecken."))
    return problems + review_problems(data, today)
