"""The directory editor's forms: an alias, a contact, a topic's targets; the review flag;
and a save that comes too late."""

from __future__ import annotations

import asyncio
import datetime as dt
import html as html_lib
import re
from collections.abc import Callable

from sqlalchemy import update

from core.db import make_engine, make_sessionmaker, transaction
from core.editing import STALE
from directory import queries
from directory.models import Organisation
from tests.admin.conftest import AdminBrowser
from tests.gateway.conftest import AdvisorAccount


def form_fields(html: str) -> list[tuple[str, str]]:
    """The fields a browser would submit from the page's (first POST) form as it stands."""
    form = re.search(r'<form method="post" action="/admin/directory[^"]*">(.*?)</form>', html, re.S)
    assert form is not None
    body = form.group(1)
    fields: list[tuple[str, str]] = []
    pattern = r"<input\b([^>]*)>|<textarea\b([^>]*)>(.*?)</textarea>|<select\b([^>]*)>(.*?)</select>"
    for tag in re.finditer(pattern, body, re.S):
        attrs = tag.group(1) or tag.group(2) or tag.group(4) or ""
        name = re.search(r'name="([^"]+)"', attrs)
        if name is None or name.group(1) == "csrf_token":
            continue
        if tag.group(1) is not None:
            if re.search(r'type="(checkbox|radio)"', attrs) and "checked" not in attrs:
                continue
            value = re.search(r'value="([^"]*)"', attrs)
            fields.append((name.group(1), html_lib.unescape(value.group(1)) if value else ""))
        elif tag.group(2) is not None:
            fields.append((name.group(1), html_lib.unescape(tag.group(3))))
        else:
            options = tag.group(5)
            chosen = re.search(r'<option value="([^"]*)" selected', options) or re.search(r'<option value="([^"]*)"',
                                                                                           options)
            fields.append((name.group(1), chosen.group(1) if chosen else ""))
    return fields


def replace(fields: list[tuple[str, str]], **changes: str) -> list[tuple[str, str]]:
    return [(k, changes.pop(k) if k in changes else v) for k, v in fields] + list(changes.items())


def names(db_url: str) -> dict[str, list[str]]:
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        found = queries.organisation_names(session)
    engine.dispose()
    return found


async def test_an_alias_added_in_the_editor_is_in_the_directory_at_once(
    admin_browser: AdminBrowser, db_url: str
) -> None:
    _, html = await admin_browser.get("/admin/directory/organisations/almi")
    fields = form_fields(html)
    aliases = dict(fields)["aliases"]
    status, html, path = await admin_browser.post(
        "/admin/directory/organisations/almi", replace(fields, aliases=aliases + "\nLånebolaget"))
    assert (status, path) == (200, "/admin/directory/organisations/almi?klart=sparat")
    assert "Lånebolaget" in names(db_url)["almi"]


async def test_a_contact_row_is_added_and_a_bad_one_is_explained(admin_browser: AdminBrowser, db_url: str) -> None:
    _, html = await admin_browser.get("/admin/directory/organisations/almi")
    fields = form_fields(html)
    blank = next(k for k, v in fields if k.startswith("contact_value_") and not v).rsplit("_", 1)[1]
    bad = replace(fields, **{f"contact_kind_{blank}": "web", f"contact_value_{blank}": "almi punkt se"})
    status, html, _ = await admin_browser.post("/admin/directory/organisations/almi", bad)
    assert status == 400 and "en webbadress börjar med https://" in html_lib.unescape(html)
    good = replace(fields, **{f"contact_kind_{blank}": "phone", f"contact_value_{blank}": "021-10 20 30",
                              f"contact_label_{blank}": "Växel"})
    status, _, _ = await admin_browser.post("/admin/directory/organisations/almi", good)
    assert status == 200
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        almi = session.get(Organisation, "almi")
        assert almi is not None and ("phone", "021-10 20 30", "Växel") in [(c.kind, c.value, c.label)
                                                                           for c in almi.contacts]
    engine.dispose()


async def test_a_topics_targets_are_reordered_by_their_numbers(admin_browser: AdminBrowser) -> None:
    _, html = await admin_browser.get("/admin/directory/topics/financing")
    fields = form_fields(html)
    orders = [k for k, v in fields if k.startswith("target_order_") and v]
    assert len(orders) >= 2
    first, second = orders[0], orders[1]
    swapped = replace(fields, **{first: "2", second: "1"})
    status, html, _ = await admin_browser.post("/admin/directory/topics/financing", swapped)
    assert status == 200
    before = [v for k, v in fields if k.startswith("target_organisation_") and v]
    after = re.findall(r'name="target_organisation_\d+">.*?<option value="([^"]+)" selected', html, re.S)
    assert after[:2] == [before[1], before[0]]


async def test_entries_not_reviewed_for_a_year_are_flagged(admin_browser: AdminBrowser, db_url: str) -> None:
    def age_ekn() -> None:
        engine = make_engine(db_url)
        with transaction(make_sessionmaker(engine)) as session:
            session.execute(update(Organisation).where(Organisation.id == "ekn").values(reviewed=dt.date(2025, 1, 2)))
        engine.dispose()

    await asyncio.to_thread(age_ekn)
    _, html = await admin_browser.get("/admin/directory")
    row = re.search(r'organisations/ekn">.*?</tr>', html, re.S)
    assert row is not None and "behöver granskas" in row.group(0)
    assert "1 poster har inte granskats" in html
    _, html = await admin_browser.get("/admin/directory/organisations/ekn")
    assert "Inte granskad mot källan på tolv månader" in html


async def test_a_directory_save_from_an_old_form_is_refused_and_the_text_kept(
    admin_browser: AdminBrowser, form_browser: Callable[[], AdminBrowser],
    make_admin: Callable[[str, str], AdvisorAccount], db_url: str,
) -> None:
    other = form_browser()
    await other.login(await asyncio.to_thread(make_admin, "olle.ek@foretagssupport.se", "Olle Ek"))
    _, html = await admin_browser.get("/admin/directory/organisations/almi")
    fields = form_fields(html)
    _, html_other = await other.get("/admin/directory/organisations/almi")
    fields_other = form_fields(html_other)
    await admin_browser.post("/admin/directory/organisations/almi", replace(fields, summary="Almi lånar ut pengar."))
    status, html, _ = await other.post("/admin/directory/organisations/almi",
                                       replace(fields_other, summary="Almi ger råd och lån."))
    page = html_lib.unescape(html)
    assert status == 409 and STALE in page
    assert ">Almi lånar ut pengar.</textarea>" in page and "Almi ger råd och lån." in page
