"""The shared form fields: Chinese empty entries in every choice list, dates bounded to 2000–2100."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms

from qiantou.units.models import Unit
from qiantou.web.forms import BoundedDateField


@pytest.mark.django_db
def test_every_model_choice_list_starts_in_chinese() -> None:
    class AnyForm(forms.Form):
        unit = forms.ModelChoiceField(Unit.objects.all())

    html = str(AnyForm()["unit"])
    assert '<option value="" selected>请选择</option>' in html
    assert "Select an option" not in html


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("2000-01-01", True),
        ("2100-12-31", True),
        ("1999-12-31", False),
        ("2101-01-01", False),
        ("9999-12-31", False),
    ],
)
def test_bounded_date_field(raw: str, ok: bool) -> None:
    class DateForm(forms.Form):
        day = BoundedDateField()

    form = DateForm({"day": raw})
    assert form.is_valid() is ok
    if ok:
        assert form.cleaned_data["day"] == dt.date.fromisoformat(raw)
    else:
        assert form.errors["day"] == ["日期应在 2000 年至 2100 年之间。"]
    assert 'min="2000-01-01" max="2100-12-31"' in str(DateForm()["day"])
