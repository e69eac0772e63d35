"""The figures as charts: each chart is its data table (shown beside it for screen readers,
and the chart's CSV export) and the geometry of its inline SVG (drawn by the template
`_charts.html`: no script, no inline style, colours from the stylesheet, so the pages'
Content-Security-Policy holds).

Two kinds: horizontal bars (one value per row) and stacked columns (a category per
column — a day, a week — split by series — a channel, a referral target).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.rules import analytics as rules

BAR_WIDTH = 420  # px for the longest bar
LABEL_WIDTH = 300
ROW_HEIGHT = 26
COLUMN_AREA = (640, 220)  # width, height of the plotting area of a column chart
MAX_SERIES = 6  # more series are summed as "Övriga"
OTHERS = "Övriga"


@dataclass(frozen=True)
class HBar:
    label: str
    value: float
    shown: str  # the value as the page writes it
    y: int
    width: float
    link: str | None = None


@dataclass(frozen=True)
class Segment:
    series: int
    name: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Column:
    label: str
    total: int
    x: float
    segments: list[Segment]


@dataclass
class Chart:
    id: str  # also the CSV's name: /admin/analytics.csv?diagram=<id>
    title: str
    description: str
    headers: list[str]
    rows: list[list[str]]
    kind: str = "bars"  # bars | columns
    bars: list[HBar] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)
    width: int = LABEL_WIDTH + BAR_WIDTH + 130
    height: int = 0
    label_width: int = LABEL_WIDTH

    @property
    def empty(self) -> bool:
        return not self.rows

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")  # Excel in Swedish reads ';'
        writer.writerow(self.headers)
        writer.writerows(self.rows)
        return out.getvalue()


def bars(chart_id: str, title: str, description: str, headers: list[str], rows: list[list[str]],
         values: Sequence[tuple[str, float, str]], *, scale_max: float | None = None,
         links: Sequence[str | None] | None = None) -> Chart:
    """A horizontal bar per (label, value, shown value); bars are scaled to the largest value
    (or to `scale_max`, e.g. 5 for ratings)."""
    top = scale_max if scale_max is not None else max((v for _, v, _ in values), default=0.0)
    drawn = [
        HBar(label, value, shown, index * ROW_HEIGHT, (value / top * BAR_WIDTH) if top > 0 else 0.0,
             links[index] if links else None)
        for index, (label, value, shown) in enumerate(values)
    ]
    return Chart(chart_id, title, description, headers, rows, "bars", bars=drawn,
                 height=max(ROW_HEIGHT, len(drawn) * ROW_HEIGHT) + 4)


def columns(chart_id: str, title: str, description: str, category_header: str,
            data: Mapping[str, Mapping[str, int]], series_labels: Mapping[str, str] | None = None) -> Chart:
    """Stacked columns: data[category][series] = count, categories in the given order. The
    biggest series keep their own colour; the rest are summed as 'Övriga'."""
    labels = dict(series_labels or {})
    totals: dict[str, int] = {}
    for per_series in data.values():
        for name, count in per_series.items():
            totals[name] = totals.get(name, 0) + count
    ranked = sorted(totals, key=lambda name: (-totals[name], labels.get(name, name)))
    kept = ranked if len(ranked) <= MAX_SERIES else ranked[: MAX_SERIES - 1]
    grouped: dict[str, dict[str, int]] = {}
    for category, per_series in data.items():
        row: dict[str, int] = {}
        for name, count in per_series.items():
            key = name if name in kept else OTHERS
            row[key] = row.get(key, 0) + count
        grouped[category] = row
    series = [*kept, *([OTHERS] if len(kept) < len(ranked) else [])]
    names = [labels.get(s, s) for s in series]
    area_width, area_height = COLUMN_AREA
    top = max((sum(row.values()) for row in grouped.values()), default=0)
    step = area_width / max(1, len(grouped))
    bar = max(2.0, step * 0.7)
    drawn = []
    for index, (category, row) in enumerate(grouped.items()):
        x = index * step + (step - bar) / 2
        y = float(area_height)
        segments = []
        for number, name in enumerate(series):
            value = row.get(name, 0)
            if not value:
                continue
            height = value / top * area_height if top else 0.0
            y -= height
            segments.append(Segment(number, names[number], value, x, y, bar, height))
        drawn.append(Column(category, sum(row.values()), x, segments))
    ticks = [(area_height - area_height * f, _number(top * f)) for f in (0.0, 0.5, 1.0)] if top else []
    headers = [category_header, *names, "Totalt"]
    rows = [[category, *[str(row.get(s, 0)) for s in series], str(sum(row.values()))]
            for category, row in grouped.items()]
    return Chart(chart_id, title, description, headers, rows, "columns", columns=drawn, series=names,
                 ticks=ticks, width=area_width + 60, height=area_height + 60, label_width=0)


# ---------------------------------------------------------------- formatting (Swedish)


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u00a0")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}\u00a0%".replace(".", ",")


def duration(seconds: float | None) -> str:
    """'45 s', '2 min 5 s', '1 h 3 min'; '–' when there is no value."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def decimal(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}".replace(".", ",")


def day_label(day: dt.date) -> str:
    return day.isoformat()


def week_label(monday: dt.date) -> str:
    return rules.week_label(monday)
