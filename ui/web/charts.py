"""Small line charts as inline SVG (no script, nothing loaded from elsewhere: the page's CSP holds), one line per
channel over the weeks, each point with its value as a tooltip."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence

WIDTH, HEIGHT = 300, 150
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 24


def line_chart(
    title: str,
    weeks: Sequence[dt.date],
    series: Mapping[str, Sequence[float | None]],
    *,
    percent: bool = False,
    unit: str = "",
) -> str:
    """An SVG line chart: x the weeks, one line per series (`None`: no value that week)."""
    values = [v for line in series.values() for v in line if v is not None]
    top = 1.0 if percent else max(values, default=0.0) or 1.0
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (inner_w * i / (len(weeks) - 1) if len(weeks) > 1 else inner_w / 2)

    def y(v: float) -> float:
        return TOP + inner_h * (1 - v / top)

    def label(v: float) -> str:
        return f"{v:.0%}" if percent else f"{v:,.0f}{unit}".replace(",", " ")

    parts = [
        f'<svg class="rv-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{html.escape(title)}"><title>{html.escape(title)}</title>',
        f'<line class="rv-axis" x1="{LEFT}" y1="{TOP + inner_h}" x2="{WIDTH - RIGHT}" y2="{TOP + inner_h}"/>',
        f'<line class="rv-axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + inner_h}"/>',
        f'<text class="rv-tick" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{label(top)}</text>',
        f'<text class="rv-tick" x="{LEFT - 4}" y="{TOP + inner_h}" text-anchor="end">{label(0)}</text>',
    ]
    if weeks:
        parts.append(f'<text class="rv-tick" x="{x(0)}" y="{HEIGHT - 6}" text-anchor="start">{weeks[0]:%d-%m}</text>')
        if len(weeks) > 1:
            end = f'<text class="rv-tick" x="{x(len(weeks) - 1)}" y="{HEIGHT - 6}" text-anchor="end">'
            parts.append(f"{end}{weeks[-1]:%d-%m}</text>")
    for name, line in series.items():
        points = [(x(i), y(v), v, weeks[i]) for i, v in enumerate(line) if v is not None]
        css = f"rv-line rv-c-{html.escape(name)}"
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in points)
            parts.append(f'<polyline class="{css}" points="{path}"/>')
        for px, py, v, week in points:
            tip = html.escape(f"{name}, {week.isoformat()}: {label(v)}")
            parts.append(f'<circle class="{css}" cx="{px:.1f}" cy="{py:.1f}" r="3"><title>{tip}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)
