"""Dashboard and report charts as SVG (pygal: rendered on the server, offline, no JavaScript). The same
SVG goes inline into pages and, as a data URI, into the PDF exports."""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Sequence
from typing import Any

FONT = "'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"
#: Label text size (SVG px at the chart's own width; the page scales the chart to its card).
LABEL_SIZE = 14
#: Unit names longer than this many characters are cut with "…" (after trying the unit's short name).
LABEL_CHARS = 10
#: pygal sizes label space as 0.6 × font size per character; a Chinese character is a full em wide.
CJK_EXTRA = 0.4


def _style(colors: tuple[str, ...] = ("#2f6fb3", "#d9534f", "#f0ad4e", "#5cb85c", "#777777")) -> Any:
    from pygal.style import LightStyle

    return LightStyle(
        font_family=FONT,
        label_font_family=FONT,
        major_label_font_family=FONT,
        value_font_family=FONT,
        value_label_font_family=FONT,
        tooltip_font_family=FONT,
        title_font_family=FONT,
        legend_font_family=FONT,
        no_data_font_family=FONT,
        title_font_size=18,
        label_font_size=LABEL_SIZE,
        major_label_font_size=LABEL_SIZE,
        value_font_size=LABEL_SIZE,
        value_label_font_size=LABEL_SIZE,
        tooltip_font_size=LABEL_SIZE,
        legend_font_size=LABEL_SIZE,
        no_data_font_size=LABEL_SIZE,
        colors=colors,
    )


def _common(**kw: Any) -> dict[str, Any]:
    return {
        "style": _style(),
        "disable_xml_declaration": True,
        "legend_at_bottom": True,
        "truncate_label": LABEL_CHARS + 1,
        "no_data_text": "暂无数据",
        **kw,
    }


def style(*colors: str) -> Any:
    """The charts' style (CJK fonts, readable sizes), shared with the allocation load chart; ``colors``
    replace the series colours in order."""
    return _style(colors) if colors else _style()


def short_labels(names: Iterable[str], limit: int = LABEL_CHARS) -> list[str]:
    """Unit names as chart labels: the unit's short name (``Unit.short_name``) when the directory knows
    the full name, else the name; anything still longer than ``limit`` characters is cut with "…"."""
    from qiantou.units.models import Unit

    names = list(names)
    short = {u.name: u.short_name for u in Unit.objects.filter(name__in=set(names))} if names else {}
    return [cut_label(short.get(name) or name, limit) for name in names]


def cut_label(label: str, limit: int = LABEL_CHARS) -> str:
    """``label`` cut to ``limit`` characters, the last one "…" when it was longer."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def left_margin(labels: Iterable[str], font_size: int = LABEL_SIZE) -> int:
    """Extra left margin so Chinese y-axis labels are not cut: pygal reserves 0.6 em per character."""
    longest = max((len(x) for x in labels), default=0)
    return 20 + math.ceil(CJK_EXTRA * font_size * longest)


def integer_ticks(top: float, most: int = 10) -> list[int]:
    """Whole-number axis ticks from 0 to at least ``top`` (counts are never 0.2 of an item)."""
    top_int = max(1, math.ceil(top))
    step = max(1, math.ceil(top_int / most))
    return list(range(0, top_int + step, step))


def _unit_bars_svg(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    series: str,
    value_formatter: Any,
    y_labels: list[int] | None = None,
) -> str:
    """Horizontal bars, one per unit, the first row at the top (pygal draws the last at the top)."""
    import pygal

    ordered = list(reversed(rows))
    labels = short_labels(name for name, _ in ordered)
    chart = pygal.HorizontalBar(
        **_common(
            width=800,
            height=max(220, 30 * len(rows) + 100),
            show_legend=False,
            print_values=True,
            margin_left=left_margin(labels),
            value_formatter=value_formatter,
        )
    )
    chart.title = title
    chart.x_labels = labels
    if y_labels is not None:
        chart.y_labels = y_labels
    chart.add(series, [v for _, v in ordered])
    return str(chart.render(is_unicode=True))


def overdue_by_unit_svg(rows: Sequence[tuple[str, int]], *, title: str = "各单位逾期事项") -> str:
    """Horizontal bars: overdue open items per unit (most first)."""
    return _unit_bars_svg(
        rows,
        title=title,
        series="逾期",
        value_formatter=lambda v: f"{v:.0f}",
        y_labels=integer_ticks(max((n for _, n in rows), default=1)),  # whole items, not 0.2 of one
    )


def on_time_trend_svg(
    labels: Sequence[str], rates: Sequence[float | None], *, title: str = "按时完成率趋势"
) -> str:
    """A line of the on-time rate (percent) per period."""
    import pygal

    chart = pygal.Line(
        **_common(
            width=800,
            height=320,
            show_legend=False,
            range=(0, 100),
            value_formatter=lambda v: f"{v:.0f}%" if v is not None else "",
        )
    )
    chart.title = title
    chart.x_labels = list(labels)
    chart.add("按时完成率", [None if r is None else round(100 * r, 1) for r in rates])
    return str(chart.render(is_unicode=True))


def score_ranking_svg(rows: Sequence[tuple[str, float]], *, title: str = "配合单位综合得分排名") -> str:
    """Horizontal bars of total scores, best at the top."""
    return _unit_bars_svg(
        [(name, round(v, 2)) for name, v in rows],
        title=title,
        series="得分",
        value_formatter=lambda v: f"{v:.1f}",
    )


def score_trend_svg(
    labels: Sequence[str], series: dict[str, list[float | None]], *, title: str = "得分趋势"
) -> str:
    """One line per unit across periods."""
    import pygal

    chart = pygal.Line(**_common(width=800, height=360))
    chart.title = title
    chart.x_labels = list(labels)
    for name, values in zip(short_labels(series), series.values(), strict=True):
        chart.add(name, [None if v is None else round(v, 2) for v in values])
    return str(chart.render(is_unicode=True))


def reminder_states_svg(counts: dict[str, dict[str, int]], *, title: str = "催办送达与确认情况") -> str:
    """Stacked bars per unit: reminders acknowledged, delivered but not acknowledged, sent only."""
    import pygal

    units = list(counts)
    chart = pygal.StackedBar(**_common(width=800, height=360, x_label_rotation=-30 if len(units) > 6 else 0))
    chart.title = title
    chart.x_labels = short_labels(units)
    chart.y_labels = integer_ticks(max((sum(c.values()) for c in counts.values()), default=1))
    for key, label in (("acknowledged", "已确认"), ("delivered", "已送达未确认"), ("sent", "已发出未送达")):
        chart.add(label, [counts[u].get(key, 0) for u in units])
    return str(chart.render(is_unicode=True))


def data_uri(svg: str) -> str:
    """An SVG as a ``data:`` URI for an ``<img>`` (how the PDF exports embed the charts)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
