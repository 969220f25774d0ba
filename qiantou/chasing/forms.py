"""Forms of the chasing pages (validation only; the services do the writes)."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from qiantou.chasing.models import PetitionKind, PetitionStatus, ProgressStatus
from qiantou.chasing.services import clean_figure
from qiantou.errors import QiantouError
from qiantou.units.models import Unit, UnitKind
from qiantou.web.forms import CHOOSE_UNIT, BoundedDateField
from qiantou.workdays.calendar import HolidayPolicy
from qiantou.workdays.recurrence import POLICY_LABELS, RULE_KIND_LABELS, RuleKind


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by the service (type sniffed, size-limited)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class MaterialRequestForm(forms.Form):
    unit = forms.ModelChoiceField(
        Unit.objects.filter(active=True).exclude(kind=UnitKind.GROUP),
        label=_("报送单位"),
        empty_label=CHOOSE_UNIT,
        error_messages={
            "invalid_choice": _("报送单位：请选择一个具体单位（不能是“各有关单位”等集合主体）。")
        },
    )
    title = forms.CharField(label=_("材料名称"), max_length=255)
    description = forms.CharField(label=_("要求"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    due_mode = forms.ChoiceField(
        label=_("时限"), choices=[("days", _("N个工作日内")), ("date", _("指定日期"))]
    )
    due_working_days = forms.IntegerField(label=_("工作日数"), min_value=1, max_value=250, required=False)
    due_date = BoundedDateField(label=_("截止日期"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("due_mode") == "days" and not data.get("due_working_days"):
            self.add_error("due_working_days", _("请填写工作日数。"))
        if data.get("due_mode") == "date" and not data.get("due_date"):
            self.add_error("due_date", _("请填写截止日期。"))
        return data


class SubmissionForm(forms.Form):
    text = forms.CharField(label=_("报送说明/内容"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    attachments = MultipleFileField(label=_("附件"))


class DecisionForm(forms.Form):
    accept = forms.ChoiceField(label=_("审核"), choices=[("1", _("采用")), ("0", _("退回"))])
    reason = forms.CharField(label=_("退回理由"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ReportCycleForm(forms.Form):
    title = forms.CharField(label=_("名称"), max_length=255, required=False)
    kind = forms.ChoiceField(label=_("周期"), choices=[(k.value, RULE_KIND_LABELS[k]) for k in RuleKind])
    day = forms.IntegerField(label=_("日（-1 表示月末）"), initial=28, required=False)
    month = forms.IntegerField(
        label=_("月（每年：1–12；每季度：季内第几个月 1–3）"), initial=3, required=False
    )
    weekday = forms.IntegerField(label=_("星期（0=周一 … 6=周日）"), initial=4, required=False)
    n = forms.IntegerField(label=_("每N个工作日的 N"), initial=10, required=False)
    policy = forms.ChoiceField(
        label=_("遇节假日"), choices=[(p.value, POLICY_LABELS[p]) for p in HolidayPolicy]
    )
    start_date = BoundedDateField(label=_("开始日期"))
    end_date = BoundedDateField(label=_("结束日期"))
    lead_working_days = forms.IntegerField(
        label=_("提前几个工作日发起"), initial=5, min_value=0, max_value=60
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, month = data.get("day"), data.get("month")
        if data.get("kind") == RuleKind.YEARLY and day is not None and month is not None and 1 <= month <= 12:
            last = calendar.monthrange(2000, month)[1]  # a leap year: 2月29日 exists
            if day > last:
                self.add_error(
                    "day",
                    _("%(m)s月没有%(d)s日（%(m)s月最多%(last)s日），请改正“日”。")
                    % {"m": month, "d": day, "last": last},
                )
        return data

    def rule(self) -> dict[str, Any]:
        d = self.cleaned_data
        rule: dict[str, Any] = {"kind": d["kind"], "policy": d["policy"]}
        for key in ("day", "month", "weekday", "n"):
            if d.get(key) is not None:
                rule[key] = d[key]
        return rule


class ProgressReportForm(forms.Form):
    status = forms.ChoiceField(label=_("进展状态"), choices=ProgressStatus.choices)
    text = forms.CharField(label=_("进展情况"), widget=forms.Textarea(attrs={"rows": 5}))
    figures = forms.CharField(
        label=_("数据（每行“名称=数值”）"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    attachments = MultipleFileField(label=_("附件"))

    def clean_figures(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for i, line in enumerate((self.cleaned_data.get("figures") or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                raise forms.ValidationError(_("第%(n)s行应写成“名称=数值”。") % {"n": i})
            try:
                out[name.strip()] = clean_figure(name.strip(), value, _("第%(n)s行") % {"n": i})
            except QiantouError as exc:
                raise forms.ValidationError(str(exc)) from None
        return out


class PetitionForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=PetitionKind.choices)
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 3}))
    requested_due_date = BoundedDateField(label=_("申请延至（延期申请）"), required=False)


class PetitionDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("处理"),
        choices=[
            (PetitionStatus.GRANTED.value, _("同意")),
            (PetitionStatus.REFUSED.value, _("不同意")),
            (PetitionStatus.RESOLVED.value, _("已协调解决")),
            (PetitionStatus.ESCALATED.value, _("提请分管领导决定")),
        ],
    )
    note = forms.CharField(label=_("意见"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    granted_due_date = BoundedDateField(label=_("同意延至"), required=False)


class WorkdayCalcForm(forms.Form):
    start = BoundedDateField(label=_("起算日期"), initial=dt.date.today)
    n = forms.IntegerField(label=_("工作日数"), initial=5, min_value=-250, max_value=250)
