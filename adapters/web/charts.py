"""Inline SVG charts for the dashboard, drawn on the server: no script, no outside request.

Horizontal positions are percentages of the chart's width and vertical ones are pixels, with
no ``viewBox``: a chart fills any width while its text keeps the stylesheet's size, so it
reads the same on a phone and on a wide screen. Bar charts put each label above its bar for
the same reason. Each chart is labelled for assistive technology (``role="img"`` with a
title and a one-sentence description) and the page follows it with a table of the same
numbers. Colours come from the stylesheet's classes, so the Content-Security-Policy needs no
inline styles.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from html import escape

VALUE_ROOM = 14.0  # % of the width kept right of the longest bar for its value


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _pct(value: float) -> str:
    return f"{value:.2f}%"


def nice_max(value: int) -> int:
    """The top of an axis: ``value`` rounded up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1
    power: int = 10 ** int(math.floor(math.log10(value)))
    for step in (1, 2, 5):
        if value <= step * power:
            return step * power
    return 10 * power


def ticks(top: int) -> list[int]:
    """Gridline values from 0 to ``top`` (a :func:`nice_max`), at most five of them."""
    step = max(1, top // 4) if top >= 4 else 1
    return list(range(0, top + 1, step))


def _svg(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> str:
    return (
        f'<svg class="chart" id="{chart_id}" width="100%" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{_e(title)}</title><desc id="{chart_id}-desc">{_e(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _bar(cls: str, x: float, y: int, w: float, h: int, tip: str) -> str:
    return (
        f'<rect class="{cls}" x="{_pct(x)}" y="{y}" width="{_pct(w)}" height="{h}" rx="3">'
        f"<title>{_e(tip)}</title></rect>"
    )


def funnel(chart_id: str, steps: Sequence[tuple[str, int]]) -> str:
    """One bar per step on a track, as long as its share of the first step; the label and
    the count (with its share) on the line above."""
    row = 56
    first = steps[0][1] if steps else 0
    body: list[str] = []
    for i, (label, count) in enumerate(steps):
        y = i * row
        share = count / first if first else 0.0
        value = f"{count}" + (f" · {round(100 * share)}%" if first and i else "")
        body.append(
            f'<text class="label" x="0" y="{y + 16}">{_e(label)}</text>'
            f'<text class="value" x="100%" y="{y + 16}" text-anchor="end">{_e(value)}</text>'
            f'<rect class="track" x="0" y="{y + 24}" width="100%" height="22" rx="4"/>'
            + (_bar(f"bar step-{i}", 0, y + 24, 100 * share, 22, f"{label}: {count}") if count else "")
        )
    desc = ", then ".join(f"{label} {count}" for label, count in steps) + "."
    return _svg(chart_id, "Intro funnel", desc, row * len(steps), body)


def _grid(top: int, top_pad: int, bottom: int) -> list[str]:
    out = []
    for tick in ticks(top):
        y = bottom - (bottom - top_pad) * tick / top
        out.append(
            f'<line class="grid" x1="0" x2="100%" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="0" y="{y - 3:.1f}">{tick}</text>'
        )
    return out


def columns(chart_id: str, title: str, bars: Sequence[tuple[str, int]]) -> str:
    """Vertical bars (a histogram): the value on top of each bar, a short label under it."""
    top_pad, bottom, left = 24, 196, 6.0
    top = nice_max(max((v for _, v in bars), default=0))
    slot = (100 - left) / max(1, len(bars))
    body = _grid(top, top_pad, bottom)
    for i, (label, value) in enumerate(bars):
        h = (bottom - top_pad) * value / top
        x = left + i * slot + slot * 0.14
        w = slot * 0.72
        mid = _pct(x + w / 2)
        if value:
            body.append(
                f'<rect class="bar" x="{_pct(x)}" y="{bottom - h:.1f}" width="{_pct(w)}" height="{h:.1f}" rx="3">'
                f"<title>{_e(label)}: {value}</title></rect>"
            )
        body.append(
            f'<text class="value" x="{mid}" y="{bottom - h - 6:.1f}" text-anchor="middle">{value}</text>'
            f'<text class="tick" x="{mid}" y="{bottom + 18}" text-anchor="middle">{_e(label)}</text>'
        )
    desc = "; ".join(f"{label}: {value}" for label, value in bars) + "."
    return _svg(chart_id, title, desc, bottom + 26, body)


def weekly(chart_id: str, weeks: Sequence[tuple[dt.date, int]]) -> str:
    """Active members per week as columns; a date under at most six of them so they never
    crowd, values on top while there is room."""
    top_pad, bottom, left = 22, 190, 6.0
    top = nice_max(max((v for _, v in weeks), default=0))
    slot = (100 - left) / max(1, len(weeks))
    every = max(1, math.ceil(len(weeks) / 6))
    body = _grid(top, top_pad, bottom)
    for i, (day, value) in enumerate(weeks):
        h = (bottom - top_pad) * value / top
        x = left + i * slot + slot * 0.12
        w = slot * 0.76
        label = f"{day:%b} {day.day}"
        mid = _pct(x + w / 2)
        if value:
            body.append(
                f'<rect class="bar" x="{_pct(x)}" y="{bottom - h:.1f}" width="{_pct(w)}" height="{h:.1f}" rx="2">'
                f"<title>Week of {_e(label)}: {value}</title></rect>"
            )
        if (len(weeks) - 1 - i) % every == 0:  # always label the latest week
            body.append(f'<text class="tick" x="{mid}" y="{bottom + 18}" text-anchor="middle">{_e(label)}</text>')
        if len(weeks) <= 10 and value:
            body.append(f'<text class="value" x="{mid}" y="{bottom - h - 5:.1f}" text-anchor="middle">{value}</text>')
    if weeks:
        peak = max(weeks, key=lambda wv: wv[1])
        desc = (
            f"{len(weeks)} weeks from {weeks[0][0].day} {weeks[0][0]:%B %Y}; busiest: week of {peak[0].day} "
            f"{peak[0]:%B} with {peak[1]}; latest week: {weeks[-1][1]}."
        )
    else:
        desc = "No weeks yet."
    return _svg(chart_id, "Active members per week", desc, bottom + 26, body)


def paired_bars(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, int, int]],
    names: tuple[str, str],
    *,
    flagged: int | None = None,
) -> str:
    """Two bars per row on one scale (demand above, supply below) under the row's label,
    with a legend. ``flagged`` marks one row (requests no helper matches) with an outline."""
    row_h, legend_h = 62, 28
    top = nice_max(max((max(a, b) for _, a, b in rows), default=0))
    span = 100 - VALUE_ROOM
    body = [
        '<rect class="demand" x="0" y="4" width="12" height="12" rx="2"/>'
        f'<text class="tick" x="18" y="15">{_e(names[0])}</text>'
        '<rect class="supply" x="50%" y="4" width="12" height="12" rx="2"/>'
        f'<text class="tick legend-2" x="50%" dx="18" y="15">{_e(names[1])}</text>'
    ]
    for i, (label, a, b) in enumerate(rows):
        y = legend_h + i * row_h
        if flagged == i:
            body.append(f'<rect class="flag" x="0" y="{y - 2}" width="100%" height="{row_h - 6}" rx="6"/>')
        pad = 8 if flagged == i else 0
        body.append(f'<text class="label" x="{pad}" y="{y + 14}">{_e(label)}</text>')
        for j, (value, cls) in enumerate(((a, "demand"), (b, "supply"))):
            w = span * value / top
            by = y + 22 + j * 16
            tip = f"{label}: {value} {names[j].lower()}"
            if value:
                body.append(_bar(cls, 0, by, w, 12, tip))
            body.append(f'<text class="value small" x="{_pct(w + 1.5)}" y="{by + 11}">{value}</text>')
    desc = "; ".join(f"{label}: {a} {names[0].lower()}, {b} {names[1].lower()}" for label, a, b in rows) + "."
    return _svg(chart_id, title, desc, legend_h + row_h * max(1, len(rows)), body)


def hbars(chart_id: str, title: str, rows: Sequence[tuple[str, int]], *, cls: str = "bar") -> str:
    """One bar per row on one scale, its label above it and its value after it."""
    row_h = 44
    top = nice_max(max((v for _, v in rows), default=0))
    span = 100 - VALUE_ROOM
    body = []
    for i, (label, value) in enumerate(rows):
        y = i * row_h
        w = span * value / top
        body.append(f'<text class="label" x="0" y="{y + 14}">{_e(label)}</text>')
        if value:
            body.append(_bar(cls, 0, y + 20, w, 16, f"{label}: {value}"))
        body.append(f'<text class="value" x="{_pct(w + 1.5)}" y="{y + 33}">{value}</text>')
    desc = "; ".join(f"{label}: {value}" for label, value in rows) + "."
    return _svg(chart_id, title, desc, row_h * max(1, len(rows)), body)
