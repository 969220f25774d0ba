"""The ledger (台账): a plan's (or every visible plan's) tasks as the running spreadsheet every office
keeps — .xlsx (Chinese fonts and dates, frozen header, filters, light colours) and CSV (UTF-8 with BOM,
so Excel on Chinese Windows opens it) — and reading a ledger's 最新进展 column back.

Standard columns: 系统编号 (the task's id, how an edited ledger finds its task again), 方案, 序号, 任务,
牵头单位, 配合单位, 完成时限, 状态灯, 最新进展, 逾期工作日, 责任领导. Rows are built with a fixed
number of queries (no per-task query), and the workbook is streamed (openpyxl write-only), so 20,000
tasks export in seconds and little memory (``bench/ledger_export.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from qiantou.accounts.models import Role, User
from qiantou.assessment.models import LedgerProgress
from qiantou.assessment.workindex import WorkdayIndex
from qiantou.chasing.calendar import get_calendar
from qiantou.chasing.ladder import DEFAULT_WARNING_WORKING_DAYS
from qiantou.chasing.models import ProgressReport, ReminderLadder
from qiantou.plans.models import Task, TaskStatus, TaskUnit, TaskUnitRole
from qiantou.units.models import Unit

HEADERS = [
    "系统编号",
    "方案",
    "序号",
    "任务",
    "牵头单位",
    "配合单位",
    "完成时限",
    "状态灯",
    "最新进展",
    "逾期工作日",
    "责任领导",
]
ID_HEADER, PROGRESS_HEADER = "系统编号", "最新进展"
WIDTHS = [9, 24, 7, 48, 18, 26, 14, 8, 40, 10, 12]
LIGHT_LABELS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}
#: Fills of the light column: Excel's own "good / neutral / bad" colours.
LIGHT_FILLS = {"green": "C6EFCE", "yellow": "FFEB9C", "red": "FFC7CE"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CHUNK = 5000


@dataclass
class LedgerRow:
    """One task's line in the ledger."""

    task_id: int
    plan_title: str
    no: str
    text: str
    lead_units: str
    cooperating_units: str
    deadline: dt.date | None
    deadline_text: str
    light: str
    progress: str
    days_overdue: int | None
    leader: str

    def cells(self) -> list[Any]:
        """The row's values in ``HEADERS`` order (dates as dates, the light as its Chinese name)."""
        return [
            self.task_id,
            self.plan_title,
            self.no,
            self.text,
            self.lead_units,
            self.cooperating_units,
            self.deadline or self.deadline_text,
            LIGHT_LABELS[self.light],
            self.progress,
            self.days_overdue if self.days_overdue is not None else "—",
            self.leader,
        ]


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def _leaders_by_unit() -> Any:
    """A function unit id → the name(s) of its leader in charge (nearest unit up the tree that has one)."""
    parents = dict(Unit.objects.values_list("id", "parent_id"))
    leaders: dict[int, list[str]] = {}
    for unit_id, name, username in (
        User.objects.filter(role=Role.LEADER_IN_CHARGE, is_active=True, unit__isnull=False)
        .order_by("id")
        .values_list("unit_id", "display_name", "username")
    ):
        leaders.setdefault(unit_id, []).append(name or username)
    cache: dict[int, str] = {}

    def leader(unit_id: int | None) -> str:
        if unit_id is None:
            return ""
        if unit_id in cache:
            return cache[unit_id]
        seen: set[int] = set()
        current: int | None = unit_id
        found = ""
        while current is not None and current not in seen:
            if current in leaders:
                found = "、".join(leaders[current])
                break
            seen.add(current)
            current = parents.get(current)
        cache[unit_id] = found
        return found

    return leader


def ledger_rows(tasks: QuerySet[Task], *, today: dt.date) -> list[LedgerRow]:
    """The ledger lines of ``tasks`` (already permission-scoped by the caller) in their order."""
    base = list(
        tasks.values_list(
            "id",
            "plan_id",
            "plan__title",
            "plan__lead_unit_id",
            "no",
            "text",
            "deadline",
            "deadline_text",
            "status",
        )
    )
    ids = [r[0] for r in base]
    names: dict[int, tuple[list[str], list[str], int | None]] = {}
    for chunk in _chunks(ids):
        for task_id, role, unit_id, unit_name, printed in (
            TaskUnit.objects.filter(task_id__in=chunk, role__in=[TaskUnitRole.LEAD, TaskUnitRole.COOPERATING])
            .order_by("task_id", "role", "position")
            .values_list("task_id", "role", "unit_id", "unit__name", "printed_name")
        ):
            lead, coop, first_lead = names.setdefault(task_id, ([], [], None))
            (lead if role == TaskUnitRole.LEAD else coop).append(unit_name or printed)
            if role == TaskUnitRole.LEAD and first_lead is None and unit_id is not None:
                names[task_id] = (lead, coop, unit_id)
    progress: dict[int, tuple[dt.datetime, str]] = {}
    for chunk in _chunks(ids):
        for task_id, when, text in ProgressReport.objects.filter(
            request__item__task_id__in=chunk
        ).values_list("request__item__task_id", "submitted_at", "text"):
            if task_id not in progress or when >= progress[task_id][0]:
                progress[task_id] = (when, text)
        for task_id, when, text in LedgerProgress.objects.filter(task_id__in=chunk).values_list(
            "task_id", "recorded_at", "text"
        ):
            if task_id not in progress or when >= progress[task_id][0]:
                progress[task_id] = (when, text)
    plan_ids = {r[1] for r in base}
    warn = dict(
        ReminderLadder.objects.filter(plan_id__in=plan_ids).values_list("plan_id", "warning_working_days")
    )
    index = WorkdayIndex(get_calendar())
    leader = _leaders_by_unit()
    out = []
    for task_id, plan_id, plan_title, plan_lead, no, text, deadline, deadline_text, status in base:
        lead, coop, first_lead = names.get(task_id, ([], [], None))
        done = status != TaskStatus.OPEN
        overdue: int | None = 0
        if done or deadline is None:
            light = "green"
        elif today > deadline:
            light = "red"
            overdue = index.overdue(deadline, today)
        else:
            try:
                ahead = index.between(today, deadline)
            except Exception:  # an unloaded year: count calendar days
                ahead = (deadline - today).days
            light = "yellow" if ahead <= warn.get(plan_id, DEFAULT_WARNING_WORKING_DAYS) else "green"
        out.append(
            LedgerRow(
                task_id=task_id,
                plan_title=plan_title,
                no=no,
                text=text,
                lead_units="、".join(lead),
                cooperating_units="、".join(coop),
                deadline=deadline,
                deadline_text=deadline_text,
                light=light,
                progress=progress.get(task_id, (None, ""))[1],
                days_overdue=overdue,
                leader=leader(first_lead or plan_lead),
            )
        )
    return out


def _safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is prefixed with ' (CSV/XLSX injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def ledger_csv(rows: list[LedgerRow]) -> bytes:
    """The ledger as CSV: UTF-8 with a BOM, CRLF line ends, dates as YYYY-MM-DD."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([v.isoformat() if isinstance(v, dt.date) else _safe(v) for v in row.cells()])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def ledger_xlsx(rows: list[LedgerRow], *, title: str, exported_at: dt.datetime) -> bytes:
    """The ledger as .xlsx: a title line, a frozen bold header with filters, 宋体 text, Chinese dates,
    light cells filled red/yellow/green, wrapped task and progress text (``xlsxwrite``: streamed XML)."""
    from qiantou.assessment.xlsxwrite import Style, TableWorkbook

    light_order = ("green", "yellow", "red")
    styles = [
        Style(font="黑体", size=14, bold=True, border=False),  # 0 title
        Style(font="黑体", size=11, bold=True, fill="D9E1F2", horizontal="center", wrap=True),  # 1 header
        Style(),  # 2 text
        Style(wrap=True),  # 3 wrapped text
        Style(horizontal="center"),  # 4 centred
        Style(horizontal="center", number_format='yyyy"年"m"月"d"日"'),  # 5 date
        *(Style(horizontal="center", fill=LIGHT_FILLS[k]) for k in light_order),  # 6–8 lights
    ]
    wrapped = {3, 5, 8}  # task, cooperating units, progress
    centred = {0, 2, 6, 9}
    column = [3 if i in wrapped else 4 if i in centred else 2 for i in range(len(HEADERS))]
    book = TableWorkbook("台账", styles, WIDTHS)
    book.add_row([(f"{title}（导出时间：{exported_at:%Y年%m月%d日 %H:%M}）", 0)])
    book.add_row([(h, 1) for h in HEADERS])
    for row in rows:
        values = row.cells()
        cells = [(v, column[i]) for i, v in enumerate(values)]
        if isinstance(values[6], dt.date):
            cells[6] = (values[6], 5)
        cells[7] = (values[7], 6 + light_order.index(row.light))
        book.add_row(cells)
    return book.save(freeze_row=2, filter_row=2, columns=len(HEADERS), title=title, created=exported_at)


# --- Reading a ledger back -------------------------------------------------------------------------------


@dataclass
class LedgerLine:
    """One data row of an uploaded ledger: its row number in the file, task id text, progress text."""

    row: int
    task_id: str
    progress: str


class LedgerFileError(ValueError):
    """The file is not a ledger Qiantou can read (the message names what is wrong)."""


def _find_header(rows: Iterator[list[Any]]) -> tuple[int, int, int, Iterator[tuple[int, list[Any]]]]:
    numbered = ((n, r) for n, r in enumerate(rows, start=1))
    for n, row in numbered:
        labels = [str(c).strip() if c is not None else "" for c in row]
        if ID_HEADER in labels:
            if PROGRESS_HEADER not in labels:
                raise LedgerFileError(f"第{n}行表头缺少“{PROGRESS_HEADER}”列。")
            return n, labels.index(ID_HEADER), labels.index(PROGRESS_HEADER), numbered
        if n >= 10:
            break
    raise LedgerFileError(f"前10行中未找到表头“{ID_HEADER}”列：请使用本系统导出的台账。")


def read_ledger(name: str, data: bytes) -> list[LedgerLine]:
    """The data rows of an uploaded .xlsx or .csv ledger (blank rows skipped). Raises
    :class:`LedgerFileError` for an unreadable file or a missing header."""
    lower = name.lower()
    rows: Iterator[list[Any]]
    if lower.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError as exc:
                raise LedgerFileError("CSV 文件编码无法识别（请用 UTF-8 或 GB18030）。") from exc
        rows = iter(list(csv.reader(io.StringIO(text))))
    elif lower.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise LedgerFileError(f"无法读取 Excel 文件：{type(exc).__name__}") from exc
        ws = wb["台账"] if "台账" in wb.sheetnames else wb.worksheets[0]
        rows = (list(r) for r in ws.iter_rows(values_only=True))
    else:
        raise LedgerFileError("只能导入 .xlsx 或 .csv 格式的台账。")
    _, id_col, progress_col, rest = _find_header(rows)
    lines = []
    for n, row in rest:
        cells = ["" if c is None else str(c).strip() for c in row]
        if not any(cells):
            continue
        progress = cells[progress_col] if progress_col < len(cells) else ""
        if progress.startswith("'") and progress[1:2] in _FORMULA_START:
            progress = progress[1:]
        lines.append(
            LedgerLine(row=n, task_id=cells[id_col] if id_col < len(cells) else "", progress=progress)
        )
    return lines
