"""Form fields shared by every app's pages: a date field bounded to the platform's sane range, and the
Chinese empty label of a choice list (Django's own reads "---------" or "- Select an option -")."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from qiantou.workdays.calendar import EARLIEST_DATE, LATEST_DATE

#: The first, empty entry of a unit list.
CHOOSE_UNIT = _("请选择单位")
#: The first, empty entry of any other list.
CHOOSE = _("请选择")


class BoundedDateField(forms.DateField):
    """A date between :data:`~qiantou.workdays.calendar.EARLIEST_DATE` and ``LATEST_DATE`` (2000–2100).

    A year such as 1900 or 9999 is a typing error, not a deadline; it is refused on the form with a
    Chinese message naming the range, and the browser's date picker is limited to the same range.
    """

    default_error_messages: ClassVar[dict[str, Any]] = {
        "invalid": _("日期格式不正确，应为“年-月-日”，如 2024-03-15。"),
        "out_of_range": _("日期应在 %(lo)s 年至 %(hi)s 年之间。"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            forms.DateInput(
                attrs={"type": "date", "min": EARLIEST_DATE.isoformat(), "max": LATEST_DATE.isoformat()}
            ),
        )
        super().__init__(*args, **kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={"lo": EARLIEST_DATE.year, "hi": LATEST_DATE.year},
            )
