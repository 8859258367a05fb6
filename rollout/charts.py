"""The dashboard's charts: bar and line geometry for inline SVG, worked out in Python.

The template draws them and static/css/dashboard.css styles them, so the page needs no script
and no inline style under a strict CSP.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.text import slugify

from rollout.display import shown_ms, shown_rate
from rollout.metrics.adoption import AdoptionDay
from rollout.metrics.summary import EntryFigures

CHART_WIDTH, CHART_HEIGHT = 480, 220
PLOT_LEFT, PLOT_TOP, PLOT_RIGHT, PLOT_BOTTOM = 56, 20, 28, 40


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str
    value: str


@dataclass(frozen=True)
class AxisLabel:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Line:
    css: str
    segments: list[str]  # SVG polyline points; a day without data breaks the line
    points: list[Point]


@dataclass
class Chart:
    title: str
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    bars: list[Bar] = field(default_factory=list)
    x_labels: list[AxisLabel] = field(default_factory=list)
    y_labels: list[AxisLabel] = field(default_factory=list)
    grid: list[float] = field(default_factory=list)  # y of each horizontal grid line
    lines: list[Line] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css, label)

    @property
    def slug(self) -> str:
        return slugify(self.title)

    @property
    def plot_left(self) -> int:
        return PLOT_LEFT

    @property
    def plot_right(self) -> int:
        return self.width - PLOT_RIGHT

    @property
    def baseline(self) -> int:
        return self.height - PLOT_BOTTOM


def nice_ceiling(value: float) -> float:
    """The round number at or above value an axis ends at: 1, 2, 2.5 or 5 times a power of 10."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if value <= m * power)


def bar_chart(
    *,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    shown: Any,
    top: float | None = None,
) -> Chart:
    """Grouped bars: one group per category, one bar per channel."""
    chart = Chart(title=title)
    values = [v for _, vs in series for v in vs if v is not None]
    ceiling = top or nice_ceiling(max(values, default=0))
    plot_width = chart.plot_right - chart.plot_left
    plot_height = chart.baseline - PLOT_TOP
    group = plot_width / max(len(categories), 1)
    bar_width = group * 0.7 / max(len(series), 1)
    for index, category in enumerate(categories):
        left = chart.plot_left + index * group + group * 0.15
        chart.x_labels.append(AxisLabel(left + group * 0.35, chart.baseline + 16, category))
        for position, (channel, channel_values) in enumerate(series):
            value = channel_values[index]
            height = 0.0 if value is None else plot_height * min(value / ceiling, 1.0)
            x = left + position * bar_width
            chart.bars.append(
                Bar(
                    x=round(x, 1),
                    y=round(chart.baseline - height, 1),
                    width=round(bar_width - 2, 1),
                    height=round(height, 1),
                    css=f"bar-{channel}",
                    title=f"{channel} · {category}: {shown(value)}",
                    value=shown(value),
                )
            )
    for fraction in (0, 0.5, 1):
        y = round(chart.baseline - plot_height * fraction, 1)
        chart.grid.append(y)
        chart.y_labels.append(AxisLabel(chart.plot_left - 6, y + 4, shown(ceiling * fraction)))
    chart.legend = [(f"bar-{channel}", channel) for channel, _ in series]
    return chart


def adoption_chart(series: Sequence[AdoptionDay]) -> Chart:
    """The config UI's share of active users and of vouchers, per day, from 0 to 100 %."""
    chart = Chart(title="Adoption of the config UI per day", width=640)
    plot_width = chart.plot_right - chart.plot_left
    plot_height = chart.baseline - PLOT_TOP
    step = plot_width / max(len(series) - 1, 1)

    def x_of(index: int) -> float:
        return round(chart.plot_left + (index * step if len(series) > 1 else plot_width / 2), 1)

    label_every = max(1, math.ceil(len(series) / 8))
    for index, day in enumerate(series):
        if index % label_every == 0 or index == len(series) - 1:
            chart.x_labels.append(AxisLabel(x_of(index), chart.baseline + 16, f"{day.day:%d %b}"))
    for css, label, share_of in (
        ("line-users", "active users", lambda d: d.user_share),
        ("line-vouchers", "vouchers", lambda d: d.voucher_share),
    ):
        segments: list[list[str]] = [[]]
        points = []
        for index, day in enumerate(series):
            share = share_of(day)
            if share is None:
                if segments[-1]:
                    segments.append([])
                continue
            x, y = x_of(index), round(chart.baseline - plot_height * share, 1)
            segments[-1].append(f"{x},{y}")
            points.append(Point(x, y, f"{day.day:%d %b %Y}: {share:.0%} of {label}"))
        chart.lines.append(Line(css, [" ".join(s) for s in segments if s], points))
        chart.legend.append((css, f"share of {label}"))
    for fraction in (0, 0.5, 1):
        y = round(chart.baseline - plot_height * fraction, 1)
        chart.grid.append(y)
        chart.y_labels.append(AxisLabel(chart.plot_left - 6, y + 4, f"{fraction:.0%}"))
    return chart


def dashboard_charts(legacy: EntryFigures, config: EntryFigures) -> list[Chart]:
    def both(value: Any) -> list[tuple[str, list[float | None]]]:
        return [(f.channel, value(f)) for f in (legacy, config)]

    return [
        bar_chart(
            title="Volume",
            categories=["Created", "Posted", "Failed"],
            series=both(lambda f: [f.created, f.posted, f.failed]),
            shown=lambda v: "–" if v is None else f"{v:,.0f}",
        ),
        bar_chart(
            title="Load time",
            categories=["Server p50", "Server p95", "Browser p50", "Browser p95"],
            series=both(
                lambda f: [
                    f.form_load_p50,
                    f.form_load_p95,
                    f.browser_load_p50,
                    f.browser_load_p95,
                ]
            ),
            shown=shown_ms,
        ),
        bar_chart(
            title="Post success rate",
            categories=["Success rate"],
            series=both(lambda f: [f.success_rate]),
            shown=shown_rate,
            top=1.0,
        ),
    ]
