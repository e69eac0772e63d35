"""The admin's personal-data page: find a person, export as JSON (art. 15), erase (art. 17)
with a confirmation; both are in the history with counts only; advisors are kept out."""

from __future__ import annotations

import json
from collections.abc import Callable

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from core.audit import AuditEntry
from tests.admin.conftest import AdminBrowser
from tests.gateway.conftest import AdvisorAccount, Widget, core_of

EMAIL = "eva.ek@exempel.se"


async def left_a_ticket(widget: Callable[..., Widget]) -> str:
    company = widget()
    await company.connect()
    await company.say("Vi behöver ett lån, ring mig")
    await company.send({"type": "ticket", "client_id": "ticket-0001-abcdef", "name": "Eva Ek",
                        "email": EMAIL, "phone": "070-111 22 33", "question": "Hur söker vi lån?"})
    assert company.frames is not None
    await company.frames.wait_type("ticket_created")
    assert company.conversation_id is not None
    return company.conversation_id


async def test_an_admin_finds_exports_and_erases_a_persons_data(
    admin_browser: AdminBrowser, widget: Callable[..., Widget], gateway: TestClient
) -> None:
    conversation_id = await left_a_ticket(widget)

    status, html = await admin_browser.get("/admin/privacy?vad=phone&varde=%2B46701112233")
    assert status == 200
    assert conversation_id in html and "Radera allt om personen" in html

    async with admin_browser.session.post(
        f"{admin_browser.base}/admin/privacy/export",
        data={"csrf_token": admin_browser.csrf, "vad": "email", "varde": EMAIL},
        headers={"Origin": admin_browser.origin},
    ) as response:
        assert response.status == 200
        assert "attachment" in response.headers["Content-Disposition"]
        exported = json.loads(await response.text())
    [conversation] = exported["conversations"]
    assert conversation["id"] == conversation_id
    assert "Vi behöver ett lån, ring mig" in [m["text"] for m in conversation["messages"]]
    assert [t["email"] for t in exported["tickets"]] == [EMAIL]

    status, html, _ = await admin_browser.post("/admin/privacy/erase", {"vad": "email", "varde": EMAIL})
    assert status == 400 and "Kryssa i rutan" in html  # not confirmed: nothing erased
    status, html, final = await admin_browser.post(
        "/admin/privacy/erase", {"vad": "email", "varde": EMAIL, "bekrafta": "ja"}
    )
    assert status == 200 and "Uppgifterna är raderade" in html and "n_conversations=1" in final
    status, html = await admin_browser.get(f"/admin/privacy?vad=conversation&varde={conversation_id}")
    assert "Inget sparat hittades" in html

    async with core_of(gateway).ctx.sessions() as s:
        query = select(AuditEntry).where(AuditEntry.entity == "personal_data").order_by(AuditEntry.id)
        entries = list(await s.scalars(query))
    assert [e.action for e in entries] == ["exported", "erased"]
    erased = entries[1]
    assert erased.before is None and erased.after is not None
    assert erased.after["conversations"] == 1 and erased.after["tickets"] == 1
    assert EMAIL not in json.dumps(erased.after) and "lån" not in json.dumps(erased.after)
    status, html = await admin_browser.get("/admin/history")
    assert "raderade personuppgifter" in html


async def test_an_advisor_may_not_see_or_erase_personal_data(
    form_browser: Callable[[], AdminBrowser], advisor: AdvisorAccount
) -> None:
    page = form_browser()
    await page.login(advisor)
    status, _ = await page.get("/admin/privacy?vad=email&varde=x%40y.se")
    assert status == 403
    status, _, _ = await page.post("/admin/privacy/erase", {"vad": "email", "varde": "x@y.se", "bekrafta": "ja"})
    assert status == 403
