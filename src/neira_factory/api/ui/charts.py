"""Small inline SVG charts for the analysis window: one value per statistics window, oldest first.

Server-rendered, no script: each chart is a polyline per series over a shared x axis (the windows),
with the largest value and the last value written on it. Numbers only come from the analysis report,
and every text is escaped, so the markup is safe to inline.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 300, 90
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 6, 6, 16, 14


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    css: str  # a class from app.css: s-requests, s-errors, s-p50, s-p95, s-p99


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _clock(start: int | None) -> str:
    if start is None:
        return ""
    return dt.datetime.fromtimestamp(start, dt.UTC).strftime("%H:%M:%S")


def chart(title: str, unit: str, starts: Sequence[int], series: Sequence[Series], *, empty: str) -> Markup:
    """One chart; `empty` is the text shown when there is no data point at all."""
    points = [v for s in series for v in s.values if v is not None]
    label = f"{title} ({unit})" if unit else title
    parts = [(f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
              f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'),
             f'<title>{escape(label)}</title>',
             f'<text class="c-title" x="{PAD_LEFT}" y="11">{escape(label)}</text>',
             (f'<line class="c-axis" x1="{PAD_LEFT}" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH - PAD_RIGHT}" '
              f'y2="{HEIGHT - PAD_BOTTOM}"/>')]
    if not points:
        parts.append(f'<text class="c-empty" x="{WIDTH / 2:.0f}" y="{HEIGHT / 2 + 6:.0f}" '
                     f'text-anchor="middle">{escape(empty)}</text></svg>')
        return Markup("".join(parts))
    peak = max(points)
    top = peak or 1.0  # an all-zero series lies on the axis
    n = max(len(s.values) for s in series)
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(i: int) -> float:
        return PAD_LEFT + (inner_w / 2 if n == 1 else inner_w * i / (n - 1))

    def y(v: float) -> float:
        return PAD_TOP + inner_h * (1 - v / top)

    for s in series:
        coords = [(x(i), y(v)) for i, v in enumerate(s.values) if v is not None]
        if len(coords) == 1:
            cx, cy = coords[0]
            parts.append(f'<circle class="{s.css}" cx="{cx:.1f}" cy="{cy:.1f}" r="2.5"><title>{escape(s.name)}'
                         f'</title></circle>')
        elif coords:
            path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
            parts.append(f'<polyline class="{s.css}" points="{path}"><title>{escape(s.name)}</title></polyline>')
    last = next((v for v in reversed(series[0].values) if v is not None), None) if series else None
    parts.append(f'<text class="c-max" x="{WIDTH - PAD_RIGHT}" y="11" text-anchor="end">max {_fmt(peak)}'
                 f'{" · last " + _fmt(last) if last is not None else ""}</text>')
    if starts:
        parts.append(f'<text class="c-time" x="{PAD_LEFT}" y="{HEIGHT - 2}">{_clock(starts[0])}</text>')
        parts.append(f'<text class="c-time" x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 2}" text-anchor="end">'
                     f'{_clock(starts[-1])}</text>')
    if len(series) > 1:  # the legend, between the two times at the bottom
        legend_x = WIDTH / 2 - 18 * (len(series) - 1)
        for s in series:
            parts.append(f'<text class="c-legend {s.css}-t" x="{legend_x:.0f}" y="{HEIGHT - 2}" '
                         f'text-anchor="middle">{escape(s.name)}</text>')
            legend_x += 36
    parts.append("</svg>")
    return Markup("".join(parts))


def analysis_charts(windows: Sequence[dict], t) -> list[Markup]:
    """Requests, errors and latency per window, from `analysis.report(...).windows`."""
    starts = [w.get("start") for w in windows]
    requests = [float(w.get("requests") or 0) for w in windows]
    errors = [float(sum((w.get("errors") or {}).values())) for w in windows]
    empty = t("no_data_yet")
    return [
        chart(t("chart_requests"), t("per_window"), starts, [Series(t("chart_requests"), requests, "s-requests")],
              empty=empty),
        chart(t("chart_errors"), t("per_window"), starts, [Series(t("chart_errors"), errors, "s-errors")], empty=empty),
        chart(t("chart_latency"), "ms", starts,
              [Series("p95", [w.get("p95_ms") for w in windows], "s-p95"),
               Series("p50", [w.get("p50_ms") for w in windows], "s-p50"),
               Series("p99", [w.get("p99_ms") for w in windows], "s-p99")], empty=empty),
    ]
