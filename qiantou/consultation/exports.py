"""The disposition statement and the version diff as files (.docx / .xlsx), via ``qiantou.documents``."""

from __future__ import annotations

from django.utils import timezone

from qiantou.consultation.diff import ASPECTS, version_diff
from qiantou.consultation.selectors import Statement
from qiantou.consultation.visibility import TaskFilter
from qiantou.documents.tables import Sheet, TableDocument, table_docx, xlsx_bytes
from qiantou.plans.models import Plan, PlanVersion

STATEMENT_HEADERS = ["序号", "提出单位", "涉及任务", "意见内容", "采纳情况", "理由"]


def _when(moment: object) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""  # type: ignore[arg-type]


def _task_label(no: str, text: str) -> str:
    return f"{no} {text[:40]}".strip() if (no or text) else "方案整体"


def statement_rows(statement: Statement) -> list[list[str]]:
    """One row per comment: number, unit, task, comment, disposition, reason."""
    return [
        [
            str(i),
            c.unit.name,
            _task_label(c.task_no, c.task_text) if c.task_ref is not None else "方案整体",
            c.body,
            c.get_disposition_display(),
            c.reason,
        ]
        for i, c in enumerate(statement.comments, start=1)
    ]


def _silent_words(statement: Statement) -> str:
    """ "逾期未反馈" after the closing date; "在提前截止时未反馈" when the round was closed before it."""
    rnd = statement.round
    if rnd.closed_early:
        return (
            f"在征求意见提前截止（{_when(rnd.closed_at)}，反馈截止日期为{rnd.closes_on.isoformat()}）时未反馈"
        )
    return "逾期未反馈"


def statement_summary(statement: Statement) -> list[str]:
    """The opening paragraphs: who was consulted, until when, how they answered."""
    rnd = statement.round
    counts = statement.counts
    lines = [
        f"《{statement.plan.title}》（第{rnd.version.number}版征求意见稿）于{_when(rnd.opened_at)}发出征求意见，"
        f"反馈截止日期为{rnd.closes_on.isoformat()}，共征求{len(statement.consulted)}个单位意见。",
        f"{counts.get('commented', 0)}个单位提出意见{counts.get('comments', 0)}条，"
        f"{counts.get('no_objection', 0)}个单位反馈无意见，"
        f"{counts.get('silent', 0)}个单位{_silent_words(statement)}（视为无意见），"
        f"{counts.get('pending', 0)}个单位尚未反馈。",
        f"采纳{counts.get('d_adopted', 0)}条，部分采纳{counts.get('d_partly_adopted', 0)}条，"
        f"不予采纳{counts.get('d_not_adopted', 0)}条，待处理{counts.get('d_pending', 0)}条。",
    ]
    return lines


def _silent_line(statement: Statement) -> list[str]:
    silent = statement.silent_units
    none = statement.no_objection_units
    out = []
    if none:
        out.append("反馈无意见的单位：" + "、".join(c.unit.name for c in none) + "。")
    if silent:
        when = _when(silent[0].responded_at)
        out.append(
            (
                "提前截止时未反馈、视为无意见的单位："
                if statement.round.closed_early
                else "逾期未反馈、视为无意见的单位："
            )
            + "、".join(c.unit.name for c in silent)
            + f"（截止记录时间 {when}）。"
        )
    return out


def statement_docx(statement: Statement) -> bytes:
    """The statement as .docx (landscape A4, a table of every comment)."""
    return table_docx(
        TableDocument(
            title=f"关于《{statement.plan.title}》征求意见采纳情况的说明",
            headers=STATEMENT_HEADERS,
            rows=statement_rows(statement),
            before=statement_summary(statement),
            after=_silent_line(statement),
            widths_mm=[12, 40, 50, 80, 22, 53],
        )
    )


def statement_xlsx(statement: Statement) -> bytes:
    """The statement as .xlsx: the comments sheet and the units sheet (how each unit answered, when)."""
    units = [
        [c.unit.name, c.response_label, _when(c.responded_at), str(c.responded_by or "")]
        for c in statement.consulted
    ]
    return xlsx_bytes(
        [
            Sheet(
                name="采纳情况",
                headers=STATEMENT_HEADERS,
                rows=statement_rows(statement),  # type: ignore[arg-type]
                title_lines=[
                    f"关于《{statement.plan.title}》征求意见采纳情况的说明",
                    *statement_summary(statement),
                ],
            ),
            Sheet(name="单位反馈情况", headers=["单位", "反馈情况", "时间", "反馈人"], rows=units),  # type: ignore[arg-type]
        ]
    )


def diff_xlsx(plan: Plan, a: PlanVersion, b: PlanVersion, tasks: TaskFilter | None = None) -> bytes:
    """The diff of two versions as .xlsx: one row per added, removed or changed task (of those
    ``tasks`` lets through, when given)."""
    older, newer = tasks.pair(a.snapshot, b.snapshot) if tasks is not None else (a.snapshot, b.snapshot)
    headers = ["序号", "变化", "变化内容"]
    for label in ASPECTS.values():
        headers += [f"{label}（第{a.number}版）", f"{label}（第{b.number}版）"]
    rows: list[list[object]] = []
    for c in version_diff(older, newer):
        row: list[object] = [c.no, c.kind_label, "、".join(c.field_labels)]
        for key in ASPECTS:
            row += [c.before.get(key, ""), c.after.get(key, "")]
        rows.append(row)
    return xlsx_bytes(
        [
            Sheet(
                name="版本对照",
                headers=headers,
                rows=rows,
                title_lines=[f"《{plan.title}》第{a.number}版与第{b.number}版任务对照"],
            )
        ]
    )
