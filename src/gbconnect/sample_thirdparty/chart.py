"""A daily bar chart as server-side SVG (no script, no external file): one bar per
local day of energy delivered, and the energy sent back below the axis when there is
any. The SVG carries a title and a description for screen readers (WCAG 1.1.1); the
page shows the same figures in a table beside it."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from gbconnect.sample_thirdparty.insights import DayTotal

WIDTH = 720
HEIGHT = 240
PAD_LEFT = 56
PAD_BOTTOM = 28
PAD_TOP = 12


def _nice(top: float) -> float:
    """A round axis maximum at or above ``top``."""
    if top <= 0:
        return 1.0
    step = float(10 ** len(str(int(top)))) / 10
    for mult in (1, 2, 2.5, 5, 10):
        if step * mult >= top:
            return float(step * mult)
    return float(step * 10)


def daily_svg(days: Sequence[DayTotal], title: str) -> str:
    """The chart of ``days`` (at most the last 60 are drawn), as an SVG string."""
    days = list(days)[-60:]
    unit = days[0].unit if days else ""
    top = _nice(max((d.delivered for d in days), default=0.0))
    bottom = max((d.received for d in days), default=0.0)
    low = _nice(bottom) if bottom > 0 else 0.0
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    zero = PAD_TOP + plot_h * top / (top + low)
    scale = plot_h / (top + low)
    plot_w = WIDTH - PAD_LEFT - 8
    bar = plot_w / max(len(days), 1)
    desc = (
        f"{len(days)} days from {days[0].day.isoformat()} to {days[-1].day.isoformat()}; "
        f"highest {max(d.delivered for d in days):.1f} {unit}"
        if days
        else "no data"
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="chart-title chart-desc" class="chart">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(desc)}</desc>',
        f'<line x1="{PAD_LEFT}" y1="{zero:.1f}" x2="{WIDTH - 8}" y2="{zero:.1f}" '
        'stroke="#444" stroke-width="1"/>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 10}" text-anchor="end" font-size="12" '
        f'fill="#222">{top:g} {escape(unit)}</text>',
        f'<text x="{PAD_LEFT - 6}" y="{zero + 4:.1f}" text-anchor="end" font-size="12" '
        'fill="#222">0</text>',
    ]
    for i, d in enumerate(days):
        x = PAD_LEFT + i * bar + bar * 0.1
        w = max(bar * 0.8, 1.0)
        h = d.delivered * scale
        parts.append(
            f'<rect x="{x:.1f}" y="{zero - h:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'fill="#1f5f8b"><title>{d.day.isoformat()}: {d.delivered:.2f} {escape(unit)}'
            "</title></rect>"
        )
        if d.received > 0:
            parts.append(
                f'<rect x="{x:.1f}" y="{zero:.1f}" width="{w:.1f}" '
                f'height="{d.received * scale:.1f}" fill="#d98b00"><title>{d.day.isoformat()}: '
                f"{d.received:.2f} {escape(unit)} sent back</title></rect>"
            )
    if days:
        for i, anchor in ((0, "start"), (len(days) - 1, "end")):
            x = PAD_LEFT + i * bar + (0 if anchor == "start" else bar)
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}" font-size="12" '
                f'fill="#222">{days[i].day.strftime("%d %b")}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["daily_svg"]
