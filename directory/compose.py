"""Swedish reply texts composed from directory views (plain functions).

The first organisation a referral names is the one the company should contact; every
text is built so that nothing else is named before it.

On Företagssupporten's own website the assistant speaks for Västmanlands Företagssupport,
so a reply that refers a company to it says "oss"/"vi" ("Vänd dig till oss på
Västmanlands Företagssupport", "Du når oss via ..."), keeping the canonical name once
so that the referral still names it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence

from directory.views import ContactView, OrganisationView, SchemeView

MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
          "september", "oktober", "november", "december")
CONTACT_LABELS = {"web": "Webb", "phone": "Telefon", "email": "E-post", "address": "Adress",
                  "hours": "Öppettider"}
# The organisation the assistant speaks for (a directory id, see directory-brief.md).
SELF_ID = "foretagssupport"
# How texts written in the third person name it, longest first.
_SELF_NAMES = ("Västmanlands Företagssupport", "Företagssupporten")
_SELF = "|".join(re.escape(name) for name in _SELF_NAMES)
# "via Västmanlands Företagssupport" -> "via oss" (unless already "oss på ...").
_SELF_AFTER_PREPOSITION = re.compile(
    rf"(?<!oss på )\b(via|genom|hos|till|med|kontakta|Kontakta) (?:{_SELF})\b(?!s)"
)
# A sentence whose subject is the organisation: "Västmanlands Företagssupport hjälper ..."
_SELF_AS_SUBJECT = re.compile(rf"(^|(?<=[.!?] ))(?:{_SELF}) (?=[a-zåäö])")
_OUR_PARTNERS = ((re.compile(r"\bsin samarbetspartner\b"), "vår samarbetspartner"),
                 (re.compile(r"\bsina samarbetspartner\b"), "våra samarbetspartner"),
                 (re.compile(r"\bsin partner\b"), "vår partner"),
                 (re.compile(r"\bsina partner\b"), "våra partner"))


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


def is_self(organisation: OrganisationView) -> bool:
    return organisation.id == SELF_ID


def named(organisation: OrganisationView) -> str:
    """How a reply names an organisation: 'vi på Västmanlands Företagssupport' for ourselves."""
    return f"vi på {organisation.name}" if is_self(organisation) else organisation.name


def named_object(organisation: OrganisationView) -> str:
    """The same as an object: 'oss på Västmanlands Företagssupport'."""
    return f"oss på {organisation.name}" if is_self(organisation) else organisation.name


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def our_voice(text: str) -> str:
    """Rewrite a third-person text about Västmanlands Företagssupport in the first person.

    'Västmanlands Företagssupport tar emot frågor ... och hänvisar till sin
    samarbetspartner' -> 'Vi tar emot frågor ... och hänvisar till vår samarbetspartner';
    'nås via Västmanlands Företagssupport' -> 'nås via oss'. Other organisations'
    sentences are left as they are.
    """
    sentences = re.split(r"(?<=[.!?]) ", text.strip())
    rewritten = []
    for sentence in sentences:
        if _SELF_AS_SUBJECT.match(sentence):
            sentence = _SELF_AS_SUBJECT.sub("Vi ", sentence, count=1)
            for pattern, ours in _OUR_PARTNERS:
                sentence = pattern.sub(ours, sentence)
        sentence = _SELF_AFTER_PREPOSITION.sub(r"\1 oss", sentence)
        rewritten.append(sentence)
    return " ".join(rewritten)


def contact_line(organisation: OrganisationView, limit: int = 2) -> str:
    """One sentence with the first ways to reach the organisation ('Du når oss' for ourselves)."""
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
    whom = "oss" if is_self(organisation) else "dem"
    return f"Du når {whom} via " + " eller ".join(parts) + "."


def contact_details(organisation: OrganisationView, via: OrganisationView | None = None) -> str:
    """The full contact card, as a reply to 'hur kontaktar jag dem?'."""
    lines = [f"Så här når du {named_object(organisation)}:"]
    lines += [_contact_row(c) for c in organisation.contacts]
    if via is not None:
        lines.append(f"Du når dem genom {named_object(via)}:")
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
    sentences = [f"Vänd dig till {named_object(first)}.", our_voice(pitch or first.summary)]
    reach = contact_line(via or first)
    if via is not None:
        reach = f"Du når dem genom {named_object(via)}. {reach}".strip()
    sentences.append(reach)
    if also:
        # Ourselves last: "Även Almi ... och vi på Västmanlands Företagssupport kan hjälpa till."
        ordered = sorted(also, key=is_self)
        names = [named(o) for o in ordered]
        joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " och " + names[-1]
        sentences.append(f"Även {joined} kan hjälpa till.")
    return " ".join(s for s in sentences if s)


def hedged_referral(topic_name: str, organisation: OrganisationView, pitch: str) -> str:
    """The fallback's best guess: 'om din fråga gäller X kan Y hjälpa dig. <pitch> <reach>'."""
    helper = "vi på " + organisation.name if is_self(organisation) else organisation.name
    return (
        f"Jag är inte helt säker på att jag förstod, men om din fråga gäller "
        f"{topic_name.lower()} kan {helper} hjälpa dig. "
        f"{our_voice(pitch or organisation.summary)} {contact_line(organisation)}"
    ).strip()


def hedged_named(organisation: OrganisationView) -> str:
    """The fallback's guess when the message itself names the organisation."""
    helper = "vi på " + organisation.name if is_self(organisation) else organisation.name
    return (
        f"Jag är inte helt säker på att jag förstod, men det här kan {helper} hjälpa dig med. "
        f"{our_voice(organisation.summary)} {contact_line(organisation)}"
    ).strip()


def more_options(targets: Sequence[tuple[OrganisationView, str]]) -> str:
    """Reply to 'finns det något mer?' with the next targets."""
    if not targets:
        return ("Det var de kontakter jag har för din fråga. Vill du prata med en rådgivare "
                "kan jag koppla dig vidare.")
    lines = ["Här är fler som kan hjälpa dig:"]
    for organisation, pitch in targets:
        label = _capitalised(named(organisation))
        lines.append(f"• {label}: {our_voice(pitch or organisation.summary)}")
    return "\n".join(lines)


def ended_scheme(scheme: SchemeView, runner: OrganisationView) -> str:
    """'Y hade hand om X, men stödet har upphört (gällde ...). <what applies now>'"""
    if scheme.start_date and scheme.end_date:
        ended = (f"men stödet har upphört (gällde {swedish_date(scheme.start_date)}–"
                 f"{swedish_date(scheme.end_date)})")
    elif scheme.end_date:
        ended = f"men stödet upphörde den {swedish_date(scheme.end_date)}"
    else:
        ended = "men stödet har upphört"
    first = f"{_capitalised(named(runner))} hade hand om {_lower_first(scheme.name)}, {ended}."
    return " ".join(s for s in (first, our_voice(scheme.now_applies)) if s)


def active_scheme(scheme: SchemeView, runner: OrganisationView) -> str:
    return (f"{_capitalised(named(runner))} har hand om {_lower_first(scheme.name)}. "
            f"{our_voice(scheme.summary)}").strip()


def _lower_first(name: str) -> str:
    # "Omställningsstöd" reads "omställningsstöd" mid-sentence; acronyms stay as they are.
    if len(name) > 1 and name[0].isupper() and not name[1].isupper():
        return name[0].lower() + name[1:]
    return name
