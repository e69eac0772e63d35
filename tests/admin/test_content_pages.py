"""Intents, examples and responses through the admin's forms (no JavaScript): what an admin
sees, what is saved, and what happens when a save is refused or comes too late."""

from __future__ import annotations

import asyncio
import html as html_lib
import re
from collections.abc import Callable

from sqlalchemy import select

from content.models import Example, Intent, Response
from core.db import make_engine, make_sessionmaker
from core.editing import STALE
from tests.admin.conftest import AdminBrowser
from tests.gateway.conftest import AdvisorAccount


def query(db_url: str, statement: object) -> list[object]:
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        rows = list(session.scalars(statement))  # type: ignore[call-overload]
    engine.dispose()
    return rows


def texts(db_url: str, intent: str) -> list[str]:
    return [str(t) for t in query(db_url, select(Example.text).join(Intent).where(Intent.name == intent)
                                  .order_by(Example.id))]


def unescape(html: str) -> str:
    return html_lib.unescape(html)


async def test_the_intent_list_shows_each_intents_examples_and_f1(admin_browser: AdminBrowser) -> None:
    status, html = await admin_browser.get("/admin/intents")
    assert status == 200
    row = re.search(r'<a href="/admin/intents/out_of_scope">out_of_scope</a>.*?</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num[^"]*">([^<]*)</td>', row.group(0))
    assert cells == ["342", "0,85"]  # examples in data/nlu; cross-validated F1 0.851 in bench/results.json


async def test_an_admin_creates_a_conversation_intent_with_its_answer(
    admin_browser: AdminBrowser, db_url: str
) -> None:
    status, html, path = await admin_browser.post("/admin/intents/new", {
        "name": "ask_parking", "kind": "conversation", "description": "Parkering vid kontoret",
        "examples": "var kan jag parkera\nfinns det parkering hos er\n",
        "answer": "Det finns gästparkering vid entrén.",
    })
    assert (status, path) == (200, "/admin/intents/ask_parking?klart=skapad")
    assert "Skapad." in html and "var kan jag parkera" in html
    assert texts(db_url, "ask_parking") == ["var kan jag parkera", "finns det parkering hos er"]
    status, html = await admin_browser.get("/admin/intents")
    row = re.search(r'intents/ask_parking">ask_parking</a>.*?</tr>', html, re.S)
    assert row is not None and re.findall(r'<td class="num[^"]*">([^<]*)</td>', row.group(0)) == ["2", "–"]
    variations = query(db_url, select(Response.variations).where(Response.name == "utter_ask_parking"))
    assert variations == [[{"text": "Det finns gästparkering vid entrén."}]]


async def test_a_refused_new_intent_comes_back_with_the_reasons_and_everything_typed(
    admin_browser: AdminBrowser, db_url: str
) -> None:
    status, html, _ = await admin_browser.post("/admin/intents/new", {
        "name": "Parkering Nu", "kind": "conversation", "examples": "bara ett exempel", "answer": "Hej {kund}!",
    })
    page = unescape(html)
    assert status == 400
    assert "Ändringen är inte sparad" in page
    assert "”Parkering Nu” går inte att använda som namn" in page
    assert "Skriv minst 2 exempel" in page
    assert "{kund}" in page and "ingen uppgift (slot)" in page
    assert 'value="Parkering Nu"' in page and ">bara ett exempel</textarea>" in page
    assert query(db_url, select(Intent.name).where(Intent.name.like("%arkering%"))) == []


async def test_an_example_of_100_kb_is_refused_in_swedish_and_kept_in_the_form(
    admin_browser: AdminBrowser, db_url: str
) -> None:
    before = texts(db_url, "financing")
    huge = "lån " * 25_600
    status, html, _ = await admin_browser.post("/admin/intents/financing", {"do": "add", "examples": huge})
    assert status == 400
    assert "Exemplet är 102 399 tecken långt; ett exempel får vara högst 500 tecken." in unescape(html)
    assert huge.strip() in html  # the text is still in the form: nothing lost
    assert texts(db_url, "financing") == before


async def test_examples_are_added_one_per_line_and_duplicates_are_named(
    admin_browser: AdminBrowser, db_url: str
) -> None:
    taken = texts(db_url, "tax_general")[0]
    status, html, _ = await admin_browser.post("/admin/intents/financing", {
        "do": "add", "examples": f"lån till en ny ugn\n{taken}"})
    assert status == 400 and "är redan ett exempel på tax_general" in unescape(html)
    status, html, path = await admin_browser.post("/admin/intents/financing", {
        "do": "add", "examples": "lån till en ny ugn\n- lån till ett nytt kylrum\n"})
    assert path == "/admin/intents/financing?klart=tillagda"
    assert texts(db_url, "financing")[-2:] == ["lån till en ny ugn", "lån till ett nytt kylrum"]


async def test_checked_examples_move_to_another_intent(admin_browser: AdminBrowser, db_url: str) -> None:
    _, html = await admin_browser.get("/admin/intents/tax_general")
    boxes = re.findall(r'name="example" value="(\d+:\d+)"', html)[:2]
    moved = texts(db_url, "tax_general")[:2]
    _, _, path = await admin_browser.post(
        "/admin/intents/tax_general", [("do", "bulk"), ("bulk", "move"), ("target", "tax_deferral"),
                                        *(("example", b) for b in boxes)])
    assert path == "/admin/intents/tax_general?klart=flyttade"
    assert set(moved) <= set(texts(db_url, "tax_deferral"))


async def test_two_admins_editing_one_example_the_second_is_told_and_keeps_their_text(
    admin_browser: AdminBrowser, form_browser: Callable[[], AdminBrowser],
    make_admin: Callable[[str, str], AdvisorAccount], db_url: str,
) -> None:
    other = form_browser()
    await other.login(await asyncio.to_thread(make_admin, "olle.ek@foretagssupport.se", "Olle Ek"))
    _, html = await admin_browser.get("/admin/intents/greet")
    example_id = re.search(r'/admin/examples/(\d+)"', html).group(1)  # type: ignore[union-attr]
    await admin_browser.get(f"/admin/examples/{example_id}")  # both admins open the form
    _, second_form = await other.get(f"/admin/examples/{example_id}")
    version = re.search(r'name="version" value="(\d+)"', second_form).group(1)  # type: ignore[union-attr]

    status, _, _ = await admin_browser.post(f"/admin/examples/{example_id}", {
        "do": "save", "version": version, "intent": "greet", "text": "hej hej på er"})
    assert status == 200
    status, html, _ = await other.post(f"/admin/examples/{example_id}", {
        "do": "save", "version": version, "intent": "greet", "text": "goddag på er"})
    page = unescape(html)
    assert status == 409
    assert STALE in page
    assert ">hej hej på er</textarea>" in page  # the latest version in the form
    assert "readonly" in page and "goddag på er" in page  # and the second admin's text, not lost
    assert "hej hej på er" in texts(db_url, "greet") and "goddag på er" not in texts(db_url, "greet")


async def test_a_response_is_edited_with_its_variations_and_buttons(admin_browser: AdminBrowser, db_url: str) -> None:
    status, html = await admin_browser.get("/admin/responses/utter_no_referral")
    assert status == 200 and "Används i" in html and "action_referral" in html  # sent by actions/referral.py
    version = re.search(r'name="version" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    form = {"version": version, "text_0": "Jag hittar ingen bra kontakt för det. Vill du prata med en rådgivare?",
            "button_0_title_0": "Ja, gärna", "button_0_payload_0": "/request_human",
            "button_0_title_1": "", "button_0_payload_1": "",
            "text_1": "Det kan jag tyvärr inte svara på. Ska jag koppla dig till en rådgivare?",
            "button_1_title_0": "", "button_1_payload_0": ""}
    status, html, path = await admin_browser.post("/admin/responses/utter_no_referral", form)
    assert path == "/admin/responses/utter_no_referral?klart=sparat"
    saved = query(db_url, select(Response.variations).where(Response.name == "utter_no_referral"))[0]
    assert saved == [
        {"text": form["text_0"], "buttons": [{"title": "Ja, gärna", "payload": "/request_human"}]},
        {"text": form["text_1"]},
    ]


async def test_a_response_with_an_unknown_slot_or_intent_is_refused(admin_browser: AdminBrowser) -> None:
    _, html = await admin_browser.get("/admin/responses/utter_thank")
    version = re.search(r'name="version" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    status, html, _ = await admin_browser.post("/admin/responses/utter_thank", {
        "version": version, "text_0": "Tack {förnamn}!", "button_0_title_0": "Mer", "button_0_payload_0": "/mer_info"})
    page = unescape(html)
    assert status == 400
    assert "Variant 1 använder {förnamn}" in page
    assert "skickar /mer_info, men det finns ingen aktiv avsikt mer_info" in page
    assert ">Tack {förnamn}!</textarea>" in page


async def test_the_where_used_list_names_rules_stories_and_actions(admin_browser: AdminBrowser) -> None:
    _, html = await admin_browser.get("/admin/responses")
    page = unescape(html)
    greet = re.search(r"utter_greet</a>.*?</tr>", page, re.S)
    assert greet is not None
    assert "Svar på avsikten greet" in greet.group(0)
    assert "Berättelse: a greeting, a question and a request for a human" in greet.group(0)
    rephrase = re.search(r"utter_ask_rephrase</a>.*?</tr>", page, re.S)
    assert rephrase is not None and "Skickas av action_fallback (actions/handoff.py)" in rephrase.group(0)


async def test_retiring_an_intent_and_restoring_it(admin_browser: AdminBrowser, db_url: str) -> None:
    _, html = await admin_browser.get("/admin/intents/thank")
    version = re.search(r'name="version" value="(\d+)"', html).group(1)  # type: ignore[union-attr]
    _, html, path = await admin_browser.post("/admin/intents/thank", {"do": "retire", "version": version})
    assert path == "/admin/intents/thank?klart=avvecklad" and "avvecklad" in html
    assert query(db_url, select(Intent.retired).where(Intent.name == "thank")) == [True]
    _, html = await admin_browser.get("/admin/intents")
    assert "/admin/intents/thank" not in html and "Visa även avvecklade (1)" in html


async def test_one_example_is_moved_or_deleted_from_its_own_page(admin_browser: AdminBrowser, db_url: str) -> None:
    first, second = texts(db_url, "greet")[:2]
    _, html = await admin_browser.get("/admin/intents/greet")
    ids = re.findall(r'/admin/examples/(\d+)"', html)[:2]
    _, form = await admin_browser.get(f"/admin/examples/{ids[0]}")
    version = re.search(r'name="version" value="(\d+)"', form).group(1)  # type: ignore[union-attr]
    status, html, _ = await admin_browser.post(f"/admin/examples/{ids[0]}", {"do": "move", "version": version})
    assert status == 400 and "Välj vilken avsikt exemplet ska flyttas till." in html
    _, _, path = await admin_browser.post(f"/admin/examples/{ids[0]}", {"do": "move", "version": version,
                                                                        "target": "thank"})
    assert path == "/admin/intents/thank?klart=flyttade" and first in texts(db_url, "thank")
    _, form = await admin_browser.get(f"/admin/examples/{ids[1]}")
    version = re.search(r'name="version" value="(\d+)"', form).group(1)  # type: ignore[union-attr]
    _, _, path = await admin_browser.post(f"/admin/examples/{ids[1]}", {"do": "delete", "version": version})
    assert path == "/admin/intents/greet?klart=borttagna" and second not in texts(db_url, "greet")
