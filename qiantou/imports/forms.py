"""The upload form of the import flow."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

#: File types the importer reads (the type is sniffed from the content; this is the picker's hint).
ACCEPT = ".docx,.doc,.xlsx,.xls,.pdf,.html,.htm,.txt"


class UploadForm(forms.Form):
    """A published plan file, the plan's year (for dates printed without one) and, when re-importing,
    the draft plan to replace."""

    file = forms.FileField(
        label=_("方案文件"), allow_empty_file=True, widget=forms.ClearableFileInput(attrs={"accept": ACCEPT})
    )
    year = forms.IntegerField(
        label=_("方案年度"),
        required=False,
        min_value=2000,
        max_value=2100,
        help_text=_("文件中未写年份的日期（如“6月底前”）按此年度计算；留空则从文件中识别。"),
    )
    plan = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_file(self) -> object:
        """Refuse an empty file or one over the upload limit before reading it."""
        f = self.cleaned_data["file"]
        limit = int(getattr(settings, "QIANTOU_MAX_UPLOAD_BYTES", 60 * 1024 * 1024))
        if f.size == 0:
            raise forms.ValidationError(_("%(name)s：文件为空。") % {"name": f.name})
        if f.size > limit:
            raise forms.ValidationError(
                _("%(name)s：文件过大（%(size).1f MB），上限为 %(limit).0f MB。")
                % {"name": f.name, "size": f.size / 1024 / 1024, "limit": limit / 1024 / 1024}
            )
        return f
