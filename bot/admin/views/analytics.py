"""The analytics page (/admin/analytics, admins: the whole region), an advisor's own figures
(/statistik, any logged-in account: only the conversations they took), the CSV of every
chart, and the weekly lägesbild (/admin/lagesbild: list, on demand, report, print)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.accounts import auth
from bot.admin import access
from bot.admin.access import post_form, require_admin
from bot.admin.analytics import lagesbild
from bot.admin.analytics.charts import Chart
from bot.admin.analytics.models import LagesbildReport
from bot.admin.analytics.page import OWN_CHARTS, build_charts, review_link
from bot.admin.analytics.queries import NEEDS, Figures, Filters, figures
from bot.admin.pages import actor_of, now_of, page, read, transact
from bot.conversation.context import AdvisorRef
from bot.conversation.models import Advisor
from bot.rules import analytics as rules
from bot.web.keys import channel_labels_key, clock_key, db_key
from bot.web.session_cookie import session_token
from directory.queries import organisation_names

DEFAULT_DAYS = 28
MAX_DAYS = 400
FILTER_KEYS = ("fran", "till", "kanal", "kommun", "storlek")


def setup(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/analytics", analytics_page, name="admin_analytics")
    router.add_get("/admin/analytics.csv", analytics_csv, name="admin_analytics_csv")
    router.add_get("/statistik", own_page, name="own_statistics")
    router.add_get("/statistik.csv", own_csv, name="own_statistics_csv")
    router.add_get("/admin/lagesbild", reports_page, name="admin_lagesbild")
    router.add_post("/admin/lagesbild", create_report, name="admin_lagesbild_create")
    router.add_get("/admin/lagesbild/{id:\\d+}", report_page, name="admin_lagesbild_report")
    router.add_get("/admin/lagesbild/{id:\\d+}/utskrift", report_print, name="admin_lagesbild_print")
    router.add_get("/admin/lagesbild/{id:\\d+}.csv", report_csv, name="admin_lagesbild_csv")


class BadFilter(Exception):
    """A filter the page cannot use; the message says why, in Swedish."""


def filters_from(query: Mapping[str, str], today: dt.date, advisor_id: int | None = None) -> Filters:
    def day(key: str, default: dt.date) -> dt.date:
        raw = query.get(key, "").strip()
        if not raw:
            return default
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise BadFilter(f"”{raw}” är inget datum. Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-12-01.") \
                from None

    end = day("till", today)
    start = day("fran", end - dt.timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise BadFilter("Från-datumet ligger efter till-datumet. Byt plats på dem eller välj ett nytt datum.")
    if (end - start).days + 1 > MAX_DAYS:
        raise BadFilter(f"Perioden är för lång: välj högst {MAX_DAYS} dagar.")
    size = query.get("storlek", "").strip()
    if size and size not in rules.SIZE_BUCKETS:
        raise BadFilter("Okänd företagsstorlek. Välj en storlek i listan.")
    return Filters(start=start, end=end, channel=query.get("kanal", "").strip()[:16],
                   municipality=query.get("kommun", "").strip()[:64], size=size, advisor_id=advisor_id)


@dataclass(frozen=True)
class Shown:
    figures: Figures
    charts: list[Chart]


async def _figures(request: web.Request, filters: Filters, only: str | None = None) -> Shown:
    found = await read(request, figures, filters, only)
    names = {org_id: values[0] for org_id, values in (await read(request, organisation_names)).items()}
    charts = build_charts(found, request.app[channel_labels_key], names)
    return Shown(found, charts)


async def _signed_in(request: web.Request) -> AdvisorRef:
    account = await auth.session_advisor(request.app[db_key], session_token(request), request.app[clock_key]())
    if account is None:
        raise web.HTTPSeeOther(f"{access.LOGIN_PATH}?next={quote(request.path_qs, safe='')}")
    return account


def _today(request: web.Request) -> dt.date:
    return now_of(request).astimezone(dt.timezone.utc).date()


async def _render(request: web.Request, account: AdvisorRef, own: bool) -> web.Response:
    query = {k: v for k, v in request.query.items() if k in FILTER_KEYS}
    try:
        filters = filters_from(query, _today(request), account.id if own else None)
    except BadFilter as exc:
        filters = filters_from({}, _today(request), account.id if own else None)
        shown = await _figures(request, filters)
        return _page(request, account, own, shown, query, str(exc), status=400)
    return _page(request, account, own, await _figures(request, filters), query, None)


def _page(request: web.Request, account: AdvisorRef, own: bool, shown: Shown, query: Mapping[str, str],
          error: str | None, status: int = 200) -> web.Response:
    f = shown.figures.filters
    export_query = urlencode({"fran": f.start.isoformat(), "till": f.end.isoformat(), "kanal": f.channel,
                              "kommun": f.municipality, "storlek": f.size})
    return page(request, "analytics.html", account, "analytics", status=status, shown=shown, filters=f, own=own,
                query=query, error=error, channel_labels=request.app[channel_labels_key],
                sizes=[(s, rules.SIZE_LABELS[s]) for s in rules.SIZE_BUCKETS],
                csv_base=("/statistik.csv" if own else "/admin/analytics.csv"), export_query=export_query,
                review=review_link(shown.figures), form_action=("/statistik" if own else "/admin/analytics"))


async def analytics_page(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    return await _render(request, account, own=False)


async def own_page(request: web.Request) -> web.StreamResponse:
    account = await _signed_in(request)
    return await _render(request, account, own=True)


async def _csv(request: web.Request, account: AdvisorRef, own: bool) -> web.StreamResponse:
    query = {k: v for k, v in request.query.items() if k in FILTER_KEYS}
    try:
        filters = filters_from(query, _today(request), account.id if own else None)
    except BadFilter as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    wanted = request.query.get("diagram", "")
    if wanted not in NEEDS:
        raise web.HTTPNotFound(text="Det finns inget diagram med det namnet.")
    shown = await _figures(request, filters, wanted)
    chart = next((c for c in shown.charts if c.id == wanted and (not own or c.id in OWN_CHARTS)), None)
    if chart is None:
        raise web.HTTPNotFound(text="Det finns inget diagram med det namnet.")
    return _csv_response(chart, f"{chart.id}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv")


def _csv_response(chart: Chart, filename: str) -> web.Response:
    # A byte-order mark, so that Excel reads the å, ä and ö.
    body = ("\ufeff" + chart.csv()).encode("utf-8")
    return web.Response(body=body, content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def analytics_csv(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    return await _csv(request, account, own=False)


async def own_csv(request: web.Request) -> web.StreamResponse:
    account = await _signed_in(request)
    return await _csv(request, account, own=True)


# ---------------------------------------------------------------- the lägesbild


def _reports(session: Session) -> list[tuple[LagesbildReport, str | None]]:
    rows = session.execute(
        select(LagesbildReport, Advisor.name).outerjoin(Advisor, Advisor.id == LagesbildReport.generated_by)
        .order_by(LagesbildReport.week_start.desc(), LagesbildReport.id.desc()).limit(200)
    ).all()
    return [(report, name) for report, name in rows]


async def reports_page(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    return await _reports_page(request, account)


async def _reports_page(request: web.Request, account: AdvisorRef, error: str | None = None,
                        status: int = 200) -> web.Response:
    reports = await read(request, _reports)
    default_week = rules.previous_week(_today(request))
    return page(request, "lagesbild_list.html", account, "lagesbild", status=status, reports=reports,
                default_week=default_week, error=error, week_label=rules.week_label)


async def create_report(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    form = await post_form(request)
    raw = str(form.get("vecka", "")).strip()
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return await _reports_page(request, account, f"”{raw}” är inget datum. Välj en dag i veckan som "
                                   "lägesbilden ska gälla (ÅÅÅÅ-MM-DD).", status=400)
    monday = rules.week_start(day)
    if monday > _today(request):
        return await _reports_page(request, account, "Veckan har inte börjat ännu. Välj en vecka som har varit "
                                   "eller pågår.", status=400)
    report = await transact(request, lagesbild.generate, monday, now_of(request), actor_of(account).id)
    raise web.HTTPSeeOther(f"/admin/lagesbild/{report.id}")


async def _report(request: web.Request) -> tuple[AdvisorRef, LagesbildReport]:
    account = await require_admin(request)
    report_id = int(request.match_info["id"])

    def load(session: Session) -> LagesbildReport | None:
        return session.get(LagesbildReport, report_id)

    report = await read(request, load)
    if report is None:
        raise web.HTTPNotFound(text="Lägesbilden finns inte.")
    return account, report


async def report_page(request: web.Request) -> web.StreamResponse:
    account, report = await _report(request)
    return page(request, "lagesbild.html", account, "lagesbild", report=report, data=report.data,
                charts=lagesbild.charts(report.data), printing=False)


async def report_print(request: web.Request) -> web.StreamResponse:
    account, report = await _report(request)
    return page(request, "lagesbild_print.html", account, "lagesbild", report=report, data=report.data,
                charts=lagesbild.charts(report.data), printing=True)


async def report_csv(request: web.Request) -> web.StreamResponse:
    _, report = await _report(request)
    wanted = request.query.get("diagram", "")
    chart = next((c for c in lagesbild.charts(report.data) if c.id == wanted), None)
    if chart is None:
        raise web.HTTPNotFound(text="Det finns inget diagram med det namnet.")
    return _csv_response(chart, f"lagesbild-{report.week_start.isoformat()}-{chart.id}.csv")
