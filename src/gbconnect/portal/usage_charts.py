"""The charts of the "My usage" page: pygal SVG, rendered on the server, inline.

Each chart is self-contained: pygal's tooltip script (loaded from a CDN by default)
is turned off (``js=[]``) and its inline configuration script removed, so the page
runs no script and loads nothing from elsewhere (the page policy forbids scripts
anyway: :mod:`gbconnect.web.headers`). The SVG is an image for assistive technology
(``role="img"``) named by its ``<title>`` and described by a ``<desc>`` that says
what it shows and its totals; the page offers the same numbers as a table. It has a
viewBox and no fixed size, so that it fits the width of a phone.
"""

from __future__ import annotations

import math
import re
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import pygal
from pygal.style import Style

from gbconnect.usage.aggregate import Bill, Series, Usage

# pygal appends to sys.meta_path a finder of its map plugins (pygal.maps.*, unused
# here) that lacks find_spec: every failed import anywhere would then warn
# (ImportWarning). Take it out.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

#: Up to this many buckets a chart has bars; beyond, lines (bars would be hairlines).
MAX_BARS = 62
#: Beyond this many buckets (an hourly year) a chart leaves out the year before: its
#: lines would hide this year's, and pygal's time doubles; the table keeps both.
MAX_COMPARED = 2000
#: About this many labels on the x axis.
X_LABELS = 6


def _style(colors: tuple[str, ...]) -> Style:
    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1d2b22",
        foreground_strong="#1d2b22",
        foreground_subtle="#5b675f",
        font_family="system-ui, sans-serif",
        label_font_size=14,
        major_label_font_size=14,
        legend_font_size=15,
        title_font_size=18,
        value_font_size=13,
        tooltip_font_size=13,
        colors=colors,
    )


#: From the grid, a year before, sent to the grid, its year before: contrasting pairs.
STYLE = _style(("#1f7a3a", "#9bbfa5", "#d9822b", "#f0c79b", "#3b5ba9", "#a6b6dd"))
#: The same colours without the year before.
SINGLE_STYLE = _style(("#1f7a3a", "#d9822b", "#3b5ba9"))

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)

STEP_WORDS = {"hour": "hour", "day": "day", "month": "month"}


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart ready to put in the page: its title and its SVG markup."""

    title: str
    svg: str


def number(value: float | None, decimals: int = 2) -> str:
    """A figure as the page shows it: two decimals, thousands separated."""
    if value is None or math.isnan(value):
        return "–"
    return f"{value:,.{decimals}f}"


def axis_number(value: float | None) -> str:
    """A figure on an axis or in a tooltip: no trailing zeros (the unit is the axis
    title)."""
    if value is None:
        return ""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _finish(svg: str, title: str, desc: str) -> str:
    """Self-contained and accessible: no script, no comment, a title and a desc."""
    svg = _COMMENT.sub("", _SCRIPT.sub("", svg))
    ident = f"chart-{uuid.uuid4().hex[:12]}"
    head = (
        f'<svg role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'preserveAspectRatio="xMidYMid meet" '
    )
    named = (
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
    )
    svg = svg.replace("<svg ", head, 1)
    close = svg.index(">") + 1
    return svg[:close] + named + svg[close:]


def _base(
    title: str,
    unit: str,
    x_title: str,
    count: int,
    labels: Sequence[str],
    style: Style = STYLE,
) -> pygal.Graph:
    kind = pygal.Bar if count <= MAX_BARS else pygal.Line
    chart = kind(
        js=[],
        style=style,
        title=title,
        x_title=x_title,
        y_title=unit,
        width=480,
        height=400,
        explicit_size=False,
        disable_xml_declaration=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=1,
        show_dots=False,
        stroke_style={"width": 2},
        x_label_rotation=0,
        truncate_label=-1,
        truncate_legend=-1,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, math.ceil(count / X_LABELS)),
        margin=16,
        print_values=False,
        allow_interruptions=True,
        include_x_axis=True,
        value_formatter=axis_number,
    )
    chart.x_labels = list(labels)
    return chart


def _short(label: str, step: str) -> str:
    """An x-axis label: ``03-05 14:00`` for hours, ``03-05`` for days, ``2024-03``."""
    if step == "hour":
        return label[5:]
    if step == "day":
        return label[5:]
    return label


def usage_charts(usage: Usage, service: str) -> list[Chart]:
    """One chart per unit of the usage point's series (energy, demand, gas, ...)."""
    by_unit: dict[str, list[Series]] = {}
    for s in usage.series:
        by_unit.setdefault(s.measure.unit + ("peak" if s.measure.peak else ""), []).append(s)
    period = f"{usage.first.isoformat()} to {usage.last.isoformat()}"
    step = STEP_WORDS[usage.step]
    labels = [_short(x, usage.step) for x in usage.labels]
    charts = []
    for group in by_unit.values():
        unit = group[0].measure.unit
        peak = group[0].measure.peak
        what = "Peak demand" if peak else f"{service}"
        title = f"{what} per {step} ({unit})"
        compared = len(labels) <= MAX_COMPARED
        style = STYLE if compared else SINGLE_STYLE
        chart = _base(title, unit, f"{step.title()} ({period})", len(labels), labels, style)
        parts = []
        for s in group:
            chart.add(s.measure.label, s.values)
            if compared:
                chart.add(f"{s.measure.label}, a year before", s.last_year)
            verb = "highest" if peak else "total"
            parts.append(
                f"{s.measure.label}: {verb} {number(s.total)} {unit}"
                f" (a year before: {number(s.last_year_total)} {unit})"
            )
        kind = "Bar" if len(labels) <= MAX_BARS else "Line"
        before = f"with the same {step}s a year before" if compared else "this period only"
        desc = f"{kind} chart of {what.lower()} in {unit} per {step}, {period}, {before}. "
        desc += "; ".join(parts) + "."
        charts.append(Chart(title, _finish(chart.render(is_unicode=True), title, desc)))
    return charts


def bills_chart(bills: Sequence[Bill]) -> Chart | None:
    """The bills' amounts as bars; None without any amount."""
    priced = [b for b in bills if b.amount is not None]
    if not priced:
        return None
    symbol = priced[0].currency
    title = "Bills"
    labels = [f"{b.first:%Y-%m-%d}" for b in priced]
    chart = _base(
        title, f"Amount ({symbol})", "Billing period start", len(priced), labels, SINGLE_STYLE
    )
    chart.add("Bill", [b.amount for b in priced])
    desc = "Bar chart of the bill amounts: " + "; ".join(
        f"{b.first} to {b.last}: {symbol}{number(b.amount)}" for b in priced
    )
    return Chart(title, _finish(chart.render(is_unicode=True), title, desc + "."))


__all__ = ["Chart", "bills_chart", "number", "usage_charts"]
