"""The shipped directory's facts: sourced, dated, never presenting an ended scheme as open.

Issue 13: every entry keeps the page its facts were checked against and the date; what could
not be confirmed is marked for an admin and kept out of the answers; korttidsarbete is
Skatteverket's (Tillväxtverket keeps only the pandemic-era cases).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from actions.referral import ActionReferral
from core.db import make_engine, make_sessionmaker, transaction
from directory import compose
from directory.seed import DEFAULT_DIRECTORY, load_seed, seed_directory
from directory.views import ContactView, OrganisationView, SchemeView
from scripts.db import upgrade

SEED = load_seed()
ORGANISATIONS = {o["id"]: o for o in SEED["organisations"]}
SCHEMES = {s["id"]: s for s in SEED["schemes"]}
TODAY = dt.date(2026, 12, 4)
# Words that say a scheme is over ("har upphört", "avslutat 2022", "går inte längre att söka").
ENDED_MARKERS = ("upphört", "upphörde", "avslutat", "avslutad", "inte längre", "inga nya",
                 "tas inte emot")
# A sentence that invites the company to apply ...
APPLYING = re.compile(r"\b(an)?sök\w*", re.IGNORECASE)
# ... is only allowed when it says that one cannot.
NEGATION = re.compile(r"\b(inte|inga|ingen|inget)\b", re.IGNORECASE)
PHONE = re.compile(r"\b0\d{1,3}-\d{2,3}(?: \d{2,3}){1,3}\b")


def organisation_view(entry: dict[str, Any]) -> OrganisationView:
    return OrganisationView(
        id=entry["id"], name=entry["name"], summary=entry["summary"],
        aliases=tuple(entry["aliases"]), kind=entry["kind"],
        reached_through=entry["reached_through"],
        contacts=tuple(ContactView(c["kind"], c["value"], c["label"]) for c in entry["contacts"]),
    )


def scheme_view(entry: dict[str, Any]) -> SchemeView:
    def date(value: str | None) -> dt.date | None:
        return dt.date.fromisoformat(value) if value else None

    return SchemeView(
        id=entry["id"], name=entry["name"], organisation_id=entry["organisation"],
        status=entry["status"], summary=entry["summary"], aliases=tuple(entry["aliases"]),
        start_date=date(entry["start_date"]), end_date=date(entry["end_date"]),
        now_applies=entry["now_applies"], now_targets=tuple(entry["now_targets"]),
    )


def referral(text: str, intents: list[tuple[str, float]],
             entities: list[tuple[str, str]] = ()) -> str:  # type: ignore[assignment]
    ranking = [{"name": n, "confidence": c} for n, c in intents]
    tracker = Tracker.from_dict({
        "sender_id": "review", "slots": {}, "paused": False, "followup_action": None,
        "active_loop": {}, "latest_action_name": "action_listen",
        "events": [{"event": "user", "text": text, "parse_data": {"intent": ranking[0]}}],
        "latest_message": {"text": text, "intent": ranking[0], "intent_ranking": ranking,
                           "entities": [{"entity": e, "value": v} for e, v in entities]},
    })
    dispatcher = CollectingDispatcher()
    ActionReferral().run(dispatcher, tracker, {})
    return str(dispatcher.messages[0]["text"])


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


# --- Every entry says where its facts come from and when they were checked ---------------


@pytest.mark.parametrize("kind", ["organisations", "schemes"])
def test_every_entry_keeps_the_url_of_its_source_and_the_date_it_was_reviewed(kind: str) -> None:
    for entry in SEED[kind]:
        assert re.match(r"https?://\S+$", entry.get("source_url", "")), (
            f"{kind}/{entry['id']} has no source URL")
        assert entry["source"], f"{kind}/{entry['id']} does not say what the source is"
        reviewed = dt.date.fromisoformat(entry["reviewed"])
        assert reviewed <= TODAY, f"{kind}/{entry['id']} reviewed in the future"


def test_what_could_not_be_confirmed_is_marked_and_kept_out_of_the_answers() -> None:
    """A phone number an admin must still confirm is neither a contact nor in a summary."""
    for org in SEED["organisations"]:
        card = compose.contact_details(organisation_view(org))
        for number in (m.group() for m in PHONE.finditer(org.get("to_check", ""))):
            assert number not in card, f"{org['id']}: unconfirmed {number} in the contact card"
            assert number not in org["summary"], f"{org['id']}: unconfirmed {number} in summary"


# --- Every contact card has a web address and, where one is published, a phone -------------


@pytest.mark.parametrize("org_id", sorted(ORGANISATIONS))
def test_every_contact_card_has_a_web_address_and_a_phone_where_one_is_published(org_id: str) -> None:
    entry = ORGANISATIONS[org_id]
    via = ORGANISATIONS.get(entry["reached_through"] or "")
    card = compose.contact_details(organisation_view(entry), organisation_view(via) if via else None)
    reachable = [entry, *([via] if via else [])]
    assert re.search(r"https?://", card), f"{org_id}: no web address on the contact card"
    phones = [c["value"] for e in reachable for c in e["contacts"] if c["kind"] == "phone"]
    publishes = entry.get("publishes_phone")
    if publishes:
        assert phones and all(p in card for p in phones), f"{org_id}: published phone missing"
        assert all(PHONE.fullmatch(p) for p in phones), f"{org_id}: malformed phone {phones}"
    elif publishes is None:
        # Not confirmed yet: the entry must tell an admin so.
        assert "telefon" in entry.get("to_check", "").lower() or via is not None, (
            f"{org_id}: unknown whether it publishes a phone, and to_check does not say so")


def test_almi_publishes_no_phone_number() -> None:
    almi = ORGANISATIONS["almi"]
    assert almi["publishes_phone"] is False
    assert not [c for c in almi["contacts"] if c["kind"] == "phone"]


# --- No answer presents an ended scheme as open -----------------------------------------------


@pytest.mark.parametrize("scheme_id", sorted(s for s in SCHEMES if SCHEMES[s]["status"] == "ended"))
def test_an_ended_scheme_is_answered_as_ended_with_its_date_and_what_applies_now(
    scheme_id: str, seeded_sessions: sessionmaker[Session],
) -> None:
    scheme = SCHEMES[scheme_id]
    runner = ORGANISATIONS[scheme["organisation"]]
    text = referral(f"kan vi söka {scheme['name'].lower()}?", [("crisis_general", 0.6)],
                    [("scheme", scheme["name"])])
    assert text.startswith(f"{runner['name']} hade hand om"), text
    assert any(marker in text for marker in ("har upphört", "upphörde")), text
    assert compose.swedish_date(dt.date.fromisoformat(scheme["end_date"])) in text
    assert scheme["now_applies"] and scheme["now_targets"]
    for sentence in sentences(text):
        if APPLYING.search(sentence):
            assert NEGATION.search(sentence), f"{scheme_id}: invites applying: {sentence!r}"


@pytest.mark.parametrize("scheme_id", sorted(s for s in SCHEMES if SCHEMES[s]["status"] == "active"))
def test_an_active_scheme_is_open_today_and_its_answer_does_not_call_it_ended(scheme_id: str) -> None:
    scheme = scheme_view(SCHEMES[scheme_id])
    assert not scheme.has_ended(TODAY)
    runner = organisation_view(ORGANISATIONS[scheme.organisation_id])
    text = compose.active_scheme(scheme, runner)
    assert text.startswith(f"{runner.name} har hand om")
    assert "har upphört" not in text and "upphörde" not in text


def _mentions(text: str, scheme: dict[str, Any]) -> bool:
    folded = compose.fold(text)
    return any(
        re.search(rf"\b{re.escape(compose.fold(name))}\b", folded)
        for name in [scheme["name"], *scheme["aliases"]]
    )


def test_pitches_and_summaries_that_mention_an_ended_scheme_say_it_has_ended() -> None:
    """Texts about the organisation that ran an ended scheme never present it as open."""
    ended = [s for s in SEED["schemes"] if s["status"] == "ended"]
    texts: list[tuple[str, str, set[str]]] = [
        (f"organisations/{o['id']}", o["summary"], {o["id"]}) for o in SEED["organisations"]
    ]
    for topic in SEED["topics"]:
        for target in topic["targets"]:
            texts.append((f"topics/{topic['id']}/{target['target']}", target["pitch"],
                          {t["target"] for t in topic["targets"]}))
    for where, text, organisations in texts:
        for scheme in ended:
            if scheme["organisation"] in organisations and _mentions(text, scheme):
                assert any(m in text for m in ENDED_MARKERS), (
                    f"{where} mentions {scheme['id']} without saying it has ended")


# --- Korttidsarbete is Skatteverket's --------------------------------------------------------


def test_a_korttidsarbete_question_is_referred_to_skatteverket_first(
    seeded_sessions: sessionmaker[Session],
) -> None:
    text = referral("hur ansöker vi om stöd för korttidsarbete?", [("short_time_work", 0.9)],
                    [("scheme", "korttidsarbete")])
    assert text.startswith("Vänd dig till Skatteverket.")
    # ... and says where the pandemic's cases still go.
    assert "31 mars 2022" in text and "Tillväxtverket" in text


def test_korttidsarbete_goes_to_skatteverket_even_when_tillvaxtverket_is_named(
    seeded_sessions: sessionmaker[Session],
) -> None:
    text = referral("kan vi söka korttidsstöd hos tillväxtverket?", [("short_time_work", 0.8)],
                    [("organisation", "tillväxtverket"), ("scheme", "korttidsstöd")])
    assert text.startswith("Vänd dig till Skatteverket.")


def test_korttidsarbete_under_another_topic_is_still_skatteverkets(
    seeded_sessions: sessionmaker[Session],
) -> None:
    text = referral("vi har det tufft, finns korttidspermittering?", [("crisis_general", 0.5)],
                    [("scheme", "korttidspermittering")])
    assert text.startswith("Vänd dig till Skatteverket. Skatteverket har hand om stöd vid korttidsarbete.")
    assert "Tillväxtverket" in text


def test_the_directory_no_longer_sends_new_korttidsarbete_applications_to_tillvaxtverket() -> None:
    assert SCHEMES["korttidsarbete"]["organisation"] == "skatteverket"
    topic = next(t for t in SEED["topics"] if t["id"] == "short_time_work")
    assert topic["targets"][0]["target"] == "skatteverket"


# --- Seeding the reviewed directory into a database seeded before the review -----------------


def test_rows_seeded_before_the_review_fields_are_updated_not_mistaken_for_admin_edits(
    tmp_path: Path,
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for directory in (old, new):
        directory.mkdir()
    entry = {"id": "a", "name": "A", "summary": "Före granskningen.", "source": "s",
             "reviewed": "2026-11-21", "contacts": [{"kind": "web", "value": "https://a.se"}]}
    reviewed = {**entry, "summary": "Efter granskningen.", "reviewed": "2026-12-04",
                "source_url": "https://a.se/om", "to_check": "Telefon saknas.",
                "publishes_phone": None}
    for directory, org in ((old, entry), (new, reviewed)):
        (directory / "organisations.yml").write_text(
            yaml.safe_dump({"organisations": [org]}, allow_unicode=True), encoding="utf-8")
        (directory / "schemes.yml").write_text("schemes: []\n")
        (directory / "topics.yml").write_text("topics: []\n")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    try:
        with transaction(factory) as session:
            assert seed_directory(session, old).inserted == ["organisations/a"]
        with transaction(factory) as session:
            report = seed_directory(session, new)
        assert report.updated == ["organisations/a"] and not report.kept_admin_edit
        with transaction(factory) as session:
            assert not seed_directory(session, new).updated  # idempotent
    finally:
        engine.dispose()


def test_the_shipped_files_are_what_the_seed_reads() -> None:
    raw = yaml.safe_load((DEFAULT_DIRECTORY / "organisations.yml").read_text(encoding="utf-8"))
    assert len(raw["organisations"]) == len(SEED["organisations"])
