"""The accountability report (问责/审计材料): for a task, a plan or a unit and a date range, who was
assigned what and when, every reminder (sent, delivered, acknowledged), every submission, return,
difficulty, extension, refusal and decision, who was responsible at each moment — and the verification
of the audit chain for every event it cites.

Everything in the timeline comes from the accountability record (:class:`~qiantou.audit.models.AuditEvent`),
so each line carries its event's ``seq`` and hash. The verification section says whether the whole chain
is intact (``qiantou.audit.verification.verify_chain``), names the chain head, and lists the cited events'
hashes; the export adds a **checkpoint**: a manifest of the cited ``(seq, hash)`` pairs and the head,
signed with the report key (Ed25519), recorded itself as an audit event. An auditor re-verifies it offline
from the exported event bundle with :mod:`qiantou.assessment.offline` — no database, no server.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from qiantou.accounts.models import User
from qiantou.audit.models import AuditEvent
from qiantou.audit.verification import chain_head, verify_chain
from qiantou.chasing.calendar import SHANGHAI, get_calendar
from qiantou.chasing.ladder import fire_time
from qiantou.chasing.models import (
    ChaseItem,
    MaterialRequest,
    Petition,
    RecipientRole,
    Reminder,
    ReportRequest,
)
from qiantou.chasing.selectors import ladder_for
from qiantou.plans.models import Plan, Task, TaskUnit, TaskUnitRole
from qiantou.units.models import Unit
from qiantou.workdays.calendar import EARLIEST_DATE, LATEST_DATE

ACTION_LABELS = {
    "plan.create": "新建方案",
    "plan.update": "修改方案",
    "plan.status": "方案状态变更",
    "plan.version": "形成版本",
    "plan.import": "导入方案",
    "plan.issue": "印发方案",
    "approval.submit": "提请签批",
    "approval.approve": "签批同意",
    "approval.return": "签批退回",
    "approval.chain": "设定签批流程",
    "task.create": "交办任务",
    "task.update": "修改任务",
    "task.delete": "删除任务",
    "task.progress_import": "台账导入进展",
    "material_request.create": "发出材料报送要求",
    "material_request.submit": "报送材料",
    "material_request.accept": "采用材料",
    "material_request.return": "退回材料",
    "report_request.create": "发起进展报送",
    "progress_report.submit": "报送进展",
    "reminder.sent": "发出催办",
    "reminder.delivered": "催办已送达",
    "reminder.acknowledged": "确认收到催办",
    "reminder.cancelled": "取消催办（事项已完成）",
    "petition.difficulty": "反映困难",
    "petition.extension": "申请延期",
    "petition.granted": "同意",
    "petition.refused": "不同意",
    "petition.resolved": "协调解决",
    "petition.escalated": "提请分管领导决定",
    "assessment.rating": "质量评分",
}
ESCALATION_ROLES = frozenset(
    {RecipientRole.UNIT_HEAD, RecipientRole.LEADER_IN_CHARGE, RecipientRole.SUPERVISION_OFFICE}
)


class ReportScopeError(ValueError):
    """The report's scope or dates are malformed (the message says what; ``field`` names the parameter:
    ``scope``, ``start`` or ``end``)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


REPORT_SCOPES = ("task", "plan", "unit")


def period_check(*, start: dt.date, end: dt.date, as_of: dt.date | None = None) -> None:
    """Refuse a date outside 2000–2100 (the working calendar's range,
    :data:`qiantou.workdays.calendar.EARLIEST_DATE`–``LATEST_DATE``) and an end before the start, for
    the report and the scorecard. Raises :class:`ReportScopeError` naming the parameter."""
    dates = (("start", "开始日期", start), ("end", "结束日期", end), ("as_of", "截至日期", as_of))
    for name, label, day in dates:
        if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
            raise ReportScopeError(f"{label}（{name}）应在 2000 年至 2100 年之间：{day.isoformat()}", name)
    if end < start:
        raise ReportScopeError("结束日期（end）早于开始日期（start）。", "end")


def report_params_check(*, scope: str, start: dt.date, end: dt.date) -> None:
    """Refuse a scope other than task / plan / unit, then the period as :func:`period_check` does.
    Raises :class:`ReportScopeError` naming the parameter."""
    if scope not in REPORT_SCOPES:
        raise ReportScopeError(f"范围（scope）应为 task / plan / unit：{scope}", "scope")
    period_check(start=start, end=end)


@dataclass
class TimelineEntry:
    """One cited event, as the report prints it."""

    seq: int
    at: dt.datetime
    actor: str
    actor_unit: str
    action: str
    label: str
    subject: str
    detail: str
    responsible: str
    hash: str


@dataclass
class ReminderLine:
    """One reminder with its states and whether it went out on the ladder's day."""

    reminder_id: int
    item_title: str
    unit: str
    rung: str
    label: str
    recipients: str
    due_date: dt.date
    expected_at: dt.datetime | None
    sent_at: dt.datetime | None
    delivered: list[str]
    acknowledged_at: dt.datetime | None
    acknowledged_by: str
    escalation: bool
    cancelled: bool

    @property
    def on_time(self) -> bool | None:
        """Sent on the day the ladder set (None when not sent)."""
        if self.sent_at is None or self.expected_at is None:
            return None
        return self.sent_at.astimezone(SHANGHAI).date() <= self.expected_at.astimezone(SHANGHAI).date()

    @property
    def state(self) -> str:
        """已确认 / 已送达未确认 / 已发出未送达 / 已取消 / 未发出."""
        if self.cancelled:
            return "已取消（事项已完成）"
        if self.acknowledged_at:
            return "已确认"
        if self.delivered:
            return "已送达，未确认"
        if self.sent_at:
            return "已发出，未确认"
        return "未发出"


@dataclass
class Verification:
    """The chain check for the report: whole chain OK?, head, the cited events and their hashes."""

    ok: bool
    message: str
    head_seq: int
    head_hash: str
    chain_count: int
    cited: list[tuple[int, str]]
    broken_seq: int | None = None
    broken_cited: bool = False


@dataclass
class AccountabilityReport:
    """Everything the report shows; render with :mod:`qiantou.assessment.exports`."""

    scope: str
    scope_id: int
    scope_label: str
    start: dt.date
    end: dt.date
    generated_at: dt.datetime
    generated_by: str
    lead_unit: str
    assignments: list[dict[str, Any]]
    timeline: list[TimelineEntry]
    reminders: list[ReminderLine]
    findings: list[str]
    verification: Verification
    checkpoint: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The report's title."""
        return f"{self.scope_label}履职情况记录（问责/审计材料）"


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(SHANGHAI)


def _scope_objects(scope: str, obj: Any) -> tuple[list[int], list[int], list[ChaseItem], str, str]:
    """(plan ids, task ids, chase items, scope label, lead unit name) of a task, plan or unit."""
    if scope == "task":
        task: Task = obj
        items = list(ChaseItem.objects.filter(task=task).select_related("unit", "plan"))
        label = f"任务“{task.no} {task.text[:40]}”"
        return [task.plan_id], [task.pk], items, label, task.plan.lead_unit.name
    if scope == "plan":
        plan: Plan = obj
        task_ids = list(Task.objects.filter(plan=plan).values_list("pk", flat=True))
        items = list(ChaseItem.objects.filter(plan=plan).select_related("unit", "plan"))
        return [plan.pk], task_ids, items, f"方案“{plan.title}”", plan.lead_unit.name
    if scope == "unit":
        unit: Unit = obj
        items = list(ChaseItem.objects.filter(unit=unit).select_related("unit", "plan"))
        task_ids = sorted(set(TaskUnit.objects.filter(unit=unit).values_list("task_id", flat=True)))
        return [], task_ids, items, f"{unit.name}", ""
    raise ReportScopeError(f"未知的范围：{scope}（task / plan / unit）")


def build_report(
    *,
    scope: str,
    obj: Any,
    start: dt.date,
    end: dt.date,
    generated_by: Any = None,
    verify: bool = True,
) -> AccountabilityReport:
    """Build the report for ``obj`` (a Task, Plan or Unit, by ``scope``) over events dated ``[start, end]``
    (Asia/Shanghai). The caller checks the user may see ``obj``. Raises :class:`ReportScopeError`."""
    report_params_check(scope=scope, start=start, end=end)
    plan_ids, task_ids, items, label, lead_name = _scope_objects(scope, obj)
    if generated_by is not None:
        # Only tasks the reader may see (plans/rules.py): a restricted task of a plan the reader's unit
        # does not lead stays out unless it names that unit — its events, chase items and assignments.
        from qiantou.plans.selectors import task_list_for

        visible: set[int] = set()
        for i in range(0, len(task_ids), 2000):
            chunk = task_ids[i : i + 2000]
            visible.update(task_list_for(generated_by).filter(pk__in=chunk).values_list("pk", flat=True))
        task_ids = [pk for pk in task_ids if pk in visible]
        items = [item for item in items if item.task_id is None or item.task_id in visible]
    item_ids = [i.pk for i in items]
    items_by_id = {i.pk: i for i in items}
    mr = dict(MaterialRequest.objects.filter(item_id__in=item_ids).values_list("pk", "item_id"))
    rr = dict(ReportRequest.objects.filter(item_id__in=item_ids).values_list("pk", "item_id"))
    pet = dict(Petition.objects.filter(item_id__in=item_ids).values_list("pk", "item_id"))
    rem = dict(Reminder.objects.filter(item_id__in=item_ids).values_list("pk", "item_id"))
    targets: list[tuple[str, list[int]]] = [
        ("plans.plan", plan_ids),
        ("plans.task", task_ids),
        ("chasing.materialrequest", list(mr)),
        ("chasing.reportrequest", list(rr)),
        ("chasing.petition", list(pet)),
        ("chasing.reminder", list(rem)),
    ]
    owner: dict[tuple[str, str], int] = {}
    for otype, mapping in (
        ("chasing.materialrequest", mr),
        ("chasing.reportrequest", rr),
        ("chasing.petition", pet),
        ("chasing.reminder", rem),
    ):
        for pk, item_id in mapping.items():
            owner[(otype, str(pk))] = item_id
    q = Q(pk__in=[])
    for otype, ids in targets:
        for i in range(0, len(ids), 2000):
            q |= Q(object_type=otype, object_id__in=[str(x) for x in ids[i : i + 2000]])
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=SHANGHAI)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=SHANGHAI)
    events = list(AuditEvent.objects.filter(q, created_at__gte=lo, created_at__lt=hi).order_by("seq"))
    unit_names = dict(Unit.objects.values_list("pk", "name"))
    task_rows = {
        t["pk"]: t
        for t in Task.objects.filter(pk__in=task_ids).values("pk", "no", "text", "deadline", "plan_id")
    }
    task_units: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"lead": [], "cooperating": []})
    for task_id, role, unit_id, printed in (
        TaskUnit.objects.filter(task_id__in=task_ids, role__in=[TaskUnitRole.LEAD, TaskUnitRole.COOPERATING])
        .order_by("task_id", "role", "position")
        .values_list("task_id", "role", "unit_id", "printed_name")
    ):
        task_units[task_id][role].append(unit_names.get(unit_id, printed) if unit_id else printed)
    # Who owed each item, and its due date as the events unfold (extensions move it).
    due_now: dict[int, dt.date] = {}
    for item in items:
        due_now[item.pk] = item.due_date
    first_due: dict[int, dt.date] = {}
    for p in AuditEvent.objects.filter(
        action="petition.granted", object_type="chasing.petition", object_id__in=[str(p) for p in pet]
    ).values_list("payload", flat=True):
        granted_item = int(p.get("item") or 0)
        if p.get("old_due_date") and granted_item not in first_due:
            first_due[granted_item] = dt.date.fromisoformat(p["old_due_date"])
    current_due = {k: first_due.get(k, v) for k, v in due_now.items()}
    timeline: list[TimelineEntry] = []
    for e in events:
        payload = e.payload or {}
        owner_item = owner.get((e.object_type, e.object_id))
        responsible = ""
        subject = ""
        if owner_item is not None:
            item = items_by_id[owner_item]
            if e.action == "petition.granted" and payload.get("new_due_date"):
                current_due[owner_item] = dt.date.fromisoformat(payload["new_due_date"])
            responsible = f"{item.unit.name}（{current_due[owner_item]:%Y-%m-%d}前）"
            subject = item.title
        elif e.object_type == "plans.task" and e.object_id.isdigit() and int(e.object_id) in task_rows:
            t = task_rows[int(e.object_id)]
            subject = f"{t['no']} {t['text'][:40]}"
            lead = task_units[t["pk"]]["lead"]
            responsible = "牵头：" + "、".join(lead) if lead else ""
        elif e.object_type == "plans.plan":
            subject = "方案"
            responsible = f"牵头：{lead_name}" if lead_name else ""
        timeline.append(
            TimelineEntry(
                seq=e.seq,
                at=_local(e.created_at),
                actor=e.actor_name,
                actor_unit=unit_names.get(e.actor_unit_id, "") if e.actor_unit_id else "（系统）",
                action=e.action,
                label=ACTION_LABELS.get(e.action, e.action),
                subject=subject,
                detail=_detail(e.action, payload, unit_names),
                responsible=responsible,
                hash=e.hash,
            )
        )
    reminders = _reminder_lines(items_by_id, events)
    assignments = [
        {
            "no": t["no"],
            "text": t["text"],
            "deadline": t["deadline"],
            "lead": "、".join(task_units[t["pk"]]["lead"]),
            "cooperating": "、".join(task_units[t["pk"]]["cooperating"]),
        }
        for t in sorted(task_rows.values(), key=lambda r: r["pk"])
    ][:500]
    verification = (
        _verify([(t.seq, t.hash) for t in timeline])
        if verify
        else Verification(True, "未验证", *chain_head(), 0, [(t.seq, t.hash) for t in timeline])
    )
    return AccountabilityReport(
        scope=scope,
        scope_id=obj.pk,
        scope_label=label,
        start=start,
        end=end,
        generated_at=timezone.now().astimezone(SHANGHAI),
        generated_by=str(generated_by) if generated_by is not None else "",
        lead_unit=lead_name,
        assignments=assignments,
        timeline=timeline,
        reminders=reminders,
        findings=_findings(reminders, timeline),
        verification=verification,
    )


def _detail(action: str, p: dict[str, Any], units: dict[int, str]) -> str:
    """A short Chinese line of what an event's payload says."""
    parts = []
    if p.get("title"):
        parts.append(str(p["title"]))
    if p.get("unit") and isinstance(p["unit"], int):
        parts.append(f"责任单位：{units.get(p['unit'], p['unit'])}")
    if p.get("due_date"):
        parts.append(f"截止：{p['due_date']}")
    if p.get("label"):
        parts.append(str(p["label"]))
    if p.get("recipients"):
        parts.append(
            "发送给：" + "、".join(str(r.get("name", "")) for r in p["recipients"] if isinstance(r, dict))
        )
    if p.get("channel"):
        parts.append(f"渠道：{p['channel']}")
    if action.startswith("material_request.") or action == "progress_report.submit":
        if p.get("late") is True:
            parts.append("逾期报送")
        elif p.get("late") is False:
            parts.append("按时报送")
    if p.get("reason"):
        parts.append(f"理由：{p['reason']}")
    if p.get("requested_due_date"):
        parts.append(f"申请延至：{p['requested_due_date']}")
    if p.get("note"):
        parts.append(f"意见：{p['note']}")
    if p.get("new_due_date"):
        parts.append(f"截止日期由{p.get('old_due_date')}改为{p['new_due_date']}")
    if p.get("rating"):
        parts.append(f"评分：{p['rating']}")
    if p.get("from") and p.get("to"):
        parts.append(f"{p['from']}→{p['to']}")
    return "；".join(parts)


def _reminder_lines(items: dict[int, ChaseItem], events: list[AuditEvent]) -> list[ReminderLine]:
    sent: dict[str, dt.datetime] = {}
    delivered: dict[str, list[str]] = defaultdict(list)
    for e in events:
        if e.object_type != "chasing.reminder":
            continue
        if e.action == "reminder.sent":
            sent.setdefault(e.object_id, e.created_at)
        elif e.action == "reminder.delivered":
            delivered[e.object_id].append(
                f"{e.payload.get('channel', '')} {_local(e.created_at):%m-%d %H:%M}"
            )
    cal = get_calendar()
    ladders: dict[int, Any] = {}
    ackers = dict(
        User.objects.filter(
            pk__in=Reminder.objects.filter(item_id__in=list(items)).values("acknowledged_by")
        ).values_list("pk", "display_name")
    )
    lines = []
    for r in Reminder.objects.filter(item_id__in=list(items)).order_by("item_id", "rung_index"):
        item = items[r.item_id]
        ladder = ladders.setdefault(item.plan_id, ladder_for(item.plan_id))
        rung = next((x for x in ladder.rungs if x.key == r.rung), None)
        expected: dt.datetime | None = None
        if rung is not None:
            try:
                expected = fire_time(rung, r.due_date, cal, ladder.send_time)
            except Exception:  # an unloaded year: fall back to what the scheduler planned
                expected = r.scheduled_for
            if expected is not None and expected < item.created_at:
                # The item (e.g. a request made late) did not exist when the rung was due: the ladder's
                # time for it is the item's creation, not a moment nobody could have reminded anyone.
                expected = item.created_at
        lines.append(
            ReminderLine(
                reminder_id=r.pk,
                item_title=item.title,
                unit=item.unit.name,
                rung=r.rung,
                label=r.label,
                recipients="、".join(str(x.get("name", "")) for x in r.recipients or []),
                due_date=r.due_date,
                expected_at=_local(expected) if expected else None,
                # The rung's firing instant (the scheduler's clock); the ``reminder.sent`` event follows it
                # within the same dispatch and is listed in the timeline.
                sent_at=_local(r.fired_at)
                if (str(r.pk) in sent or r.dispatched_at) and not r.cancelled
                else None,
                delivered=delivered.get(str(r.pk), []),
                acknowledged_at=_local(r.acknowledged_at) if r.acknowledged_at else None,
                acknowledged_by=ackers.get(r.acknowledged_by_id, "") if r.acknowledged_by_id else "",
                escalation=bool(set(r.recipient_roles) & ESCALATION_ROLES),
                cancelled=r.cancelled,
            )
        )
    return lines


def _findings(reminders: list[ReminderLine], timeline: list[TimelineEntry]) -> list[str]:
    """Plain statements a reader needs first: unanswered reminders per unit, escalations on time."""
    out = []
    by_unit: dict[str, list[ReminderLine]] = defaultdict(list)
    for r in reminders:
        if r.sent_at and not r.cancelled:
            by_unit[r.unit].append(r)
    for unit, lines in by_unit.items():
        unacked = [r for r in lines if r.acknowledged_at is None]
        if unacked:
            out.append(f"{unit}：收到催办{len(lines)}次，其中{len(unacked)}次未确认收到。")
        else:
            out.append(f"{unit}：收到催办{len(lines)}次，均已确认收到。")
    esc = [r for r in reminders if r.escalation and r.sent_at]
    if esc:
        late = [r for r in esc if r.on_time is False]
        if late:
            out.append(f"升级催办{len(esc)}次，其中{len(late)}次晚于催办阶梯规定的时点。")
        else:
            out.append(
                f"牵头单位按催办阶梯按时升级催办{len(esc)}次（"
                + "；".join(f"{r.label}，{r.sent_at:%Y-%m-%d}" for r in esc if r.sent_at)
                + "）。"
            )
    refusals = [t for t in timeline if t.action in ("petition.refused", "material_request.return")]
    if refusals:
        out.append(f"不同意或退回{len(refusals)}次，理由见时间线。")
    return out


def _verify(cited: list[tuple[int, str]]) -> Verification:
    """Verify the whole chain; a break at or before the last cited event fails the report."""
    result = verify_chain()
    if result.ok:
        message = f"验证通过：全链{result.count}条记录完整，链头 #{result.head_seq}。"
        return Verification(True, message, result.head_seq, result.head_hash, result.count, cited)
    assert result.broken is not None
    broken = result.broken.seq
    cited_seqs = {s for s, _ in cited}
    head_seq, head_hash = chain_head()
    return Verification(
        ok=False,
        message=f"验证失败：第 #{broken} 条记录之处断链 —— {result.broken.message}",
        head_seq=head_seq,
        head_hash=head_hash,
        chain_count=result.count,
        cited=cited,
        broken_seq=broken,
        broken_cited=broken in cited_seqs,
    )
