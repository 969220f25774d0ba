"""Demo data: a plan of 青山市民政局 that went through the whole path — a consultation round of three
units (one commented on two tasks, one had no objection, one had not answered when the handler
closed the round early, confirming it), dispositions (one
adopted, one not, with its reason), version 2, a return by the leader in charge, both signatures and
the issue. Called from ``qiantou demo_load``; idempotent (skips when the plan exists)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from qiantou.accounts.models import User
from qiantou.approvals import services as approvals
from qiantou.consultation import services
from qiantou.consultation.models import Disposition
from qiantou.plans import services as plans
from qiantou.plans.models import Plan, Task
from qiantou.plans.selectors import today
from qiantou.units.models import Unit

TITLE = "青山市困难群众基本生活保障工作任务分工"


def load_demo_round() -> Plan | None:
    """Create the demo plan and take it from draft to issued; None when it exists or users are missing."""
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=["mzj_handler", "sfj_liaison", "czj_liaison", "mzj_leader", "mzj_principal"]
        )
    }
    units = {u.code: u for u in Unit.objects.filter(code__in=["QS0206", "QS0207", "QS0208", "QS0209"])}
    if len(users) < 5 or len(units) < 4:
        return None
    mz, sf, cz, rs = (units[c] for c in ("QS0206", "QS0207", "QS0208", "QS0209"))
    if Plan.objects.filter(title=TITLE, lead_unit=mz).exists():
        return None
    handler = users["mzj_handler"]
    day = today()
    year_end = dt.date(day.year, 12, 31)
    with transaction.atomic():
        plan = plans.plan_create(
            actor=handler,
            title=TITLE,
            year=day.year,
            lead_rule="各项任务排在第一位的为牵头单位，其他为配合单位。",
        )
        t1 = plans.task_create(
            actor=handler,
            plan=plan,
            no="1",
            text="完善最低生活保障对象动态管理，按季度开展复核",
            lead_units=[mz],
            cooperating_units=[cz],
            deadline_text="每季度末",
            deadline_kind="recurring",
        )
        t2 = plans.task_create(
            actor=handler,
            plan=plan,
            no="2",
            text="建立服刑人员信息比对机制，及时停发在押服刑人员低保金",
            lead_units=[mz],
            cooperating_units=[sf],
            deadline_text="6月底前",
            deadline=dt.date(day.year, 6, 30),
        )
        plans.task_create(
            actor=handler,
            plan=plan,
            no="3",
            text="做好就业困难人员就业援助，落实公益性岗位兜底安置",
            lead_units=[rs],
            cooperating_units=[mz],
            deadline_text="年底前",
            deadline=year_end,
        )
        plans.task_create(
            actor=handler,
            plan=plan,
            no="4",
            text="足额安排困难群众救助补助资金，及时拨付到位",
            lead_units=[cz],
            cooperating_units=[mz],
            deadline_text="持续推进",
            deadline_kind="open_ended",
        )
        rnd = services.round_open(
            actor=handler,
            plan=plan,
            closes_on=day + dt.timedelta(days=7),
            units=[sf, cz, rs],
            note="请于截止日期前反馈意见，逾期未反馈视为无意见。",
        )
        c1 = services.comment_create(
            actor=users["sfj_liaison"],
            round=rnd,
            task_id=t2.pk,
            body="服刑人员信息比对涉及个人敏感信息，建议改为通过隐私计算方式按月核对，时限调整为9月底前。",
        )
        c2 = services.comment_create(
            actor=users["sfj_liaison"], round=rnd, task_id=t1.pk, body="建议增加司法局为配合单位。"
        )
        services.no_objection_record(actor=users["czj_liaison"], round=rnd)
        # closed before its closing date, confirmed: 人社局 had not answered (提前截止时未反馈，视为无意见)
        services.round_close(actor=handler, round=rnd, early=True)
        services.comment_dispose(actor=handler, comment=c1, disposition=Disposition.ADOPTED, lock_version=0)
        services.comment_dispose(
            actor=handler,
            comment=c2,
            disposition=Disposition.NOT_ADOPTED,
            reason="动态管理复核由民政部门依职责负责，服刑人员信息比对已在第2项明确。",
            lock_version=0,
        )
        t2 = Task.objects.get(pk=t2.pk)
        plans.task_update(
            actor=handler,
            task=t2,
            lock_version=t2.lock_version,
            text="建立服刑人员信息比对机制，按月以隐私计算方式核对，及时停发在押服刑人员低保金",
            deadline_text="9月底前",
            deadline=dt.date(day.year, 9, 30),
        )
        services.plan_revision_create(actor=handler, plan=plan, note="采纳市司法局意见修改第2项")
        req = approvals.plan_submit(
            actor=handler, plan=plan, note="已征求市司法局、市财政局、市人力资源社会保障局意见"
        )
        approvals.approval_return(
            actor=users["mzj_leader"],
            request=req,
            lock_version=req.lock_version,
            remarks="第4项请写明资金拨付时限。",
        )
        t4 = Task.objects.get(plan=plan, no="4")
        plans.task_update(
            actor=handler,
            task=t4,
            lock_version=t4.lock_version,
            text="足额安排困难群众救助补助资金，每季度首月拨付到位",
            deadline_text="每季度首月",
        )
        req = approvals.plan_submit(actor=handler, plan=plan, note="已按批示修改第4项")
        for username in ("mzj_leader", "mzj_principal"):
            req = approvals.approval_approve(
                actor=users[username], request=req, lock_version=req.lock_version
            )
        approvals.plan_issue(
            actor=handler,
            plan=plan,
            doc_number=f"青民〔{day.year}〕18号",
            main_recipients="市司法局，市财政局，市人力资源社会保障局",
            issued_on=day,
        )
    return plan
