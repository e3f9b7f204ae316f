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
from datetime import date
from functools import cache
from html import escape
from typing import TYPE_CHECKING, Any

from gbconnect.i18n import N_, formats
from gbconnect.i18n import gettext as _
from gbconnect.usage.aggregate import Bill, Series, Usage

if TYPE_CHECKING:
    from pygal.style import Style


@cache
def _pygal() -> Any:
    """pygal, imported when a first chart is drawn (a served process that draws none
    does not carry it: about 10 MiB)."""
    import pygal

    # pygal appends to sys.meta_path a finder of its map plugins (pygal.maps.*, unused
    # here) that lacks find_spec: every failed import anywhere would then warn
    # (ImportWarning). Take it out.
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]
    return pygal


#: Up to this many buckets a chart has bars; beyond, lines (bars would be hairlines).
MAX_BARS = 62
#: Beyond this many buckets (an hourly year) a chart leaves out the year before: its
#: lines would hide this year's, and pygal's time doubles; the table keeps both.
MAX_COMPARED = 2000
#: About this many labels on the x axis.
X_LABELS = 6


@cache
def _style(colors: tuple[str, ...]) -> Style:
    from pygal.style import Style

    _pygal()
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
COLORS = ("#1f7a3a", "#9bbfa5", "#d9822b", "#f0c79b", "#3b5ba9", "#a6b6dd")
#: The same colours without the year before.
SINGLE_COLORS = ("#1f7a3a", "#d9822b", "#3b5ba9")

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)

#: A chart's title, by step: what, per which step, in which unit.
TITLES = {
    "hour": N_("%(what)s per hour (%(unit)s)"),
    "day": N_("%(what)s per day (%(unit)s)"),
    "month": N_("%(what)s per month (%(unit)s)"),
}
PEAK_FIGURES = N_("%(measure)s: highest %(value)s %(unit)s (a year before: %(before)s %(unit)s)")
TOTAL_FIGURES = N_("%(measure)s: total %(value)s %(unit)s (a year before: %(before)s %(unit)s)")
#: The x axis's title, by step.
X_TITLES = {
    "hour": N_("Hour (%(period)s)"),
    "day": N_("Day (%(period)s)"),
    "month": N_("Month (%(period)s)"),
}


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart ready to put in the page: its title and its SVG markup."""

    title: str
    svg: str


def number(value: float | None, decimals: int = 2) -> str:
    """A figure as the page shows it: two decimals, thousands separated, in the
    language's way."""
    if value is None or math.isnan(value):
        return "–"
    return formats.number(value, decimals)


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
    colors: tuple[str, ...] = COLORS,
) -> Any:
    pygal = _pygal()
    kind = pygal.Bar if count <= MAX_BARS else pygal.Line
    chart = kind(
        js=[],
        style=_style(colors),
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


def bucket_names(labels: Sequence[str], step: str, short: bool) -> list[str]:
    """The buckets' labels (``2024-03-05 14:00``, ``2024-03-05``, ``2024-03``, as
    :func:`gbconnect.usage.aggregate.bucket_labels` makes them) in the language's
    words: for an axis (``short``) "Mar 5 14:00", "Mar 5", "Mar 2024"; for a table
    "Mar 5, 2024 14:00", "Mar 5, 2024", "March 2024". Each day is written once (a year
    of hours is 366 days to format, not 8,784)."""
    if step == "month":
        write = formats.short_month if short else formats.month
        return [write(date.fromisoformat(label + "-01")) for label in labels]
    write = formats.day_of_month if short else formats.short_day
    days: dict[str, str] = {}
    out = []
    for label in labels:
        key = label[:10]
        text = days.get(key)
        if text is None:
            text = days[key] = write(date.fromisoformat(key))
        out.append(f"{text} {label[11:]}" if step == "hour" else text)
    return out


def period_text(first: date, last: date) -> str:
    """A period in words: "Jun 1, 2026 to Jun 30, 2026" (both days included)."""
    return _("%(first)s to %(last)s", first=formats.short_day(first), last=formats.short_day(last))


def usage_charts(usage: Usage, service: str) -> list[Chart]:
    """One chart per unit of the usage point's series (energy, demand, gas, ...)."""
    by_unit: dict[str, list[Series]] = {}
    for s in usage.series:
        by_unit.setdefault(s.measure.unit + ("peak" if s.measure.peak else ""), []).append(s)
    period = period_text(usage.first, usage.last)
    labels = bucket_names(usage.labels, usage.step, short=True)
    charts = []
    for group in by_unit.values():
        unit = group[0].measure.unit
        peak = group[0].measure.peak
        what = _("Peak demand") if peak else service
        title = _(TITLES[usage.step], what=what, unit=unit)
        compared = len(labels) <= MAX_COMPARED
        colors = COLORS if compared else SINGLE_COLORS
        x_title = _(X_TITLES[usage.step], period=period)
        chart = _base(title, unit, x_title, len(labels), labels, colors)
        parts = []
        for s in group:
            label = _(s.measure.label)
            chart.add(label, s.values)
            if compared:
                chart.add(_("%(measure)s, a year before", measure=label), s.last_year)
            figures = {
                "measure": label,
                "value": number(s.total),
                "before": number(s.last_year_total),
                "unit": unit,
            }
            parts.append(
                _(
                    "%(measure)s: highest %(value)s %(unit)s (a year before: %(before)s %(unit)s)",
                    **figures,
                )
                if peak
                else _(
                    "%(measure)s: total %(value)s %(unit)s (a year before: %(before)s %(unit)s)",
                    **figures,
                )
            )
        kind = _("Bar chart") if len(labels) <= MAX_BARS else _("Line chart")
        desc = _("%(kind)s: %(title)s, %(period)s.", kind=kind, title=title, period=period)
        if compared:
            desc += " " + _("Compared with the same period a year before.")
        desc += " " + "; ".join(parts) + "."
        charts.append(Chart(title, _finish(chart.render(is_unicode=True), title, desc)))
    return charts


def bills_chart(bills: Sequence[Bill]) -> Chart | None:
    """The bills' amounts as bars; None without any amount."""
    priced = [b for b in bills if b.amount is not None]
    if not priced:
        return None
    currency = priced[0].currency
    code = formats.ISO_4217.get(currency, str(currency))
    title = _("Bills")
    labels = [formats.short_day(b.first) for b in priced]
    chart = _base(
        title,
        _("Amount (%(currency)s)", currency=code),
        _("Billing period start"),
        len(priced),
        labels,
        SINGLE_COLORS,
    )
    chart.add(_("Bill"), [b.amount for b in priced])
    amounts = "; ".join(
        _(
            "%(period)s: %(amount)s",
            period=period_text(b.first, b.last),
            amount=formats.money(b.amount or 0.0, b.currency),
        )
        for b in priced
    )
    desc = _("Bar chart of the bill amounts: %(amounts)s.", amounts=amounts)
    return Chart(title, _finish(chart.render(is_unicode=True), title, desc))


__all__ = ["Chart", "bills_chart", "number", "usage_charts"]
