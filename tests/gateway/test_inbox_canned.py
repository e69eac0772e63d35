"""Canned replies: shared, Swedish, searchable, with placeholders filled in per chat."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp.test_utils import TestClient

from bot.conversation.models import Conversation
from bot.rules.canned import matches, render, unknown_placeholders, values_for
from tests.gateway.conftest import AdvisorAccount, Console, Widget, core_of, queued_conversation

# ---------------------------------------------------------------- the rules


def test_placeholders_are_filled_with_what_is_known_and_the_rest_is_reported() -> None:
    values = values_for("Ek Bygg AB", None, "Anna Berg")
    rendered = render("Hej {kontaktperson}! {rådgivare_förnamn} här. Gäller det {företag}? {företag}!", values)
    assert rendered.text == "Hej {kontaktperson}! Anna här. Gäller det Ek Bygg AB? Ek Bygg AB!"
    assert rendered.missing == ("kontaktperson",)
    assert render("Hälsningar, {rådgivare}", values).missing == ()
    assert values_for("  ", "Eva Ek", "Anna Berg") == {
        "rådgivare": "Anna Berg", "rådgivare_förnamn": "Anna", "kontaktperson": "Eva Ek",
    }


def test_a_misspelt_placeholder_is_caught_and_search_ignores_case_and_order() -> None:
    assert unknown_placeholders("Hej {foretag} och {företag} och {namn}") == ["foretag", "namn"]
    assert matches("Återkommer", "Jag återkommer till {företag}", "ÅTERK")
    assert matches("Ringa upp", "Vill du att vi ringer upp?", "upp ringa")
    assert not matches("Ringa upp", "Vill du att vi ringer upp?", "mejla")


# ---------------------------------------------------------------- the API


async def test_the_shared_swedish_set_is_there_from_the_start(
    console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    anna = console()
    await anna.login(advisor)
    status, body = await anna.get("/console/api/canned")
    assert status == 200
    titles = [c["title"] for c in body["canned"]]
    assert {"Hälsning", "Ett ögonblick", "Avslutning"} <= set(titles)
    assert body["placeholders"]["företag"] == "företagets namn"


async def test_canned_replies_are_filled_in_for_the_chat(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount,
    gateway: TestClient,
) -> None:
    conversation_id = await queued_conversation(widget())
    anna = console()
    await anna.login(advisor)
    status, body = await anna.post(
        f"/console/api/conversations/{conversation_id}/company",
        {"company_name": "Ek Bygg AB", "company_email": "eva@ekbygg.se"},
    )
    assert status == 200
    assert body["conversation"]["company_name"] == "Ek Bygg AB"
    async with core_of(gateway).ctx.sessions.begin() as s:
        conv = await s.get(Conversation, conversation_id)
        assert conv is not None
        conv.display_name = "Eva Ek"  # as Slack or Teams would give it

    _, body = await anna.get(f"/console/api/canned?conversation_id={conversation_id}")
    by_title = {c["title"]: c for c in body["canned"]}
    closing = by_title["Avslutning"]
    assert closing["text"].startswith("Tack för att du hörde av dig, Eva Ek!")
    assert closing["text"].endswith("Vänliga hälsningar, Anna Berg, Västmanlands Företagssupport")
    assert closing["missing"] == []
    assert "{företag}" in by_title["Återkommer"]["body"]
    assert "Ek Bygg AB" in by_title["Återkommer"]["text"]


async def test_advisors_add_change_and_remove_shared_replies(
    console: Callable[..., Console], advisor: AdvisorAccount, make_advisor: Callable[[str, str], AdvisorAccount]
) -> None:
    anna, bo = console(), console()
    await anna.login(advisor)
    await bo.login(make_advisor("bo.ek@foretagssupport.se", "Bo Ek"))
    status, body = await anna.post(
        "/console/api/canned", {"title": "Almi", "body": "Almi lånar ut till {företag}."}
    )
    assert status == 201
    canned_id = body["canned"]["id"]
    # Shared: Bo sees it and may change it.
    status, body = await bo.put(f"/console/api/canned/{canned_id}", {"title": "Almi lån", "body": "Almi kan låna ut."})
    assert status == 200 and body["canned"]["updated_by"]["name"] == "Bo Ek"
    _, listing = await anna.get("/console/api/canned")
    assert [c["body"] for c in listing["canned"] if c["id"] == canned_id] == ["Almi kan låna ut."]
    assert (await anna.delete(f"/console/api/canned/{canned_id}"))[0] == 200
    status, body = await anna.delete(f"/console/api/canned/{canned_id}")
    assert (status, body["error"]["message"]) == (404, "Snabbsvaret finns inte.")


async def test_bad_canned_replies_get_swedish_messages(
    console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    anna = console()
    await anna.login(advisor)
    cases = [
        ({"title": "", "body": "Hej"}, "Ge snabbsvaret en rubrik."),
        ({"title": "Hej", "body": "   "}, "Skriv snabbsvarets text."),
        ({"title": "Hej", "body": "Hej {foretag}"}, "Okänd platshållare {foretag}. Använd {företag}, "
         "{kontaktperson}, {rådgivare}, {rådgivare_förnamn}."),
    ]
    for payload, message in cases:
        status, body = await anna.post("/console/api/canned", payload)
        assert status == 400
        assert body["error"]["message"] == message
    # Without the CSRF token nothing changes.
    anna.csrf = "fel"
    assert (await anna.post("/console/api/canned", {"title": "A", "body": "B"}))[0] == 403
