"""The analytics page, an advisor's own figures, the CSV export and the lägesbild, through
the gateway as a browser without JavaScript uses them (the hand-built week of
`analytics_data`; the gateway's clock stands on Tuesday 8 December 2026)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
import re
from collections.abc import Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from bot.admin.analytics import lagesbild
from bot.admin.analytics.models import LagesbildReport
from bot.app import lagesbild_context
from bot.conversation.models import Message, MessageNlu
from bot.web.keys import clock_key, db_key, retention_key
from core.db import AsyncDatabase, make_engine, make_sessionmaker
from tests.admin.analytics_data import MONDAY, Team, build
from tests.admin.conftest import AdminBrowser
from tests.gateway.conftest import AdvisorAccount

WEEK = "fran=2026-11-30&till=2026-12-06"


def seed_week(db_url: str, team: Team) -> None:
    engine = make_engine(db_url)
    factory = make_sessionmaker(engine)
    build(factory, team=team)
    # a typical question that holds personal data, to be quoted masked
    with factory.begin() as s:
        s.execute(update(Message).where(Message.conversation_id == "c3", Message.seq == 1).values(
            text="Hur startar jag eget företag? Mitt personnummer är 19121212-1212, ring 070-123 45 67"))
    engine.dispose()


@pytest.fixture
async def week(db_url: str, advisor: AdvisorAccount, admin: AdvisorAccount) -> Team:
    team = Team(advisor.id, admin.id)
    await asyncio.to_thread(seed_week, db_url, team)
    return team


async def test_the_admin_sees_every_chart_with_its_table_and_csv(admin_browser: AdminBrowser, week: Team) -> None:
    status, html = await admin_browser.get(f"/admin/analytics?{WEEK}")
    assert status == 200
    for chart_id in ("samtal-per-dag", "utfall", "overlamningsorsaker", "fallback", "obesvarade", "hanvisningar",
                     "vantetider", "csat"):
        assert f'id="diagram-{chart_id}"' in html
        assert f"diagram={chart_id}" in html  # its CSV
    assert html.count("<svg class=\"svg-chart\" role=\"img\"") == 7
    assert html.count("<svg class=\"svg-chart\" role=\"group\"") == 1  # its bars are links
    assert "<title id=\"svg-titel-utfall\">" in html
    assert "40,0\u00a0%" in html  # containment: 2 of 5
    assert "Klagomål" in html and "Boten förstod inte" in html
    assert "kan ni hjälpa med min katt" in html.lower()
    # one click from the unanswered questions to the review list, same period, fallbacks only
    assert 'href="/admin/review?fallback=1&amp;fran=2026-11-30&amp;till=2026-12-06"' in html
    assert "2 min" in html and "10 min" in html  # queue wait p50 and p90


async def test_csv_export_holds_the_charts_data(admin_browser: AdminBrowser, week: Team) -> None:
    async with admin_browser.session.get(
        f"{admin_browser.base}/admin/analytics.csv?{WEEK}&diagram=samtal-per-dag") as response:
        assert response.status == 200
        assert response.content_type == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        text = (await response.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["Dag", "Webb", "Slack", "Teams", "Totalt"]
    assert rows[1] == ["2026-11-30", "2", "0", "0", "2"]
    assert len(rows) == 1 + 7
    status, body = await admin_browser.get(f"/admin/analytics.csv?{WEEK}&diagram=finns-inte")
    assert status == 404 and "inget diagram" in body


async def test_filters_narrow_the_figures_and_bad_ones_are_explained(admin_browser: AdminBrowser,
                                                                    week: Team) -> None:
    status, html = await admin_browser.get(f"/admin/analytics?{WEEK}&kommun=V%C3%A4ster%C3%A5s")
    assert status == 200
    assert re.search(r'<span class="kpi-value">2</span><span class="kpi-label">samtal', html)
    status, html = await admin_browser.get("/admin/analytics?fran=2026-12-06&till=2026-11-30")
    assert status == 400 and "Från-datumet ligger efter till-datumet" in html
    status, html = await admin_browser.get("/admin/analytics?fran=igår")
    assert status == 400 and "är inget datum" in html


async def test_an_advisor_sees_only_their_own_figures(form_browser: Callable[[], AdminBrowser], advisor: AdvisorAccount,
                                                      week: Team) -> None:
    page = form_browser()
    assert await page.login(advisor) == 303
    status, html = await page.get(f"/statistik?{WEEK}")
    assert status == 200
    assert "Min statistik" in html
    assert re.search(r'<span class="kpi-value">2</span><span class="kpi-label">samtal', html)  # c2 and c5
    assert 'id="diagram-obesvarade"' not in html and 'id="diagram-fallback"' not in html
    assert "Bo Ek" not in html and "Eva Ek" not in html  # no colleague's rating
    assert 'href="/admin/analytics"' not in html  # an advisor's menu has no admin pages
    status, _ = await page.get(f"/statistik.csv?{WEEK}&diagram=obesvarade")
    assert status == 404
    for path in ("/admin/analytics", f"/admin/analytics.csv?{WEEK}&diagram=utfall", "/admin/lagesbild"):
        status, _ = await page.get(path)
        assert status == 403, path


async def test_without_a_session_the_own_figures_lead_to_the_login(form_browser: Callable[[], AdminBrowser]) -> None:
    page = form_browser()
    status, _ = await page.get("/statistik")
    assert status == 303


async def test_a_lagesbild_on_demand_with_masked_quotes_and_a_printable_page(
    admin_browser: AdminBrowser, week: Team, db_url: str
) -> None:
    status, html, final = await admin_browser.post("/admin/lagesbild", {"vecka": "2026-12-02"})
    assert status == 200 and re.fullmatch(r"/admin/lagesbild/\d+", final)
    assert "Lägesbild v. 49 2026" in html
    assert "Starta företag" in html  # the topic by its directory name
    assert "[personnummer borttaget]" in html and "[telefonnummer borttaget]" in html
    assert "19121212-1212" not in html and "070-123" not in html
    assert 'id="diagram-amnen"' in html and 'id="diagram-situationer"' in html
    async with admin_browser.session.get(f"{admin_browser.base}{final}.csv?diagram=amnen") as response:
        assert response.status == 200
        rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Ämne", "Antal denna vecka", "Snitt fyra veckor före", "Trend"]
    assert ["Starta företag", "2", "0,25", "oförändrad"] in rows  # c3 (and c1) this week; c0 the week before
    status, printable = await admin_browser.get(f"{final}/utskrift")
    assert status == 200 and 'class="print-page"' in printable and 'class="topbar"' not in printable
    status, listing = await admin_browser.get("/admin/lagesbild")
    assert status == 200 and "v. 49 2026" in listing and "Eva Ek" in listing
    status, body, _ = await admin_browser.post("/admin/lagesbild", {"vecka": "2027-01-20"}, follow=False)
    assert status == 400 and "Veckan har inte börjat" in body
    status, body, _ = await admin_browser.post("/admin/lagesbild", {"vecka": "snart"}, follow=False)
    assert status == 400 and "är inget datum" in body


def test_the_monday_run_stores_one_report_for_the_week_that_ended(db_url: str, week: Team) -> None:
    engine = make_engine(db_url)
    factory = make_sessionmaker(engine)
    monday_morning = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.timezone.utc)
    with factory.begin() as s:
        first = lagesbild.ensure_scheduled(s, monday_morning)
    with factory.begin() as s:
        again = lagesbild.ensure_scheduled(s, monday_morning + dt.timedelta(hours=5))
    with factory() as s:
        reports = list(s.scalars(select(LagesbildReport)))
        topics = {t["id"]: t for t in reports[0].data["topics"]}
        facets = s.execute(select(MessageNlu.municipality, MessageNlu.company_size)
                           .where(MessageNlu.conversation_id == "c3")).one()
    engine.dispose()
    assert first is not None and again is None
    assert [(r.week_start, r.kind) for r in reports] == [(MONDAY, "scheduled")]
    assert topics["start_business"]["count"] == 2
    assert topics["start_business"]["trend"] == "oförändrad"  # 2 against an average of 0.25: too few to call
    assert reports[0].data["handoffs"] == 3
    assert tuple(facets) == ("Västerås", "1–9")


async def test_the_gateway_runs_the_weekly_report_in_the_background(db_url: str, week: Team) -> None:
    """The gateway's duty stores last week's report by itself (checked every 0.05 s here)."""
    database = AsyncDatabase(db_url)
    app = web.Application()
    app[db_key] = database.sessions
    app[clock_key] = lambda: dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.timezone.utc)
    context = lagesbild_context(0.05)(app)
    await context.__anext__()
    try:
        for _ in range(100):
            async with database.sessions() as s:
                stored = list(await s.scalars(select(LagesbildReport.week_start)))
            if stored:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # more rounds: still one report
        async with database.sessions() as s:
            stored = list(await s.scalars(select(LagesbildReport.week_start)))
    finally:
        with contextlib.suppress(StopAsyncIteration):
            await context.__anext__()
        await database.dispose()
    assert stored == [MONDAY]


async def test_erasing_a_conversation_removes_its_words_from_every_stored_lagesbild(
    admin_browser: AdminBrowser, week: Team, db_url: str
) -> None:
    status, html, final = await admin_browser.post("/admin/lagesbild", {"vecka": "2026-12-02"})
    assert status == 200 and "Hur startar jag eget företag? Mitt personnummer är" in html
    status, _, _ = await admin_browser.post(
        "/admin/privacy/erase", {"vad": "conversation", "varde": "c3", "bekrafta": "ja"}
    )
    assert status == 200
    status, html = await admin_browser.get(final)
    assert status == 200
    assert "Hur startar jag eget företag? Mitt personnummer är" not in html  # c3's words are gone
    assert "Lägesbild v. 49 2026" in html and 'id="diagram-amnen"' in html  # the figures stay


async def test_a_lagesbild_keeps_its_quotes_only_as_long_as_the_transcripts(
    admin_browser: AdminBrowser, week: Team, db_url: str, gateway: TestClient
) -> None:
    status, _, final = await admin_browser.post("/admin/lagesbild", {"vecka": "2026-12-02"})
    assert status == 200
    report_id = int(final.rsplit("/", 1)[1])
    engine = make_engine(db_url)
    factory = make_sessionmaker(engine)

    def age_report() -> None:
        with factory.begin() as s:
            s.execute(update(LagesbildReport).where(LagesbildReport.id == report_id)
                      .values(generated_at=dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)))

    await asyncio.to_thread(age_report)
    counts = await gateway.app[retention_key].purge()
    assert counts["lagesbild_quotes"] >= 1

    def stored() -> dict[str, object]:
        with factory() as s:
            report = s.get(LagesbildReport, report_id)
            assert report is not None
            return report.data

    data = await asyncio.to_thread(stored)
    engine.dispose()
    assert data["quotes"] == []
    assert data["topics"]  # the figures stay
