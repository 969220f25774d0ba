"""Load chart as inline SVG (pygal renders offline; no JavaScript needed)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.utils.translation import gettext as _

from qiantou.allocation.selectors import UnitLoad, load_weights


def load_chart_svg(loads: Sequence[UnitLoad]) -> str:
    """A stacked horizontal bar chart: weighted lead, cooperating, requests and overdue per unit."""
    import pygal
    from pygal.style import LightStyle

    w = load_weights()
    chart = pygal.HorizontalStackedBar(
        style=LightStyle,
        width=900,
        height=max(240, 28 * len(loads) + 80),
        legend_at_bottom=True,
        disable_xml_declaration=True,
        show_y_guides=False,
        print_values=False,
        truncate_label=14,
    )
    chart.title = _("单位负荷（加权）")
    ordered = list(reversed(loads))  # pygal draws the first bar at the bottom
    chart.x_labels = [u.short_name for u in ordered]
    chart.add(_("牵头"), [round(w["lead"] * float(u.lead_weight), 2) for u in ordered])
    chart.add(_("配合"), [round(w["cooperating"] * float(u.cooperating_weight), 2) for u in ordered])
    chart.add(_("材料/报送到期"), [round(w["request"] * u.requests_due, 2) for u in ordered])
    chart.add(_("逾期"), [round(w["overdue"] * u.overdue, 2) for u in ordered])
    # pygal always embeds tooltip <script>s; the Content-Security-Policy forbids them, so drop them.
    svg = str(chart.render(is_unicode=True))
    return re.sub(r"<script\b[^>]*/>|<script\b.*?</script>", "", svg, flags=re.S)
