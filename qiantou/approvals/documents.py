"""The official document (公文) of an approved or issued plan, built from the signed version's snapshot,
so what is printed is exactly what the approvers signed."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from qiantou.approvals.models import ApprovalRequest
from qiantou.consultation.visibility import TaskFilter, task_filter_for
from qiantou.documents.official import AttachmentTable, OfficialDocument

#: Attachment table columns and widths (mm; the type area is 156 mm wide).
TASK_HEADERS = ["序号", "任务内容", "牵头单位", "配合单位", "完成时限"]
TASK_WIDTHS = [14.0, 72.0, 24.0, 28.0, 18.0]


def _names(units: list[dict[str, Any]]) -> str:
    return "、".join(u.get("name") or u.get("printed_name") or "" for u in units)


def task_rows(snapshot: dict[str, Any], shown: TaskFilter | None = None) -> list[list[str]]:
    """The version's tasks as table rows in printed order: all of them (the binding plan itself), or
    those ``shown`` lets through (a reader's copy without the restricted tasks they may not see)."""
    rows = []
    for t in shown.tasks(snapshot) if shown is not None else snapshot.get("tasks", []):
        rows.append(
            [
                t.get("no") or "",
                t.get("text") or "",
                _names(t.get("lead_units") or []),
                _names(t.get("cooperating_units") or []),
                t.get("deadline_text") or (t.get("deadline") or ""),
            ]
        )
    return rows


def default_title(authority_name: str, plan_title: str) -> str:
    """ "××关于印发《方案》的通知" — how a task-division plan is issued."""
    return f"{authority_name}关于印发《{plan_title}》的通知"


def default_body(plan_title: str, lead_rule: str = "") -> str:
    """The customary covering text of an issuing notice (印发通知)."""
    lines = [f"现将《{plan_title}》印发给你们，请结合实际，认真抓好落实。"]
    if lead_rule.strip():
        lines.append(lead_rule.strip())
    lines.append(
        "各牵头单位要切实履行牵头责任，会同配合单位细化工作措施，明确时间节点；各配合单位要按照职责分工"
        "积极主动配合，按时报送工作进展情况。"
    )
    return "\n".join(lines)


def official_document_for(request: ApprovalRequest, reader: Any = None) -> OfficialDocument:
    """The plan of ``request`` as an official document: authority = the issuing unit (else the lead
    unit), the signed version's tasks as the attachment, the issue's number, recipients and date.

    With ``reader``, the attachment leaves out the restricted tasks the reader may not see
    (``qiantou.consultation.visibility``), except for the approvers on the request: they sign every
    task. Without, the whole version.
    """
    plan = request.plan
    shown: TaskFilter | None = None
    if reader is not None and not request.steps.filter(approver_id=getattr(reader, "pk", None)).exists():
        shown = task_filter_for(reader, plan)
    unit = plan.issuing_unit or plan.lead_unit
    snapshot = request.version.snapshot
    title = (snapshot.get("plan") or {}).get("title") or plan.title
    body = request.body or default_body(title, plan.lead_rule)
    return OfficialDocument(
        authority=f"{unit.name}文件",
        doc_number=request.doc_number or plan.doc_number,
        title=default_title(unit.name, title),
        main_recipients=request.main_recipients or "各有关单位",
        body=[line for line in body.splitlines() if line.strip()],
        signatory=unit.name,
        issued_on=request.issued_on or plan.issued_on or timezone.localdate(),
        attachments=[
            AttachmentTable(
                title=title, headers=TASK_HEADERS, rows=task_rows(snapshot, shown), widths_mm=TASK_WIDTHS
            )
        ],
        printer=f"{unit.name}办公室",
    )
