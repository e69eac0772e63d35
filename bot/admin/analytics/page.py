"""The analytics page's charts, built from the figures (bot/admin/analytics/queries.py)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from bot.admin.analytics.charts import (
    Chart,
    bars,
    columns,
    day_label,
    decimal,
    duration,
    percent,
    week_label,
)
from bot.admin.analytics.queries import Figures
from bot.rules import analytics as rules
from bot.rules.queue import HANDOFF_REASONS

# The charts an advisor sees on their own page (the others are about the bot, region-wide).
OWN_CHARTS = ("samtal-per-dag", "utfall", "overlamningsorsaker", "vantetider", "csat")


def review_link(figures: Figures) -> str:
    """The admin's review list with the same period and channel, fallbacks only."""
    query = {"fallback": "1", "fran": figures.filters.start.isoformat(), "till": figures.filters.end.isoformat()}
    if figures.filters.channel:
        query["kanal"] = figures.filters.channel
    return f"/admin/review?{urlencode(query)}"


def build_charts(figures: Figures, channel_labels: Mapping[str, str],
                 organisations: Mapping[str, str]) -> list[Chart]:
    """Every chart of the page, in the page's order (an advisor's own page: OWN_CHARTS)."""
    own = figures.filters.advisor_id is not None
    days = {day_label(d): figures.per_day.get(d, {})
            for d in rules.days_between(figures.filters.start, figures.filters.end)}
    charts = [
        columns("samtal-per-dag", "Samtal per dag och kanal",
                "Antal samtal som startade varje dag (UTC), staplade per kanal.", "Dag", days, channel_labels),
        _outcome(figures),
        _reasons(figures),
    ]
    if not own:
        charts += [_fallback(figures), _unanswered(figures), _referrals(figures, organisations)]
    charts += [_waits(figures), _csat(figures)]
    return charts


def _outcome(figures: Figures) -> Chart:
    values = [("Utan människa (boten klarade samtalet)", figures.contained, figures.containment),
              ("Överlämnade till en rådgivare", figures.handed_off, figures.handoff_rate)]
    return bars("utfall", "Samtal utan människa och överlämningar",
                f"Av {figures.total} samtal klarade boten {percent(figures.containment)} utan en människa; "
                f"{percent(figures.handoff_rate)} lämnades över.",
                ["Utfall", "Antal", "Andel"], [[label, str(n), percent(r)] for label, n, r in values],
                [(label, float(n), f"{n} ({percent(r)})") for label, n, r in values])


def _reasons(figures: Figures) -> Chart:
    named = [(HANDOFF_REASONS.get(reason, reason), n) for reason, n in figures.handoff_reasons]
    return bars("overlamningsorsaker", "Överlämningar efter orsak",
                "Varför samtalen lämnades över till en rådgivare (antal överlämningar).",
                ["Orsak", "Antal"], [[label, str(n)] for label, n in named],
                [(label, float(n), str(n)) for label, n in named])


def _fallback(figures: Figures) -> Chart:
    understood = figures.turns - figures.fallbacks
    values = [("Förstod", understood), ("Förstod inte (fallback)", figures.fallbacks)]
    return bars("fallback", "Meddelanden boten inte förstod",
                f"Av {figures.turns} meddelanden från företag förstod boten inte "
                f"{percent(figures.fallback_rate)}.",
                ["Utfall", "Antal", "Andel"],
                [[label, str(n), percent(rules.rate(n, figures.turns))] for label, n in values],
                [(label, float(n), f"{n} ({percent(rules.rate(n, figures.turns))})") for label, n in values])


def _unanswered(figures: Figures) -> Chart:
    link = review_link(figures)
    quoted = [(rules.mask_quote(wording), n) for _, wording, n in figures.unanswered]
    return bars("obesvarade", "Vanligaste obesvarade frågor",
                "Frågor boten inte kunde svara på (förstod inte, eller utanför uppdraget), grupperade efter "
                "ordalydelse. Personnummer, e-post och telefonnummer är maskerade. Klicka för granskningslistan.",
                ["Fråga", "Antal"], [[text, str(n)] for text, n in quoted],
                [(text, float(n), str(n)) for text, n in quoted], links=[link] * len(quoted))


def _referrals(figures: Figures, organisations: Mapping[str, str]) -> Chart:
    weeks = {week_label(monday): per_target for monday, per_target in figures.referrals.items()}
    return columns("hanvisningar", "Hänvisningar per mottagare och vecka",
                   "Hur många gånger boten hänvisade till varje organisation, per vecka.", "Vecka", weeks,
                   organisations)


def _waits(figures: Figures) -> Chart:
    wait, reply = figures.queue_wait, figures.first_reply
    values = [("Kötid, median (p50)", wait.p50, wait.count), ("Kötid, p90", wait.p90, wait.count),
              ("Första svar från rådgivare, median (p50)", reply.p50, reply.count),
              ("Första svar från rådgivare, p90", reply.p90, reply.count)]
    shown = [(label, seconds, n) for label, seconds, n in values if seconds is not None]
    return bars("vantetider", "Kötid och tid till första svar",
                f"Kötid: från att samtalet ställdes i kö tills en rådgivare tog det ({wait.count} samtal). "
                f"Första svar: från att rådgivaren tog samtalet till rådgivarens första meddelande "
                f"({reply.count} samtal).",
                ["Mått", "Sekunder", "Visas som", "Antal samtal"],
                [[label, decimal(seconds, 0), duration(seconds), str(n)] for label, seconds, n in shown],
                [(label, float(seconds or 0.0), duration(seconds)) for label, seconds, n in shown])


def _csat(figures: Figures) -> Chart:
    csat = figures.csat
    rows = [("Alla rådgivare", csat.count, csat.average)] if csat.count else []
    rows += [(a.name, a.count, a.average) for a in csat.per_advisor]
    description = ("Företagens betyg 1–5 efter ett samtal med en rådgivare (medelvärde)."
                   if csat.count else "Inga betyg under perioden.")
    return bars("csat", "Nöjdhet (CSAT) per rådgivare", description,
                ["Rådgivare", "Antal betyg", "Medelbetyg"],
                [[name, str(n), decimal(avg, 2)] for name, n, avg in rows],
                [(name, float(avg or 0.0), f"{decimal(avg, 1)} ({n})") for name, n, avg in rows], scale_max=5.0)
