"""Forms of the consultation pages (validation only; the services do the writes)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from qiantou.web.forms import BoundedDateField

#: Longest task text accepted on the edit page. The longest task of the 14 labelled plans is a few
#: hundred characters; 5,000 leaves room for a long task and refuses a pasted document.
TASK_TEXT_MAX = 5000


class TaskEditForm(forms.Form):
    """The task edit page: text, deadline (original words and date) and the version the user read.

    A ``lock_version`` that is not a whole number cannot be the version the page showed: it is treated
    as a stale page (the view answers with the conflict message), not as a date error.
    """

    text = forms.CharField(
        label=_("任务内容"),
        max_length=TASK_TEXT_MAX,
        error_messages={
            "required": _("任务内容不能为空。"),
            "max_length": _("任务内容过长：最多 %(limit_value)d 字，现有 %(show_value)d 字。"),
        },
    )
    deadline_text = forms.CharField(
        label=_("完成时限（原文）"),
        max_length=255,
        required=False,
        error_messages={"max_length": _("完成时限（原文）最多 %(limit_value)d 字。")},
    )
    deadline = BoundedDateField(label=_("完成时限（日期）"), required=False)
    lock_version = forms.IntegerField(min_value=0)

    def stale(self) -> bool:
        """True when the only thing wrong is the version field (missing or not a whole number)."""
        return "lock_version" in self.errors

    def messages(self) -> list[str]:
        """The field errors as sentences naming the field, e.g. "完成时限（日期）：日期应在…"."""
        out: list[str] = []
        for name, errors in self.errors.items():
            if name == "lock_version":
                continue
            label = self.fields[name].label if name in self.fields else ""
            out.extend(f"{label}：{e}" if label else str(e) for e in errors)
        return out

    def cleaned(self) -> dict[str, Any]:
        """The fields ``task_update`` takes (``deadline`` None when left empty)."""
        d = self.cleaned_data
        return {"text": d["text"], "deadline_text": d["deadline_text"].strip(), "deadline": d["deadline"]}
