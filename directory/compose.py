"""Swedish reply texts composed from directory views (plain functions).

The first organisation a referral names is the one the company should contact; every
text is built so that nothing else is named before it.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence

from directory.views import ContactView, OrganisationView, SchemeView

MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
          "september", "oktober", "november", "december")
CONTACT_LABELS = {"web": "Webb", "phone": "Telefon", "email": "E-post", "address": "Adress",
                  "hours": "Öppettider"}


def swedish_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def fold(text: str) -> str:
    """Lowercase without diacritics: 'Företag' and 'foretag' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def resolve_name(text: str, names: Mapping[str, Sequence[str]]) -> str | None:
    """The id whose name or alias `text` spells, allowing a short inflected ending.

    'Almis', 'almi' and 'Almi Företagspartner Mälardalen' all resolve to 'almi'; the
    longest matching name wins so that a specific name beats a shorter generic one.
    """
    wanted = fold(text.strip())
    best: tuple[int, str] | None = None
    for target_id, candidates in names.items():
        for name in candidates:
            folded = fold(name)
            if folded and wanted.startswith(folded) and len(wanted) - len(folded) <= 4 and (
                best is None or len(folded) > best[0]
            ):
                best = (len(folded), target_id)
    return best[1] if best else None


def contact_line(organisation: OrganisationView, limit: int = 2) -> str:
    """One sentence with the first ways to reach the organisation."""
    parts = []
    for contact in organisation.contacts[:limit]:
        if contact.kind == "web":
            parts.append(f"webben: {contact.value}")
        elif contact.kind == "phone":
            parts.append(f"telefon {contact.value}")
        elif contact.kind == "email":
            parts.append(f"e-post {contact.value}")
    if not parts:
        return ""
    return "Du når dem via " + " eller ".join(parts) + "."


def contact_details(organisation: OrganisationView, via: OrganisationView | None = None) -> str:
    """The full contact card, as a reply to 'hur kontaktar jag dem?'."""
    lines = [f"Så här når du {organisation.name}:"]
    lines += [_contact_row(c) for c in organisation.contacts]
    if via is not None:
        lines.append(f"Du når dem genom {via.name}:")
        lines += [_contact_row(c) for c in via.contacts]
    if len(lines) == 1:
        lines.append("Jag har tyvärr inga kontaktuppgifter sparade. En rådgivare kan hjälpa dig vidare.")
    return "\n".join(lines)


def _contact_row(contact: ContactView) -> str:
    label = contact.label or CONTACT_LABELS.get(contact.kind, contact.kind)
    return f"• {label}: {contact.value}"


def referral(
    first: OrganisationView,
    pitch: str,
    also: Sequence[OrganisationView] = (),
    via: OrganisationView | None = None,
) -> str:
    """'Vänd dig till X. <pitch> <how to reach>. Även Y kan hjälpa till.'"""
    sentences = [f"Vänd dig till {first.name}.", (pitch or first.summary).strip()]
    reach = contact_line(via or first)
    if via is not None:
        reach = f"Du når dem genom {via.name}. {reach}".strip()
    sentences.append(reach)
    if also:
        names = [o.name for o in also]
        joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " och " + names[-1]
        sentences.append(f"Även {joined} kan hjälpa till.")
    return " ".join(s for s in sentences if s)


def more_options(targets: Sequence[tuple[OrganisationView, str]]) -> str:
    """Reply to 'finns det något mer?' with the next targets."""
    if not targets:
        return ("Det var de kontakter jag har för din fråga. Vill du prata med en rådgivare "
                "kan jag koppla dig vidare.")
    lines = ["Här är fler som kan hjälpa dig:"]
    for organisation, pitch in targets:
        lines.append(f"• {organisation.name}: {(pitch or organisation.summary).strip()}")
    return "\n".join(lines)


def ended_scheme(scheme: SchemeView, runner: OrganisationView) -> str:
    """'X har upphört (gällde ... och handlades av Y). <what applies now>'"""
    if scheme.start_date and scheme.end_date:
        period = f"gällde {swedish_date(scheme.start_date)}–{swedish_date(scheme.end_date)}"
    elif scheme.end_date:
        period = f"upphörde {swedish_date(scheme.end_date)}"
    else:
        period = "gäller inte längre"
    first = f"{runner.name} hade hand om {_lower_first(scheme.name)}, men stödet har upphört ({period})."
    return " ".join(s for s in (first, scheme.now_applies.strip()) if s)


def active_scheme(scheme: SchemeView, runner: OrganisationView) -> str:
    return f"{runner.name} har hand om {_lower_first(scheme.name)}. {scheme.summary.strip()}".strip()


def _lower_first(name: str) -> str:
    # "Omställningsstöd" reads "omställningsstöd" mid-sentence; acronyms stay as they are.
    if len(name) > 1 and name[0].isupper() and not name[1].isupper():
        return name[0].lower() + name[1:]
    return name
