"""``qiantou units_import`` and ``qiantou units_export``."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from qiantou.audit.models import AuditEvent
from qiantou.units.models import Unit
from qiantou.units.tests.conftest import UNITS_CSV

pytestmark = pytest.mark.django_db


def test_import_then_export_both_formats(tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("units_import", str(UNITS_CSV), stdout=out)
    assert "新增 93 个单位" in out.getvalue()
    assert Unit.objects.count() == 93
    assert AuditEvent.objects.filter(action="units.import", actor_id=None).count() == 1

    csv_path = tmp_path / "units.csv"
    call_command("units_export", "--format", "csv", "--out", str(csv_path), stdout=io.StringIO())
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbfcode,name,short_names,parent_code,kind,mandate")
    xlsx_path = tmp_path / "units.xlsx"
    call_command("units_export", "--format", "xlsx", "--out", str(xlsx_path), stdout=io.StringIO())
    sheet = openpyxl.load_workbook(xlsx_path).active
    assert sheet is not None and sheet.max_row == 94

    out = io.StringIO()
    call_command("units_import", str(xlsx_path), stdout=out)
    assert "未变 93 个" in out.getvalue()


def test_import_refuses_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,short_names,parent_code,kind,mandate\nX1,,,,bureau,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="第 2 行 name"):
        call_command("units_import", str(bad))
    with pytest.raises(CommandError, match="无法读取"):
        call_command("units_import", str(tmp_path / "missing.csv"))
    assert Unit.objects.count() == 0
