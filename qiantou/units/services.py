"""Writes to the unit directory: file import, single-unit create/update; plus the directory export.

Every write takes ``actor=`` (a user, or None for the system), runs in one transaction and records an
audit event inside it. Permission checks are the caller's (API/view/command): see ``rules.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qiantou.audit.services import audit_record, digest
from qiantou.errors import QiantouError
from qiantou.units import files
from qiantou.units.files import RowProblem, UnitImportError
from qiantou.units.models import Unit, UnitKind

__all__ = [
    "ImportReport",
    "UnitImportError",
    "UnitValidationError",
    "unit_create",
    "unit_directory_export_csv",
    "unit_directory_export_rows",
    "unit_directory_export_xlsx",
    "unit_directory_import",
    "unit_update",
]

_CODE_MAX = Unit._meta.get_field("code").max_length or 32
_NAME_MAX = Unit._meta.get_field("name").max_length or 128
_TRUE = {"", "1", "true", "yes", "y", "是", "有效", "启用", "t"}
_FALSE = {"0", "false", "no", "n", "否", "无效", "停用", "撤销", "f"}
_UPDATABLE = ("name", "short_names", "former_names", "parent_id", "kind", "mandate", "active")


def _kind_lookup() -> dict[str, str]:
    """Accepted spellings of a kind: the code value (``bureau``) or its Chinese label (``部门``)."""
    table: dict[str, str] = {}
    for value, label in UnitKind.choices:
        table[value] = value
        table[str(label)] = value
    return table


class UnitValidationError(QiantouError):
    """A single-unit create/update was refused; ``errors`` maps field → message (Chinese)."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("；".join(f"{k}：{v}" for k, v in errors.items()))


@dataclass
class ImportReport:
    """What an import did. Codes are listed in file order."""

    file_name: str
    file_format: str  # "csv" | "xlsx"
    rows: int
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for a console or a flash message."""
        return _("%(file)s：共 %(rows)d 行，新增 %(created)d 个单位，"
                 "更新 %(updated)d 个，未变 %(unchanged)d 个") % {
            "file": self.file_name, "rows": self.rows, "created": len(self.created),
            "updated": len(self.updated), "unchanged": len(self.unchanged),
        }


@dataclass
class _Row:
    row: int
    code: str
    name: str
    short_names: list[str]
    former_names: list[str] | None  # None: the file has no such column (keep what is stored)
    parent_code: str
    kind: str
    mandate: str
    active: bool | None  # None: the file has no such column


def _parse_active(text: str) -> bool | None:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(text)


def _check_rows(table: files.DirectoryTable) -> tuple[list[_Row], list[RowProblem]]:
    """Row-level checks that need no database: blanks, lengths, kinds, duplicates, extra cells."""
    kinds = _kind_lookup()
    problems: list[RowProblem] = []
    rows: list[_Row] = []
    first_row_of: dict[str, int] = {}
    rows_of: dict[str, list[int]] = {}
    for source in table.rows:
        cells = source.cells
        code = cells.get("code", "")
        name = cells.get("name", "")
        ok = True
        if source.extra_cells:
            problems.append(RowProblem(source.row, "", _("该行的列数多于表头（多出：%(cells)s）") % {
                "cells": "、".join(source.extra_cells[:3])}))
            ok = False
        if not code:
            problems.append(RowProblem(source.row, "code", _("编码为空")))
            ok = False
        elif len(code) > _CODE_MAX:
            problems.append(RowProblem(source.row, "code", _("编码超过 %(n)d 个字符") % {"n": _CODE_MAX}))
            ok = False
        if not name:
            problems.append(RowProblem(source.row, "name", _("单位全称为空")))
            ok = False
        elif len(name) > _NAME_MAX:
            problems.append(RowProblem(source.row, "name", _("单位全称超过 %(n)d 个字符") % {"n": _NAME_MAX}))
            ok = False
        kind_text = cells.get("kind", "")
        kind = kinds.get(kind_text) or kinds.get(kind_text.lower())
        if kind is None:
            problems.append(RowProblem(source.row, "kind", _(
                "未知的单位类型“%(kind)s”（可用：%(kinds)s）") % {
                    "kind": kind_text, "kinds": "、".join(UnitKind.values)}))
            ok = False
        active: bool | None = None
        if "active" in cells:
            try:
                active = _parse_active(cells["active"])
            except ValueError:
                problems.append(RowProblem(source.row, "active", _("无法识别“%(value)s”（用 1/0、是/否）") % {
                    "value": cells["active"]}))
                ok = False
        if code:
            rows_of.setdefault(code, []).append(source.row)
            first_row_of.setdefault(code, source.row)
        if ok:
            rows.append(_Row(
                row=source.row, code=code, name=name,
                short_names=files.split_list(cells.get("short_names")),
                former_names=files.split_list(cells["former_names"]) if "former_names" in cells else None,
                parent_code=cells.get("parent_code", ""), kind=kind or "", mandate=cells.get("mandate", ""),
                active=active,
            ))
    for code, numbers in rows_of.items():
        if len(numbers) > 1:
            for number in numbers:
                others = "、".join(str(n) for n in numbers if n != number)
                problems.append(RowProblem(number, "code", _("编码 %(code)s 重复（另见第 %(rows)s 行）") % {
                    "code": code, "rows": others}))
    duplicates = {code for code, numbers in rows_of.items() if len(numbers) > 1}
    return [r for r in rows if r.code not in duplicates], problems


def _check_tree(rows: Sequence[_Row], file_codes: set[str]) -> list[RowProblem]:
    """Unknown parents and cycles, over the tree as it would be after the import."""
    problems: list[RowProblem] = []
    stored = dict(Unit.objects.values_list("code", "parent__code"))
    final: dict[str, str | None] = dict(stored)
    for row in rows:
        final[row.code] = row.parent_code or None
    known = set(stored) | file_codes
    for row in rows:
        if row.parent_code and row.parent_code not in known:
            problems.append(RowProblem(row.row, "parent_code", _(
                "上级单位编码 %(parent)s 既不在文件中，也不在单位目录中") % {"parent": row.parent_code}))
    for row in rows:
        path = [row.code]
        current = final.get(row.code)
        while current is not None and current in final:
            if current == row.code:
                problems.append(RowProblem(row.row, "parent_code", _("上级单位形成循环：%(path)s") % {
                    "path": " → ".join([*path, current])}))
                break
            if current in path:
                break  # a cycle further up, reported on its own rows
            path.append(current)
            current = final.get(current)
    return problems


def _alias_warnings(rows: Sequence[_Row]) -> list[str]:
    """Names or aliases shared by two units of the file: allowed, but the resolver will ask."""
    from qiantou.units.resolver import fold_name

    owners: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        for name in dict.fromkeys([row.name, *row.short_names]):
            key = fold_name(name)
            if key and (row.code, row.row) not in owners.get(key, []):
                owners.setdefault(key, []).append((row.code, row.row))
    warnings = []
    for key, who in owners.items():
        codes = sorted({code for code, _row in who})
        if len(codes) > 1:
            warnings.append(_(
                "名称或简称“%(name)s”同时属于 %(codes)s（第 %(rows)s 行），匹配时将列为候选、由人工选择") % {
                "name": key, "codes": "、".join(codes), "rows": "、".join(str(r) for _c, r in who)})
    return warnings


@transaction.atomic
def unit_directory_import(*, actor: Any | None, file_name: str, data: bytes) -> ImportReport:
    """Create or update units (by ``code``) from a CSV or XLSX directory file, all or nothing.

    Columns and encodings: see :mod:`qiantou.units.files`. Units not in the file are left as they
    are (the import never deletes; deactivate with ``active=0``). A renamed unit keeps its old name
    among its former names, so plans printed before the renaming still resolve.

    Raises :class:`UnitImportError` listing every bad row (row number as a spreadsheet shows it,
    field, reason): unreadable file or encoding, missing columns, blank code or name, duplicate
    codes, unknown kind, unknown parent, a cycle in the parent tree, a bad ``active`` value, cells
    beyond the header. Nothing is changed then. On success one ``units.import`` audit event is
    written in the same transaction.
    """
    table = files.read_directory_file(file_name, data)
    file_format = "xlsx" if data.startswith(b"PK") else "csv"
    if not table.rows:
        raise UnitImportError(file_name, [RowProblem(0, "", _("文件中没有单位（只有表头）"))])
    rows, problems = _check_rows(table)
    file_codes = {source.cells.get("code", "") for source in table.rows} - {""}
    problems += _check_tree(rows, file_codes)
    if problems:
        problems.sort(key=lambda p: (p.row, files.COLUMNS.index(p.field) if p.field in files.COLUMNS else -1))
        raise UnitImportError(file_name, problems)

    report = ImportReport(file_name=file_name, file_format=file_format, rows=len(rows),
                          warnings=_alias_warnings(rows))
    now = timezone.now()
    codes = [row.code for row in rows]
    stored = {u.code: u for u in Unit.objects.select_for_update().filter(code__in=codes)}
    new_units = [
        Unit(code=row.code, name=row.name, short_names=row.short_names, former_names=row.former_names or [],
             kind=row.kind, mandate=row.mandate, active=True if row.active is None else row.active,
             updated_at=now)
        for row in rows if row.code not in stored
    ]
    Unit.objects.bulk_create(new_units, batch_size=500)
    parent_codes = {row.parent_code for row in rows if row.parent_code}
    ids = dict(Unit.objects.filter(code__in=set(codes) | parent_codes).values_list("code", "id"))
    created = {u.code: u for u in Unit.objects.filter(code__in=[u.code for u in new_units])}
    to_save: list[Unit] = []
    for row in rows:
        parent_id = ids[row.parent_code] if row.parent_code else None
        if row.code in created:
            unit = created[row.code]
            report.created.append(row.code)
            if parent_id is not None:
                unit.parent_id = parent_id
                to_save.append(unit)
            continue
        unit = stored[row.code]
        former = list(unit.former_names) if row.former_names is None else list(row.former_names)
        if unit.name != row.name and unit.name not in former and unit.name not in row.short_names:
            former.append(unit.name)
        wanted: dict[str, Any] = {
            "name": row.name, "short_names": row.short_names, "former_names": former,
            "parent_id": parent_id, "kind": row.kind, "mandate": row.mandate,
            "active": unit.active if row.active is None else row.active,
        }
        if all(getattr(unit, name) == value for name, value in wanted.items()):
            report.unchanged.append(row.code)
            continue
        for name, value in wanted.items():
            setattr(unit, name, value)
        unit.updated_at = now
        to_save.append(unit)
        report.updated.append(row.code)
    Unit.objects.bulk_update(to_save, [*_UPDATABLE, "updated_at"], batch_size=500)
    audit_record(
        actor=actor, action="units.import", object_type="units.unit",
        payload={
            "file_name": file_name, "format": file_format, "bytes": len(data), "digest": digest(data),
            "rows": report.rows, "created": report.created, "updated": report.updated,
            "unchanged": len(report.unchanged),
        },
    )
    return report


# --- single-unit writes (the API and the web forms) -------------------------------------------------

def _clean_names(values: Iterable[str] | None) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values or () if v and v.strip()))


def _validate(
    *, unit: Unit | None, code: str, name: str, kind: str, parent: Unit | None,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not code.strip():
        errors["code"] = _("编码为空")
    elif len(code) > _CODE_MAX:
        errors["code"] = _("编码超过 %(n)d 个字符") % {"n": _CODE_MAX}
    elif unit is None and Unit.objects.filter(code=code).exists():
        errors["code"] = _("编码 %(code)s 已存在") % {"code": code}
    if not name.strip():
        errors["name"] = _("单位全称为空")
    elif len(name) > _NAME_MAX:
        errors["name"] = _("单位全称超过 %(n)d 个字符") % {"n": _NAME_MAX}
    if kind not in UnitKind.values:
        errors["kind"] = _("未知的单位类型“%(kind)s”") % {"kind": kind}
    if parent is not None and unit is not None and unit.pk is not None:
        ancestor: Unit | None = parent
        seen: set[int] = set()
        while ancestor is not None and ancestor.pk not in seen:
            if ancestor.pk == unit.pk:
                errors["parent"] = _("上级单位不能是本单位或其下级单位")
                break
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
    return errors


@transaction.atomic
def unit_create(
    *,
    actor: Any | None,
    code: str,
    name: str,
    kind: str = UnitKind.BUREAU,
    short_names: Iterable[str] | None = None,
    former_names: Iterable[str] | None = None,
    parent: Unit | None = None,
    mandate: str = "",
    active: bool = True,
) -> Unit:
    """Create one unit. Raises :class:`UnitValidationError` (field → message). Audited ``unit.create``."""
    code, name = code.strip(), name.strip()
    errors = _validate(unit=None, code=code, name=name, kind=kind, parent=parent)
    if errors:
        raise UnitValidationError(errors)
    unit = Unit.objects.create(
        code=code, name=name, kind=kind, short_names=_clean_names(short_names),
        former_names=_clean_names(former_names), parent=parent, mandate=mandate, active=active,
    )
    audit_record(actor=actor, action="unit.create", obj=unit, payload={
        "code": code, "name": name, "kind": kind, "parent": parent.code if parent else None,
    })
    return unit


@transaction.atomic
def unit_update(*, actor: Any | None, unit: Unit, **changes: Any) -> Unit:
    """Change a unit's fields (``name``, ``short_names``, ``former_names``, ``parent``, ``kind``,
    ``mandate``, ``active``); the code never changes. A renamed unit keeps its old name as a former
    name. Raises :class:`UnitValidationError`. Audited ``unit.update`` with before/after values.
    """
    allowed = {"name", "short_names", "former_names", "parent", "kind", "mandate", "active"}
    unknown = set(changes) - allowed
    if unknown:
        raise UnitValidationError({k: _("不能修改该字段") for k in sorted(unknown)})
    # Only ``parent`` may be None (no parent); a None elsewhere would be stored as "None" or False.
    nulls = sorted(k for k, v in changes.items() if v is None and k != "parent")
    if nulls:
        raise UnitValidationError({k: _("不能为空（null）") for k in nulls})
    locked = Unit.objects.select_for_update(of=("self",)).select_related("parent").get(pk=unit.pk)
    name = str(changes.get("name", locked.name)).strip()
    kind = str(changes.get("kind", locked.kind))
    parent = changes.get("parent", locked.parent)
    errors = _validate(unit=locked, code=locked.code, name=name, kind=kind, parent=parent)
    if errors:
        raise UnitValidationError(errors)
    before = {f: _audit_value(getattr(locked, f)) for f in ("name", "short_names", "former_names", "parent",
                                                             "kind", "mandate", "active")}
    former = _clean_names(changes.get("former_names", locked.former_names))
    if name != locked.name and locked.name not in former:
        former.append(locked.name)
    locked.name = name
    locked.kind = kind
    locked.parent = parent
    locked.former_names = former
    if "short_names" in changes:
        locked.short_names = _clean_names(changes["short_names"])
    if "mandate" in changes:
        locked.mandate = str(changes["mandate"] or "")
    if "active" in changes:
        locked.active = bool(changes["active"])
    after = {f: _audit_value(getattr(locked, f)) for f in before}
    changed = {f: {"before": before[f], "after": after[f]} for f in before if before[f] != after[f]}
    if changed:
        locked.save()
        audit_record(actor=actor, action="unit.update", obj=locked, payload={"code": locked.code,
                                                                             "changes": changed})
    return locked


def _audit_value(value: Any) -> Any:
    if isinstance(value, Unit):
        return value.code
    if isinstance(value, list):
        return list(value)
    return value


# --- export --------------------------------------------------------------------------------------

def unit_directory_export_rows(units: QuerySet[Unit] | Iterable[Unit] | None = None) -> list[list[str]]:
    """Rows in the import layout (:data:`qiantou.units.files.COLUMNS`), ordered by code."""
    if units is None:
        units = Unit.objects.select_related("parent").order_by("code")
    elif isinstance(units, QuerySet):
        units = units.select_related("parent").order_by("code")
    return [
        [
            unit.code, unit.name, files.join_list(unit.short_names),
            unit.parent.code if unit.parent else "", unit.kind, unit.mandate,
            files.join_list(unit.former_names), "1" if unit.active else "0",
        ]
        for unit in units
    ]


def unit_directory_export_csv(*, units: QuerySet[Unit] | Iterable[Unit] | None = None) -> bytes:
    """The directory (or ``units``) as CSV bytes, UTF-8 with BOM; re-importable as is."""
    return files.write_csv(unit_directory_export_rows(units))


def unit_directory_export_xlsx(*, units: QuerySet[Unit] | Iterable[Unit] | None = None) -> bytes:
    """The directory (or ``units``) as an XLSX workbook (frozen header); re-importable as is."""
    return files.write_xlsx(unit_directory_export_rows(units))
