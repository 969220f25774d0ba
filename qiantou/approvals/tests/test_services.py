"""Sign-off and issuing: no sign-off with unanswered comments, the ordered chain, only the current
approver acts, return sends the plan back to draft with remarks, approval freezes, issue binds and
notifies, the official document."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from qiantou.approvals import services
from qiantou.approvals.documents import official_document_for
from qiantou.approvals.models import Decision, RequestStatus
from qiantou.audit.models import AuditEvent
from qiantou.consultation import services as consultation
from qiantou.consultation.tests.factories import World, make_world
from qiantou.documents import official_docx, official_pdf
from qiantou.errors import ConflictError, StateError
from qiantou.notifications.models import InboxItem
from qiantou.plans import services as plan_services
from qiantou.plans.models import Plan, PlanStatus, Task
from qiantou.plans.selectors import today

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


def consulted(world: World) -> None:
    """A closed round with one comment, disposed."""
    rnd = consultation.round_open(
        actor=world.handler, plan=world.plan, closes_on=today() + dt.timedelta(days=5)
    )
    c = consultation.comment_create(
        actor=world.liaison_a, round=rnd, body="时限过紧", task_id=world.tasks[1].pk
    )
    with pytest.raises(StateError):  # round still open
        services.plan_submit(actor=world.handler, plan=world.plan)
    consultation.round_close(actor=world.handler, round=rnd, early=True)
    with pytest.raises(StateError) as exc:  # comment unanswered
        services.plan_submit(actor=world.handler, plan=world.plan)
    assert "未处理" in str(exc.value)
    consultation.comment_dispose(
        actor=world.handler, comment=c, disposition="not_adopted", reason="上级文件已明确时限", lock_version=0
    )


def plan(world: World) -> Plan:
    return Plan.objects.get(pk=world.plan.pk)


def test_default_chain_leader_then_principal_only_current_approver_acts(world: World) -> None:
    consulted(world)
    req = services.plan_submit(actor=world.handler, plan=world.plan, note="请审定")
    assert plan(world).status == PlanStatus.APPROVING
    assert [s.approver for s in req.steps.order_by("position")] == [world.leader, world.principal]
    assert req.version.number == 1  # nothing changed since the circulated version
    assert InboxItem.objects.filter(user=world.leader).exists()
    assert not InboxItem.objects.filter(user=world.principal).exists()
    for user in (world.principal, world.handler, world.liaison_a, world.auditor):
        with pytest.raises(PermissionDenied):
            services.approval_approve(actor=user, request=req, lock_version=req.lock_version)
    req = services.approval_approve(actor=world.leader, request=req, lock_version=0, remarks="同意")
    assert req.status == RequestStatus.PENDING and req.current_position == 1
    with pytest.raises(PermissionDenied):  # the leader already signed; now it is the principal's turn
        services.approval_approve(actor=world.leader, request=req, lock_version=req.lock_version)
    with pytest.raises(ConflictError):  # a stale form
        services.approval_approve(actor=world.principal, request=req, lock_version=0)
    req = services.approval_approve(actor=world.principal, request=req, lock_version=req.lock_version)
    assert req.status == RequestStatus.APPROVED
    assert plan(world).status == PlanStatus.APPROVING  # frozen until issued
    with pytest.raises(StateError):
        plan_services.task_update(actor=world.handler, task=world.tasks[0], lock_version=0, text="改")
    with pytest.raises(StateError):
        services.approval_approve(actor=world.principal, request=req, lock_version=req.lock_version)
    assert [e for e in AuditEvent.objects.values_list("action", flat=True) if e.startswith("approval.")] == [
        "approval.submit",
        "approval.approve",
        "approval.approve",
    ]


def test_return_sends_back_to_draft_with_remarks_then_resubmit(world: World) -> None:
    consulted(world)
    req = services.plan_submit(actor=world.handler, plan=world.plan)
    with pytest.raises(ValidationError):
        services.approval_return(actor=world.leader, request=req, lock_version=0, remarks="  ")
    req = services.approval_return(actor=world.leader, request=req, lock_version=0, remarks="第2项时限再研究")
    assert req.status == RequestStatus.RETURNED
    steps = list(req.steps.order_by("position"))
    assert (steps[0].decision, steps[0].remarks) == (Decision.RETURNED, "第2项时限再研究")
    assert steps[1].decision == Decision.SKIPPED
    assert plan(world).status == PlanStatus.DRAFT
    assert InboxItem.objects.filter(user=world.handler, message__body="第2项时限再研究").exists()
    t2 = Task.objects.get(pk=world.tasks[1].pk)
    plan_services.task_update(
        actor=world.handler, task=t2, lock_version=t2.lock_version, deadline_text="2026年10月底前"
    )
    again = services.plan_submit(actor=world.handler, plan=world.plan)
    assert again.version.number == 2  # the change was frozen as a new version on submission
    for approver in (world.leader, world.principal):
        again = services.approval_approve(actor=approver, request=again, lock_version=again.lock_version)
    assert again.status == RequestStatus.APPROVED
    assert AuditEvent.objects.filter(action="approval.return").count() == 1


def test_configurable_chain(world: World) -> None:
    with pytest.raises(ValidationError):  # a liaison of another unit cannot sign
        services.chain_set(actor=world.handler, plan=world.plan, approvers=[world.liaison_a])
    with pytest.raises(PermissionDenied):
        services.chain_set(actor=world.liaison_a, plan=world.plan, approvers=[world.principal])
    services.chain_set(actor=world.handler, plan=world.plan, approvers=[world.principal, world.leader])
    req = services.plan_submit(actor=world.handler, plan=world.plan)
    assert [s.approver for s in req.steps.order_by("position")] == [world.principal, world.leader]
    with pytest.raises(StateError):
        services.chain_set(actor=world.handler, plan=world.plan, approvers=[world.leader])


def test_issue_binds_notifies_every_unit_and_exports_the_official_document(world: World) -> None:
    from docx import Document

    consulted(world)
    req = services.plan_submit(actor=world.handler, plan=world.plan)
    with pytest.raises(StateError):  # not approved yet
        services.plan_issue(actor=world.handler, plan=world.plan)
    for approver in (world.leader, world.principal):
        req = services.approval_approve(actor=approver, request=req, lock_version=req.lock_version)
    with pytest.raises(PermissionDenied):
        services.plan_issue(actor=world.leader, plan=world.plan)
    InboxItem.objects.all().delete()
    req = services.plan_issue(
        actor=world.handler,
        plan=world.plan,
        doc_number="青民〔2026〕7号",
        main_recipients="市司法局，市财政局，市人力资源社会保障局",
        issued_on=dt.date(2026, 3, 5),
    )
    p = plan(world)
    assert (p.status, p.doc_number, p.issued_on) == (
        PlanStatus.ISSUED,
        "青民〔2026〕7号",
        dt.date(2026, 3, 5),
    )
    assert req.status == RequestStatus.ISSUED
    # every lead and cooperating unit: the three liaisons, and the lead unit itself (it leads task 1)
    notified = set(InboxItem.objects.values_list("user__username", flat=True))
    assert notified == {"liaison_a", "liaison_b", "liaison_c", "handler", "handler2"}
    assert all(t.status == "open" for t in Task.objects.filter(plan=p))
    issue_event = AuditEvent.objects.get(action="plan.issue")
    assert issue_event.payload["doc_number"] == "青民〔2026〕7号"
    with pytest.raises(StateError):
        services.plan_issue(actor=world.handler, plan=world.plan)

    doc = official_document_for(req)
    parsed = Document(io.BytesIO(official_docx(doc)))
    texts = [para.text for para in parsed.paragraphs]
    assert "青山市民政局文件" in texts and "青民〔2026〕7号" in texts
    assert "青山市民政局关于印发《低收入人口常态化帮扶工作任务分工》的通知" in texts
    assert "市司法局，市财政局，市人力资源社会保障局：" in texts
    assert "2026年3月5日" in texts and "附件：低收入人口常态化帮扶工作任务分工" in texts
    authority = next(para for para in parsed.paragraphs if para.text == "青山市民政局文件")
    assert str(authority.runs[0].font.color.rgb) == "FF0000"
    from docx.oxml.ns import qn

    east_asia = authority.runs[0]._element.xpath("./w:rPr/w:rFonts")[0].get(qn("w:eastAsia"))
    assert east_asia == "方正小标宋简体"
    rows = [[c.text for c in r.cells] for r in parsed.tables[0].rows]
    assert rows[0] == ["序号", "任务内容", "牵头单位", "配合单位", "完成时限"]
    assert rows[2] == ["2", "做好刑满释放人员救助衔接", "青山市司法局", "青山市民政局", "2026年9月底前"]
    pdf = official_pdf(doc)
    assert pdf.startswith(b"%PDF")
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as reader:
        first = reader.pages[0]
        text = first.extract_text()
        assert "青山市民政局文件" in text.replace(" ", "") and "青民〔2026〕7号" in text
        assert any("Noto" in ch["fontname"] and "CJK" in ch["fontname"] for ch in first.chars)
        assert any(
            "做好刑满释放人员救助衔接" in (pg.extract_text() or "").replace(" ", "")
            for pg in reader.pages[1:]
        )
