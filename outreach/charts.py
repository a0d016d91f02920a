"""Line charts drawn on the server as inline SVG: no script, no CDN, nothing for the
Content-Security-Policy to allow, and each chart sits above the table it is drawn from.

Hand-written rather than a charting library: two lines of rates over weeks need a few
coordinates, and a JavaScript library would need a script source, data passed to it and
a second rendering path to test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from outreach.reporting import Week

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 36, 12, 28


@dataclass(frozen=True)
class Series:
    name: str
    css_class: str
    # One polyline per run of weeks that have a rate: a week with nothing sent is a gap,
    # not a zero.
    segments: list[str] = field(default_factory=list)
    dots: list[tuple[float, float, str]] = field(default_factory=list)


@dataclass(frozen=True)
class LineChart:
    title: str
    series: list[Series]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom_y: int = HEIGHT - BOTTOM


def weekly_rates_chart(weeks: Sequence[Week]) -> LineChart | None:
    """Reply rate and positive rate per week, oldest on the left; None under two weeks
    with something sent (a line needs two points)."""
    ordered = sorted(weeks, key=lambda week: week.starts)
    rates = [w.reply_rate for w in ordered if w.reply_rate is not None]
    if len(rates) < 2:
        return None
    top = _nice_ceiling(max(rates))
    x_of = _x_scale([w.starts for w in ordered])

    def y_of(rate: float) -> float:
        return round(HEIGHT - BOTTOM - (rate / top) * (HEIGHT - BOTTOM - TOP), 1)

    series = [
        _series("Reply rate", "reply", ordered, "reply_rate", x_of, y_of),
        _series("Positive rate", "positive", ordered, "positive_rate", x_of, y_of),
    ]
    # Whole percents once the axis reaches 10%: "37.5%" would only crowd the labels.
    style = "{:.0%}" if top >= 0.1 else "{:.1%}"
    y_ticks = [(y_of(top * i / 4), style.format(top * i / 4)) for i in range(5)]
    step = max(1, math.ceil(len(ordered) / 6))
    x_ticks = [(x_of(w.starts), w.starts.strftime("%b %d")) for w in ordered[::step]]
    return LineChart("Reply and positive rate by week", series, y_ticks, x_ticks)


def _series(
    name: str,
    css_class: str,
    weeks: Sequence[Week],
    attribute: str,
    x_of: Callable[[date], float],
    y_of: Callable[[float], float],
) -> Series:
    segments: list[list[str]] = [[]]
    dots = []
    for week in weeks:
        rate = getattr(week, attribute)
        if rate is None:
            segments.append([])
            continue
        x, y = x_of(week.starts), y_of(rate)
        segments[-1].append(f"{x},{y}")
        dots.append((x, y, f"{name} in the week of {week.starts:%Y-%m-%d}: {rate:.1%}"))
    return Series(name, css_class, [" ".join(s) for s in segments if s], dots)


def _x_scale(days: list[date]) -> Callable[[date], float]:
    first, last = days[0], days[-1]
    span = max((last - first).days, 1)
    usable = WIDTH - LEFT - RIGHT

    def x_of(day: date) -> float:
        return round(LEFT + (day - first).days / span * usable, 1)

    return x_of


def _nice_ceiling(value: float) -> float:
    """The axis top: the rate rounded up to 1, 2 or 5 of its order of magnitude."""
    if value <= 0:
        return 0.01
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude
