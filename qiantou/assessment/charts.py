"""Dashboard and report charts as SVG (pygal: rendered on the server, offline, no JavaScript). The same
SVG goes inline into pages and, as a data URI, into the PDF exports."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

FONT = "'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"


def _style() -> Any:
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
        title_font_size=16,
        label_font_size=12,
        major_label_font_size=12,
        legend_font_size=12,
        colors=("#2f6fb3", "#d9534f", "#f0ad4e", "#5cb85c", "#777777"),
    )


def _common(**kw: Any) -> dict[str, Any]:
    return {
        "style": _style(),
        "disable_xml_declaration": True,
        "legend_at_bottom": True,
        "truncate_label": 11,
        "no_data_text": "暂无数据",
        **kw,
    }


def overdue_by_unit_svg(rows: Sequence[tuple[str, int]], *, title: str = "各单位逾期事项") -> str:
    """Horizontal bars: overdue open items per unit (most first)."""
    import pygal

    ordered = list(reversed(rows))
    chart = pygal.HorizontalBar(
        **_common(width=800, height=max(220, 26 * len(rows) + 90), show_legend=False, print_values=True)
    )
    chart.title = title
    chart.x_labels = [name for name, _ in ordered]
    top = max((n for _, n in rows), default=1)
    step = max(1, top // 10)
    chart.y_labels = list(range(0, top + step, step))  # whole items, not 0.2 of one
    chart.add("逾期", [n for _, n in ordered])
    return str(chart.render(is_unicode=True))


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
    import pygal

    ordered = list(reversed(rows))
    chart = pygal.HorizontalBar(
        **_common(
            width=800,
            height=max(220, 26 * len(rows) + 90),
            show_legend=False,
            print_values=True,
            value_formatter=lambda v: f"{v:.1f}",
        )
    )
    chart.title = title
    chart.x_labels = [name for name, _ in ordered]
    chart.add("得分", [round(v, 2) for _, v in ordered])
    return str(chart.render(is_unicode=True))


def score_trend_svg(
    labels: Sequence[str], series: dict[str, list[float | None]], *, title: str = "得分趋势"
) -> str:
    """One line per unit across periods."""
    import pygal

    chart = pygal.Line(**_common(width=800, height=340))
    chart.title = title
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, [None if v is None else round(v, 2) for v in values])
    return str(chart.render(is_unicode=True))


def reminder_states_svg(counts: dict[str, dict[str, int]], *, title: str = "催办送达与确认情况") -> str:
    """Stacked bars per unit: reminders acknowledged, delivered but not acknowledged, sent only."""
    import pygal

    units = list(counts)
    chart = pygal.StackedBar(**_common(width=800, height=320))
    chart.title = title
    chart.x_labels = units
    top = max((sum(c.values()) for c in counts.values()), default=1)
    step = max(1, top // 10)
    chart.y_labels = list(range(0, top + step, step))
    for key, label in (("acknowledged", "已确认"), ("delivered", "已送达未确认"), ("sent", "已发出未送达")):
        chart.add(label, [counts[u].get(key, 0) for u in units])
    return str(chart.render(is_unicode=True))


def data_uri(svg: str) -> str:
    """An SVG as a ``data:`` URI for an ``<img>`` (how the PDF exports embed the charts)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
