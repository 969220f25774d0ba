"""On a phone, ``table.stack`` cells stack as cards and show their column from ``data-label``
(``app.css``); a consultation table cell without one would read as a bare number."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "consultation"


@pytest.mark.parametrize("name", ["index.html", "plan.html", "round.html", "diff.html"])
def test_every_data_cell_of_a_stacked_table_is_labelled(name: str) -> None:
    html = (TEMPLATES / name).read_text("utf-8")
    assert 'class="stack"' in html
    cells = re.findall(r"<td\b[^>]*>", html)
    unlabelled = [c for c in cells if "data-label=" not in c and "colspan" not in c]
    assert cells and unlabelled == []
