"""Small server-side SVG charts: grouped bars, lines and stacked areas.

Each chart is one ``<svg role="img">`` with a ``<title>`` and a ``<desc>``; the page puts the
same numbers in a table next to it for screen readers. Every value reaches the markup through
:meth:`markupsafe.Markup.format`, which escapes it; the templates themselves are literals.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 24, 12, 40
LEGEND_ROW = 16
#: Colour-blind-safe palette (Okabe-Ito), in series order.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442",
           "#000000")
MAX_X_LABELS = 10
_ids = itertools.count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _nice_max(value: float) -> float:
    """The top of the y axis: four gridline steps of 1, 2, 2.5 or 5 times a power of ten
    (at least 1 each, so counts get whole-number gridlines)."""
    raw = max(value, 0.0) / 4
    if raw <= 1:
        return 4.0
    power = 10.0 ** (len(str(int(raw))) - 1)
    step = next(power * f for f in (1, 2, 2.5, 5, 10) if raw <= power * f)
    return step * 4


def _frame(title: str, desc: str, body: list[Markup], categories: Sequence[str], top: float,
           series: Sequence[Series], x_of: list[float]) -> Markup:
    uid = next(_ids)
    plot_h = HEIGHT - TOP - BOTTOM
    legend: list[tuple[float, float, int, Series]] = []
    x, row = float(LEFT), 0
    for i, item in enumerate(series if len(series) > 1 else []):
        width = 24 + 6.5 * len(item.name)
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, row = float(LEFT), row + 1
        legend.append((x, HEIGHT + row * LEGEND_ROW, i, item))
        x += width
    height = HEIGHT + (row * LEGEND_ROW if legend else -LEGEND_ROW)
    parts = [Markup(
        '<svg class="esc-chart" viewBox="0 0 {w} {h}" role="img" '
        'aria-labelledby="esc-chart-{uid}-t esc-chart-{uid}-d" xmlns="http://www.w3.org/2000/svg">'
        '<title id="esc-chart-{uid}-t">{title}</title><desc id="esc-chart-{uid}-d">{desc}</desc>'
    ).format(w=WIDTH, h=height, uid=uid, title=title, desc=desc)]
    for i in range(5):  # horizontal grid and y labels
        parts.append(Markup(
            '<line class="esc-chart-grid" x1="{x1}" x2="{x2}" y1="{y}" y2="{y}"/>'
            '<text class="esc-chart-axis" x="{tx}" y="{y}" dy="4" text-anchor="end">{v}</text>'
        ).format(x1=LEFT, x2=WIDTH - RIGHT, y=_num(TOP + plot_h - plot_h * i / 4),
                 tx=LEFT - 6, v=_num(top * i / 4)))
    every = max(1, -(-len(categories) // MAX_X_LABELS))
    for i, (label, x) in enumerate(zip(categories, x_of, strict=True)):
        if i % every == 0:
            parts.append(Markup(
                '<text class="esc-chart-axis" x="{x}" y="{y}" text-anchor="middle">{label}</text>'
            ).format(x=_num(x), y=HEIGHT - BOTTOM + 16, label=label))
    parts.extend(body)
    for lx, ly, i, item in legend:
        parts.append(Markup(
            '<rect x="{x}" y="{y}" width="10" height="10" fill="{colour}"/>'
            '<text class="esc-chart-legend" x="{tx}" y="{ty}">{name}</text>'
        ).format(x=_num(lx), y=_num(ly - 14), colour=PALETTE[i % len(PALETTE)],
                 tx=_num(lx + 14), ty=_num(ly - 5), name=item.name))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _scale(series: Sequence[Series], stacked: bool = False) -> float:
    if stacked:
        totals = [sum(vals) for vals in zip(*(s.values for s in series), strict=True)]
        return _nice_max(max(totals, default=0))
    return _nice_max(max((v for s in series for v in s.values), default=0))


def _y(value: float, top: float) -> float:
    plot_h = HEIGHT - TOP - BOTTOM
    return TOP + plot_h - plot_h * (value / top)


def bars(title: str, categories: Sequence[str], series: Sequence[Series],
         desc: str = "") -> Markup:
    """Vertical bars, one group per category, one bar per series."""
    top = _scale(series)
    plot_w = WIDTH - LEFT - RIGHT
    slot = plot_w / max(len(categories), 1)
    bar_w = slot * 0.8 / max(len(series), 1)
    body: list[Markup] = []
    centres: list[float] = []
    for i, label in enumerate(categories):
        x0 = LEFT + slot * i + slot * 0.1
        centres.append(LEFT + slot * i + slot / 2)
        for j, s in enumerate(series):
            value = s.values[i]
            y = _y(value, top)
            body.append(Markup(
                '<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{colour}">'
                '<title>{label}: {name} {value}</title></rect>'
            ).format(x=_num(x0 + bar_w * j), y=_num(y), w=_num(bar_w),
                     h=_num(_y(0, top) - y), colour=PALETTE[j % len(PALETTE)], label=label,
                     name=s.name, value=_num(value)))
    return _frame(title, desc or title, body, categories, top, series, centres)


def _xs(count: int) -> list[float]:
    plot_w = WIDTH - LEFT - RIGHT
    if count <= 1:
        return [LEFT + plot_w / 2] * count
    return [LEFT + plot_w * i / (count - 1) for i in range(count)]


def lines(title: str, categories: Sequence[str], series: Sequence[Series],
          desc: str = "") -> Markup:
    """One polyline (with points) per series."""
    top = _scale(series)
    xs = _xs(len(categories))
    body: list[Markup] = []
    for j, s in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        points = " ".join(f"{_num(x)},{_num(_y(v, top))}" for x, v in zip(xs, s.values,
                                                                         strict=True))
        body.append(Markup(
            '<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
            '<title>{name}</title></polyline>'
        ).format(colour=colour, points=points, name=s.name))
        if len(xs) <= 62:
            body.extend(Markup('<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>').format(
                x=_num(x), y=_num(_y(v, top)), colour=colour)
                for x, v in zip(xs, s.values, strict=True))
    return _frame(title, desc or title, body, categories, top, series, xs)


def stacked_areas(title: str, categories: Sequence[str], series: Sequence[Series],
                  desc: str = "") -> Markup:
    """Series stacked on one another, each a filled band."""
    top = _scale(series, stacked=True)
    xs = _xs(len(categories))
    base = [0.0] * len(categories)
    body: list[Markup] = []
    for j, s in enumerate(series):
        upper = [b + v for b, v in zip(base, s.values, strict=True)]
        outline = [f"{_num(x)},{_num(_y(v, top))}" for x, v in zip(xs, upper, strict=True)]
        back = [f"{_num(x)},{_num(_y(v, top))}" for x, v in
                reversed(list(zip(xs, base, strict=True)))]
        body.append(Markup(
            '<polygon fill="{colour}" fill-opacity="0.85" points="{points}">'
            '<title>{name}</title></polygon>'
        ).format(colour=PALETTE[j % len(PALETTE)], points=" ".join(outline + back),
                 name=s.name))
        base = upper
    return _frame(title, desc or title, body, categories, top, series, xs)
