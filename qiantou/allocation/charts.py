"""Load chart as inline SVG (pygal renders offline; no JavaScript needed)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.utils.translation import gettext as _

from qiantou.allocation.selectors import UnitLoad, load_weights

#: The chart's own width in SVG px; the page shows it at least 560 px wide (scrolling on a phone).
CHART_WIDTH = 720


def load_chart_svg(loads: Sequence[UnitLoad]) -> str:
    """A stacked horizontal bar chart: weighted lead, cooperating, requests and overdue per unit."""
    import pygal

    from qiantou.assessment.charts import LABEL_CHARS, cut_label, left_margin, style

    w = load_weights()
    ordered = list(reversed(loads))  # pygal draws the first bar at the bottom
    labels = [cut_label(u.short_name) for u in ordered]
    chart = pygal.HorizontalStackedBar(
        style=style("#2f6fb3", "#8fb4dd", "#f0ad4e", "#d9534f"),  # lead, cooperating, requests, overdue
        width=CHART_WIDTH,
        height=max(260, 30 * len(loads) + 120),
        legend_at_bottom=True,
        legend_at_bottom_columns=2,
        disable_xml_declaration=True,
        show_y_guides=False,
        print_values=False,
        truncate_label=LABEL_CHARS + 1,
        margin_left=left_margin(labels),
        value_formatter=lambda v: f"{v:g}",
    )
    chart.title = _("单位负荷（加权）")
    chart.x_labels = labels
    chart.add(_("牵头"), [round(w["lead"] * float(u.lead_weight), 2) for u in ordered])
    chart.add(_("配合"), [round(w["cooperating"] * float(u.cooperating_weight), 2) for u in ordered])
    chart.add(_("材料/报送到期"), [round(w["request"] * u.requests_due, 2) for u in ordered])
    chart.add(_("逾期"), [round(w["overdue"] * u.overdue, 2) for u in ordered])
    # pygal always embeds tooltip <script>s; the Content-Security-Policy forbids them, so drop them.
    svg = str(chart.render(is_unicode=True))
    return re.sub(r"<script\b[^>]*/>|<script\b.*?</script>", "", svg, flags=re.S)
