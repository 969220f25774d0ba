"""Chart labels: unit short names (no name cut off on the left), whole-number ticks for counts,
readable text size."""

from __future__ import annotations

import re

import pytest

from qiantou.assessment import charts
from qiantou.units.models import Unit


def test_integer_ticks() -> None:
    assert charts.integer_ticks(1) == [0, 1]
    assert charts.integer_ticks(3) == [0, 1, 2, 3]
    assert charts.integer_ticks(25) == [0, 3, 6, 9, 12, 15, 18, 21, 24, 27]
    assert all(isinstance(t, int) for t in charts.integer_ticks(0.4))


@pytest.mark.django_db
def test_overdue_chart_uses_short_names_and_whole_ticks() -> None:
    Unit.objects.create(code="T1", name="青山市住房和城乡建设局", short_names=["市住房城乡建设局"])
    svg = charts.overdue_by_unit_svg([("青山市住房和城乡建设局", 1), ("某某市某某某某某某某某管理中心", 1)])
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "市住房城乡建设局" in texts
    assert "青山市住房和城乡建设局" not in texts
    assert "某某市某某某某某某…" in texts  # unknown long name: cut to 10 characters
    assert not [t for t in texts if re.fullmatch(r"0\.\d+", t)]  # no 0.2 / 0.4 ticks for counts
    # Room for ten full-width characters at the label size, on top of pygal's own estimate.
    assert charts.left_margin(["一二三四五六七八九十"]) >= 0.4 * charts.LABEL_SIZE * 10
    assert f"font-size:{charts.LABEL_SIZE}" in svg.replace(" ", "")


@pytest.mark.django_db
def test_reminder_chart_ticks_are_whole_numbers() -> None:
    counts = {"市民政局": {"acknowledged": 1, "sent": 1}, "市财政局": {"delivered": 1}}
    svg = charts.reminder_states_svg(counts)
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert not [t for t in texts if re.fullmatch(r"\d+\.\d+", t)]
    assert "2" in texts
