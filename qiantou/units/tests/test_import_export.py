"""Directory import (CSV/XLSX, atomic, every bad row listed) and export round trips."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import openpyxl
import pytest

from qiantou.audit.models import AuditEvent
from qiantou.units.files import COLUMNS, UnitImportError
from qiantou.units.models import Unit, UnitKind
from qiantou.units.services import (
    unit_directory_export_csv,
    unit_directory_export_xlsx,
    unit_directory_import,
)

pytestmark = pytest.mark.django_db

HEADER = "code,name,short_names,parent_code,kind,mandate"


def fixture_rows(units_csv: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(units_csv.decode("utf-8-sig"))))


def xlsx_from_rows(header: list[str], rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def snapshot() -> list[tuple[Any, ...]]:
    return list(Unit.objects.order_by("code").values_list(
        "code", "name", "short_names", "former_names", "parent__code", "kind", "mandate", "active"))


def rejected(data: bytes, file_name: str = "units.csv") -> UnitImportError:
    before = snapshot()
    events = AuditEvent.objects.count()
    with pytest.raises(UnitImportError) as info:
        unit_directory_import(actor=None, file_name=file_name, data=data)
    assert snapshot() == before, "a rejected import must change nothing"
    assert AuditEvent.objects.count() == events
    assert file_name in str(info.value)
    return info.value


def problems(error: UnitImportError) -> set[tuple[int, str]]:
    return {(p.row, p.field) for p in error.problems}


# --- happy paths ---------------------------------------------------------------------------------

def test_import_the_93_unit_csv(units_csv: bytes) -> None:
    report = unit_directory_import(actor=None, file_name="qingshan-units.csv", data=units_csv)
    assert report.rows == 93 and len(report.created) == 93 and report.file_format == "csv"
    assert Unit.objects.count() == 93
    bureau = Unit.objects.get(code="QS0228")
    assert bureau.name == "青山市政务服务和大数据管理局"
    assert bureau.short_names[:2] == ["市政务服务和大数据管理局", "市政务服务管理局"]
    assert bureau.parent is not None and bureau.parent.code == "QS0001"
    assert bureau.kind == UnitKind.BUREAU and bureau.active
    assert "政务服务" in bureau.mandate
    assert Unit.objects.get(code="QS0307").parent.code == "QS0228"  # type: ignore[union-attr]
    assert Unit.objects.filter(kind=UnitKind.GROUP).count() == 7
    assert Unit.objects.get(code="QSG002").name == "各县（市、区）人民政府"
    event = AuditEvent.objects.get(action="units.import")
    assert event.payload["rows"] == 93 and len(event.payload["created"]) == 93
    assert event.payload["file_name"] == "qingshan-units.csv"


def test_import_an_xlsx_made_from_the_csv(units_csv: bytes) -> None:
    rows = fixture_rows(units_csv)
    header = list(rows[0].keys())
    data = xlsx_from_rows(header, [[row[c] for c in header] for row in rows])
    report = unit_directory_import(actor=None, file_name="qingshan-units.xlsx", data=data)
    assert (report.file_format, len(report.created)) == ("xlsx", 93)
    assert Unit.objects.get(code="QS1001").short_names == ["临江区政府", "临江区"]
    assert Unit.objects.get(code="QS2001").parent.code == "QS1001"  # type: ignore[union-attr]


def test_csv_in_gbk_and_without_bom_and_any_row_order(units_csv: bytes) -> None:
    text = units_csv.decode("utf-8-sig")
    lines = text.splitlines()
    reordered = "\n".join([lines[0], *reversed(lines[1:])])  # children before their parents
    unit_directory_import(actor=None, file_name="gbk.csv", data=reordered.encode("gbk"))
    assert Unit.objects.count() == 93
    assert Unit.objects.get(code="QS0102").parent.code == "QS0101"  # type: ignore[union-attr]
    report = unit_directory_import(actor=None, file_name="plain.csv", data=text.encode("utf-8"))
    assert len(report.unchanged) == 93


def test_reimport_updates_by_code_and_keeps_the_old_name(directory: None, make_user: Any) -> None:
    admin = make_user("admin", "system_admin")
    data = (HEADER + ",former_names,active\n"
            "QS0202,青山市教育体育局,市教育体育局|市教体局,QS0001,bureau,教育和体育,,1\n"
            "QS0225,青山市体育局,市体育局,QS0001,bureau,体育,,0\n"
            "QS9001,青山市新设局,市新设局,QS0001,部门,,,\n").encode()
    report = unit_directory_import(actor=admin, file_name="changes.csv", data=data)
    assert (report.created, report.updated) == (["QS9001"], ["QS0202", "QS0225"])
    renamed = Unit.objects.get(code="QS0202")
    assert renamed.name == "青山市教育体育局" and renamed.former_names == ["青山市教育局"]
    assert not Unit.objects.get(code="QS0225").active
    assert Unit.objects.get(code="QS9001").kind == UnitKind.BUREAU  # Chinese label accepted
    assert Unit.objects.count() == 94  # units missing from the file are kept
    event = AuditEvent.objects.filter(action="units.import").last()
    assert event is not None and event.actor_id == admin.pk
    assert event.payload["updated"] == ["QS0202", "QS0225"]


# --- bad input: rejected whole, with row numbers, nothing changed -----------------------------------

def test_duplicate_codes(directory: None) -> None:
    data = (HEADER + "\n"
            "QS0201,青山市发展和改革委员会（改）,,QS0001,bureau,\n"
            "X1,甲局,,QS0001,bureau,\n"
            "X1,乙局,,QS0001,bureau,\n").encode()
    error = rejected(data)
    assert problems(error) == {(3, "code"), (4, "code")}
    assert "第 3 行" in str(error) and "第 4 行" in str(error)


def test_unknown_parent(directory: None) -> None:
    data = (HEADER + "\nX1,甲局,,QS0001,bureau,\nX2,乙局,,NOPE,bureau,\n").encode()
    assert problems(rejected(data)) == {(3, "parent_code")}


def test_blank_name_and_blank_code(directory: None) -> None:
    data = (HEADER + "\nX1, ,,QS0001,bureau,\n,乙局,,QS0001,bureau,\nX3,丙局,,QS0001,bureau,\n").encode()
    assert problems(rejected(data)) == {(2, "name"), (3, "code")}


def test_unknown_kind(directory: None) -> None:
    data = (HEADER + "\nX1,甲局,,QS0001,ministry,\nX2,乙局,,QS0001,,\n").encode()
    error = rejected(data)
    assert problems(error) == {(2, "kind"), (3, "kind")}
    assert "ministry" in str(error)


def test_cycle_in_the_file(directory: None) -> None:
    data = (HEADER + "\nX1,甲局,,X2,bureau,\nX2,乙局,,X3,bureau,\nX3,丙局,,X1,bureau,\nX4,丁局,,X4,bureau,\n"
            "X5,戊局,,X1,bureau,\n").encode()
    assert problems(rejected(data)) == {(2, "parent_code"), (3, "parent_code"), (4, "parent_code"),
                                        (5, "parent_code")}


def test_cycle_through_stored_units(directory: None) -> None:
    # QS0101's parent is QS0001; making QS0001 a child of QS0102 (child of QS0101) closes a loop.
    data = (HEADER + "\nQS0001,青山市人民政府,,QS0102,government,\n").encode()
    error = rejected(data)
    assert problems(error) == {(2, "parent_code")}
    assert "QS0001 → QS0102 → QS0101 → QS0001" in str(error)


def test_every_bad_row_is_listed_at_once(directory: None) -> None:
    data = (HEADER + "\nA1,,,QS0001,bureau,\nA2,乙局,,NOPE,bureau,\nA3,丙局,,QS0001,thing,\n"
            "A4,丁局,,QS0001,bureau,\n"
            "A1,甲局,,QS0001,bureau,\nA5,戊局,,QS0001,bureau,,extra\n").encode()
    error = rejected(data)
    assert problems(error) == {
        (2, "name"), (2, "code"), (3, "parent_code"), (4, "kind"), (6, "code"), (7, ""),
    }
    assert "共 6 处问题" in str(error)


def test_wrong_encodings(directory: None, units_csv: bytes) -> None:
    text = units_csv.decode("utf-8-sig")
    from qiantou.textnorm import _converter

    big5 = _converter("s2t").convert(text).encode("big5", errors="replace")
    for data in (big5, text.encode("utf-16"), "code,name\nX,Café\n".encode("latin-1")):
        error = rejected(data)
        assert "UTF-8" in str(error)
    # A UTF-8 file (BOM) broken on line 3: the row is named.
    broken = units_csv.splitlines(keepends=True)
    broken[2] = broken[2][:20] + b"\xff" + broken[2][20:]
    error = rejected(b"".join(broken))
    assert problems(error) == {(3, "")}


def test_missing_columns_empty_and_header_only(directory: None) -> None:
    error = rejected(b"code,name,kind\nX1,a,bureau\n")
    assert "short_names" in str(error) and problems(error) == {(1, "")}
    rejected(b"")
    rejected(b"\xef\xbb\xbf\r\n\r\n")
    rejected((HEADER + "\n").encode())


def test_malformed_xlsx(directory: None, units_csv: bytes) -> None:
    rows = fixture_rows(units_csv)
    header = list(rows[0].keys())
    good = xlsx_from_rows(header, [[row[c] for c in header] for row in rows])
    rejected(good[: len(good) // 2], "units.xlsx")  # truncated
    rejected(b"this is not a spreadsheet", "units.xlsx")
    rejected(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "units.xls")
    # A zip that is not a workbook.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    rejected(buffer.getvalue(), "units.xlsx")
    # A readable workbook with a bad row: row numbers are the sheet's.
    bad = xlsx_from_rows(header, [
        ["Y1", "甲局", "", "QS0001", "bureau", ""], ["Y2", None, "", "QS0001", "bureau", ""],
    ])
    assert problems(rejected(bad, "units.xlsx")) == {(3, "name")}


# --- export --------------------------------------------------------------------------------------

def test_export_csv_round_trip(directory: None, units_csv: bytes) -> None:
    data = unit_directory_export_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    exported = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(exported[0].keys()) == list(COLUMNS)
    original = {row["code"]: row for row in fixture_rows(units_csv)}
    assert len(exported) == 93
    for row in exported:
        source = original[row["code"]]
        for column in ("name", "short_names", "parent_code", "kind", "mandate"):
            assert row[column] == source[column], (row["code"], column)
        assert (row["former_names"], row["active"]) == ("", "1")
    report = unit_directory_import(actor=None, file_name="export.csv", data=data)
    assert len(report.unchanged) == 93


def test_export_xlsx_round_trip(directory: None) -> None:
    Unit.objects.filter(code="QS0225").update(active=False, former_names=["青山市体育运动委员会"])
    Unit.objects.filter(code="QS0406").update(mandate="=SUM(A1:A2) 不是公式")
    data = unit_directory_export_xlsx()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    assert sheet.max_row == 94
    before = snapshot()
    report = unit_directory_import(actor=None, file_name="export.xlsx", data=data)
    assert len(report.unchanged) == 93
    assert snapshot() == before
    assert Unit.objects.get(code="QS0406").mandate == "=SUM(A1:A2) 不是公式"
