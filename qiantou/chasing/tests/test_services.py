"""Material requests, uploads, progress reports, difficulty and extension requests, permissions."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied

from qiantou.audit.models import AuditEvent
from qiantou.chasing import services
from qiantou.chasing.models import (
    Attachment,
    ChaseItem,
    ItemState,
    MaterialStatus,
    MaterialSubmission,
    Petition,
    PetitionStatus,
    Reminder,
    ReportCycle,
    ReportRequest,
)
from qiantou.chasing.scheduler import tick
from qiantou.chasing.selectors import Light, status_light
from qiantou.chasing.tests.factories import City, at, make_plan, make_task, run_jobs
from qiantou.chasing.uploads import UploadRejected, check_upload
from qiantou.errors import StateError
from qiantou.workdays import RuleError

pytestmark = pytest.mark.django_db


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def _request(city: City) -> services.MaterialRequest:
    plan = make_plan(city)
    return services.material_request_create(
        actor=city.handler,
        plan=plan,
        unit=city.coop_a,
        title="统计数据",
        due_date=dt.date(2024, 3, 15),
        now=at("2024-03-01 08:00"),
    )


def test_submit_accept_and_history(city: City) -> None:
    req = _request(city)
    sub = services.material_submit(
        actor=city.liaison_a,
        request=req,
        text="见附件",
        files=[("数据.docx", _docx()), ("说明.pdf", b"%PDF-1.7\n...")],
        now=at("2024-03-10 10:00"),
    )
    req.refresh_from_db()
    assert req.status == MaterialStatus.SUBMITTED
    assert req.item.state == ItemState.DONE and ChaseItem.objects.get(pk=req.item.pk).next_remind_at is None
    assert sorted(Attachment.objects.filter(submission=sub).values_list("kind", flat=True)) == ["docx", "pdf"]
    with pytest.raises(PermissionDenied):
        services.material_decide(actor=city.liaison_a, submission=sub, accept=True)
    services.material_decide(actor=city.handler, submission=sub, accept=True)
    req.refresh_from_db()
    assert req.status == MaterialStatus.ACCEPTED
    actions = list(
        AuditEvent.objects.filter(object_id=str(req.pk), object_type="chasing.materialrequest").values_list(
            "action", flat=True
        )
    )
    assert actions == ["material_request.create", "material_request.submit", "material_request.accept"]


def test_returned_submission_reopens_the_ladder(city: City) -> None:
    req = _request(city)
    tick(now=at("2024-03-12 09:00"))  # notice fired
    sub = services.material_submit(actor=city.liaison_a, request=req, text="初稿", now=at("2024-03-18 10:00"))
    with pytest.raises(services.ChasingError, match="理由"):
        services.material_decide(actor=city.handler, submission=sub, accept=False, reason=" ")
    services.material_decide(
        actor=city.handler, submission=sub, accept=False, reason="缺少分区县数据", now=at("2024-03-18 11:00")
    )
    item = ChaseItem.objects.get(pk=req.item.pk)
    assert item.state == ItemState.OPEN
    # due (3/15) and overdue_1 (3/18 09:00) already past at 11:00: the latest past rung fires next, at once
    assert item.next_remind_at == at("2024-03-18 09:00")
    tick(now=at("2024-03-18 11:00"))
    assert set(Reminder.objects.filter(item=item).values_list("rung", flat=True)) == {"notice", "overdue_1"}
    second = services.material_submit(
        actor=city.liaison_a, request=req, text="补充后", now=at("2024-03-19 10:00")
    )
    assert MaterialSubmission.objects.filter(request=req).count() == 2 and second.decision == "pending"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 100, "可执行程序"),
        ("报告.pdf", b"MZ\x90\x00" + b"\x00" * 100, "可执行程序"),
        ("page.html", b"<!DOCTYPE html><script>alert(1)</script>", "网页"),
        ("run.sh", b"#!/bin/sh\nrm -rf /\n", "脚本"),
        ("data.docx", b"%PDF-1.4 not a docx", "扩展名与内容不符"),
        ("blob.bin", bytes(range(256)) * 4, "无法识别"),
        ("archive.zip", b"PK\x03\x04" + b"\x00" * 40, "无法识别"),
        ("empty.txt", b"", "空文件"),
    ],
)
def test_forbidden_uploads_are_refused_and_nothing_changes(
    city: City, name: str, data: bytes, reason: str
) -> None:
    req = _request(city)
    before = (MaterialSubmission.objects.count(), Attachment.objects.count(), AuditEvent.objects.count())
    with pytest.raises(UploadRejected, match=reason) as err:
        services.material_submit(
            actor=city.liaison_a, request=req, text="附件", files=[("好的.pdf", b"%PDF-1.7 ok"), (name, data)]
        )
    assert name in str(err.value)
    req.refresh_from_db()
    assert req.status == MaterialStatus.OPEN
    assert (
        MaterialSubmission.objects.count(),
        Attachment.objects.count(),
        AuditEvent.objects.count(),
    ) == before


def test_oversized_upload_is_refused(city: City, settings: object) -> None:
    settings.QIANTOU_CHASING_MAX_UPLOAD_BYTES = 1024  # type: ignore[attr-defined]
    req = _request(city)
    with pytest.raises(UploadRejected, match="超过上限"):
        services.material_submit(
            actor=city.liaison_a, request=req, files=[("大.pdf", b"%PDF-" + b"0" * 2000)]
        )
    assert not MaterialSubmission.objects.exists()


def test_text_files_in_chinese_encodings_are_accepted() -> None:
    assert check_upload("说明.txt", "进展情况说明".encode("gb18030")).kind == "text"
    assert check_upload("表.csv", "单位,数量\n财政局,3\n".encode("utf-8-sig")).kind == "text"
    assert check_upload("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20).kind == "png"


def test_only_the_owing_unit_submits(city: City) -> None:
    req = _request(city)
    for outsider in (city.liaison_b, city.handler, city.auditor, city.leader):
        with pytest.raises(PermissionDenied):
            services.material_submit(actor=outsider, request=req, text="x")
    with pytest.raises(PermissionDenied):
        services.material_request_create(
            actor=city.liaison_a, plan=req.plan, unit=city.coop_b, title="x", due_working_days=3
        )


def test_report_cycle_one_request_per_unit_and_period(city: City) -> None:
    plan = make_plan(city)
    make_task(plan, "1", dt.date(2024, 12, 31), lead=[city.lead], cooperating=[city.coop_a, city.coop_b])
    cycle = services.report_cycle_create(
        actor=city.handler,
        plan=plan,
        title="季度进展",
        rule={"kind": "quarterly", "policy": "previous"},
        start_date=dt.date(2024, 1, 1),
        end_date=dt.date(2024, 12, 31),
        lead_working_days=5,
        now=at("2024-01-02 08:00"),
    )
    assert cycle.next_generate_at == at("2024-03-22 00:00")  # 5 working days before Fri 3/29
    for day in ("2024-03-22 08:00", "2024-03-22 09:00", "2024-06-25 08:00", "2024-06-25 08:00"):
        tick(now=at(day))
        run_jobs()
    requests = ReportRequest.objects.filter(cycle=cycle)
    assert requests.count() == 6
    assert set(requests.values_list("period", flat=True)) == {"2024-Q1", "2024-Q2"}
    # running the generator again changes nothing (unique on cycle, unit, period)
    assert services.report_requests_generate(cycle=cycle, now=at("2024-06-25 08:00")) == 0
    req = requests.get(unit=city.coop_a, period="2024-Q1")
    services.progress_report_submit(
        actor=city.liaison_a,
        request=req,
        status="at_risk",
        text="资金未到位",
        figures={"完成投资（亿元）": "1.2"},
    )
    assert ChaseItem.objects.get(pk=req.item_id).state == ItemState.DONE


def test_rule_on_no_working_day_is_refused_and_nothing_is_created(city: City) -> None:
    plan = make_plan(city)
    with pytest.raises(RuleError, match="没有任何一个工作日"):
        services.report_cycle_create(
            actor=city.handler,
            plan=plan,
            title="国庆周报",
            rule={"kind": "weekly", "weekday": 1, "policy": "skip"},
            start_date=dt.date(2024, 10, 1),
            end_date=dt.date(2024, 10, 7),
        )
    with pytest.raises(RuleError):
        services.report_cycle_create(
            actor=city.handler,
            plan=plan,
            title="坏规则",
            rule={"kind": "monthly", "day": 40},
            start_date=dt.date(2024, 1, 1),
            end_date=dt.date(2024, 12, 31),
        )
    assert not ReportCycle.objects.exists()


def test_extension_granted_moves_the_remaining_rungs(city: City) -> None:
    req = _request(city)
    item = req.item
    tick(now=at("2024-03-12 09:00"))
    assert set(Reminder.objects.filter(item=item).values_list("rung", flat=True)) == {"notice"}
    with pytest.raises(PermissionDenied):
        services.petition_raise(
            actor=city.liaison_b,
            item=item,
            kind="extension",
            reason="人手不足",
            requested_due_date=dt.date(2024, 3, 29),
        )
    pet = services.petition_raise(
        actor=city.liaison_a,
        item=item,
        kind="extension",
        reason="需汇总各区县数据",
        requested_due_date=dt.date(2024, 3, 29),
        now=at("2024-03-13 10:00"),
    )
    services.petition_decide(
        actor=city.handler,
        petition=pet,
        decision="escalated",
        note="请分管领导定",
        now=at("2024-03-13 11:00"),
    )
    with pytest.raises(PermissionDenied):
        services.petition_decide(
            actor=city.handler, petition=Petition.objects.get(pk=pet.pk), decision="granted"
        )
    services.petition_decide(
        actor=city.leader,
        petition=Petition.objects.get(pk=pet.pk),
        decision="granted",
        note="同意",
        now=at("2024-03-14 09:00"),
    )
    item.refresh_from_db()
    req.refresh_from_db()
    assert item.due_date == req.due_date == dt.date(2024, 3, 29) and item.due_overridden
    # the notice already fired is not repeated; the due-day rung follows the new date
    assert item.next_remind_at == at("2024-03-29 09:00")
    assert Petition.objects.get(pk=pet.pk).status == PetitionStatus.GRANTED
    with pytest.raises(StateError):
        services.petition_decide(
            actor=city.leader, petition=Petition.objects.get(pk=pet.pk), decision="refused", note="x"
        )
    assert list(
        AuditEvent.objects.filter(object_type="chasing.petition").values_list("action", flat=True)
    ) == ["petition.extension", "petition.escalated", "petition.granted"]


def test_status_lights(city: City) -> None:
    plan = make_plan(city)
    task = make_task(plan, "1", dt.date(2024, 2, 19), lead=[city.lead])
    assert status_light(task, dt.date(2024, 2, 1)) == Light.GREEN
    # 2/8 → 2/19 is 3 working days (2/9, 2/18 adjusted, 2/19): yellow with the default warning of 3
    assert status_light(task, dt.date(2024, 2, 8)) == Light.YELLOW
    assert status_light(task, dt.date(2024, 2, 7)) == Light.GREEN
    assert status_light(task, dt.date(2024, 2, 20)) == Light.RED
    task.status = "done"
    assert status_light(task, dt.date(2024, 3, 1)) == Light.GREEN
