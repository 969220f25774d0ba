"""The accountability report for a task whose cooperating unit ignored three reminders: it shows the three
reminders and their acknowledgement state, that the lead unit escalated on time, and the chain
verification — which fails once one cited event is tampered with, in the database and offline."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from qiantou.assessment import services
from qiantou.assessment.exports import report_bundle_zip, report_docx, report_pdf
from qiantou.assessment.offline import verify_offline
from qiantou.assessment.report import build_report
from qiantou.audit.models import AuditEvent
from qiantou.chasing.models import ChaseItem, Reminder
from qiantou.chasing.tests.factories import City, make_city, make_plan, make_task
from qiantou.plans.models import Task, TaskStatus
from tests.assessment.sim import acknowledge, advance, at

pytestmark = pytest.mark.django_db

# The record's times are the wall clock (the scheduler's clock is simulated), so the range runs to today.
START, END = dt.date(2024, 5, 1), dt.date.today() + dt.timedelta(days=1)


@pytest.fixture
def ignored(db: None) -> dict[str, Any]:
    """Task 3 (due Fri 2024-05-17): 市发改委 leads, 市财政局 cooperates and ignores every reminder; the
    lead unit's own part is acknowledged. The task is done on 5/28."""
    city = make_city()
    plan = make_plan(city, title="数字政府建设任务分工方案")
    task = make_task(
        plan,
        "3",
        dt.date(2024, 5, 17),
        lead=[city.lead],
        cooperating=[city.coop_a],
        text="建设一体化政务数据共享平台",
    )
    advance(at("2024-05-06 08:00"))  # creates the task's chase items (one per named unit)
    lead_item = ChaseItem.objects.get(task=task, unit=city.lead)
    advance(at("2024-05-28 08:00"))
    for r in Reminder.objects.filter(item=lead_item):
        acknowledge(r, city.lead_head, r.fired_at + dt.timedelta(minutes=30))
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.DONE)
    advance(at("2024-05-28 10:00"))
    return {"city": city, "plan": plan, "task": task}


def _coop_lines(report: Any, city: City) -> list[Any]:
    return [m for m in report.reminders if m.unit == city.coop_a.name]


def test_report_shows_ignored_reminders_and_on_time_escalation(ignored: dict[str, Any]) -> None:
    city, task = ignored["city"], ignored["task"]
    report = build_report(scope="task", obj=task, start=START, end=END, generated_by=city.auditor)
    coop = _coop_lines(report, city)
    # notice (5/14), due (5/17), overdue 1 (5/20) to the liaison (and head): never acknowledged; then the
    # ladder escalates to the leader in charge (5/22) and the supervision office (5/24).
    assert [(m.rung, f"{m.sent_at:%m-%d}") for m in coop] == [
        ("notice", "05-14"),
        ("due", "05-17"),
        ("overdue_1", "05-20"),
        ("overdue_3", "05-22"),
        ("overdue_5", "05-24"),
    ]
    to_unit = [m for m in coop if m.rung in ("notice", "due", "overdue_1")]
    assert len(to_unit) == 3
    assert all(m.acknowledged_at is None and m.delivered for m in to_unit)
    assert {m.state for m in to_unit} == {"已送达，未确认"}
    escalations = [m for m in coop if m.rung in ("overdue_3", "overdue_5")]
    assert all(m.escalation and m.on_time for m in escalations)
    assert any("市财政局：收到催办5次，其中5次未确认收到" in f for f in report.findings)
    assert any(f.startswith("牵头单位按催办阶梯按时升级催办") for f in report.findings)
    lead_lines = [m for m in report.reminders if m.unit == city.lead.name]
    assert lead_lines and all(m.acknowledged_at for m in lead_lines)
    # the timeline: the assignment, every reminder sent / delivered / acknowledged, who was responsible
    actions = [t.action for t in report.timeline]
    assert len(lead_lines) == 5 and len(report.reminders) == 10
    assert actions.count("reminder.sent") == 10 and "reminder.delivered" in actions
    assert actions.count("reminder.acknowledged") == 5
    sent_to_coop = [t for t in report.timeline if t.action == "reminder.sent" and "市财政局" in t.responsible]
    assert len(sent_to_coop) == 5 and all("2024-05-17前" in t.responsible for t in sent_to_coop)
    v = report.verification
    assert v.ok and v.head_seq == AuditEvent.objects.count()
    assert sorted(s for s, _ in v.cited) == [t.seq for t in report.timeline]


def _tamper(seq: int) -> None:
    """Someone with database access rewrites one event's payload, bypassing the append-only trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                "UPDATE audit_auditevent SET payload = jsonb_set(payload, '{recipients}', '[]') "
                "WHERE seq = %s",
                [seq],
            )
        else:
            cursor.execute("DROP TRIGGER audit_auditevent_no_update")
            cursor.execute(
                "UPDATE audit_auditevent SET payload = json_set(payload, '$.recipients', json('[]')) "
                "WHERE seq = %s",
                [seq],
            )


def test_tampering_with_a_cited_event_fails_the_verification(ignored: dict[str, Any], tmp_path: Path) -> None:
    city, task = ignored["city"], ignored["task"]
    report = build_report(scope="task", obj=task, start=START, end=END, generated_by=city.auditor)
    manifest = services.report_checkpoint(actor=city.auditor, report=report)
    assert manifest["chain"]["verified"] is True
    checkpoint = AuditEvent.objects.get(seq=manifest["checkpoint_seq"])
    assert checkpoint.action == "assessment.report_checkpoint" and checkpoint.actor_id == city.auditor.pk
    good = _unzip(report_bundle_zip(report), tmp_path / "good")
    result = verify_offline(good / "manifest.json", good / "audit-bundle.jsonl")
    assert result.ok, result.messages
    # the signature covers the cited hashes: editing the manifest is caught
    altered = json.loads((good / "manifest.json").read_text())
    altered["cited"][0][1] = "0" * 64
    (tmp_path / "altered.json").write_text(json.dumps(altered))
    assert not verify_offline(tmp_path / "altered.json", good / "audit-bundle.jsonl").ok
    # tamper with one cited event: who the reminder went to
    target = next(t for t in report.timeline if t.action == "reminder.sent" and "市财政局" in t.responsible)
    _tamper(target.seq)
    again = build_report(scope="task", obj=task, start=START, end=END, generated_by=city.auditor)
    assert not again.verification.ok
    assert again.verification.broken_seq == target.seq and again.verification.broken_cited
    assert "验证失败" in again.verification.message
    # offline: a careful forger also rewrites the hashed body and recomputes its hash; the bundle exported
    # now breaks the chain at the next event and no longer matches the checkpoint the auditor holds
    _forge(target.seq)
    bad = _unzip(report_bundle_zip(_with_checkpoint(again, manifest)), tmp_path / "bad")
    offline = verify_offline(good / "manifest.json", bad / "audit-bundle.jsonl")
    assert not offline.ok and any("BROKEN" in m for m in offline.messages)


def _forge(seq: int) -> None:
    from qiantou.audit import chain

    event = AuditEvent.objects.get(seq=seq)
    fields = chain.body_fields(event.body)
    fields["payload"] = {**fields["payload"], "recipients": []}
    body = chain.event_body(**fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET body = %s, hash = %s WHERE seq = %s",
            [body, chain.event_hash(body, event.alg), seq],
        )


def _with_checkpoint(report: Any, manifest: dict[str, Any]) -> Any:
    report.checkpoint = manifest
    return report


def _unzip(data: bytes, where: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.extractall(where)
    return where


def test_exports_open_with_correct_chinese_text(ignored: dict[str, Any]) -> None:
    import pdfplumber
    from docx import Document

    city, task = ignored["city"], ignored["task"]
    report = build_report(scope="task", obj=task, start=START, end=END, generated_by=city.auditor)
    services.report_checkpoint(actor=city.auditor, report=report)
    with pdfplumber.open(io.BytesIO(report_pdf(report))) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    assert "履职情况记录（问责/审计材料）" in text
    assert "市财政局" in text and "逾期3个工作日提请分管领导" in text and "验证通过" in text
    doc = Document(io.BytesIO(report_docx(report)))
    cells = "".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    paragraphs = "\n".join(p.text for p in doc.paragraphs)
    assert "建设一体化政务数据共享平台" in cells and "已送达，未确认" in cells
    assert "核验点：审计记录 #" in paragraphs


def test_auditor_reads_the_report_others_do_not(ignored: dict[str, Any]) -> None:
    city, task = ignored["city"], ignored["task"]
    client = Client()
    client.force_login(city.auditor)
    url = f"/assessment/report/?scope=task&id={task.pk}&start=2024-05-01&end={END}"
    page = client.get(url)
    assert page.status_code == 200 and "已送达，未确认" in page.content.decode()
    pdf = client.get(url + "&format=pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content[:4] == b"%PDF"
    api = client.get(f"/api/assessment/report?scope=task&id={task.pk}&start=2024-05-01&end={END}").json()
    assert api["verification"]["ok"] is True and len(api["reminders"]) == 10
    # a liaison cannot read accountability material, and an administrator neither
    for user in (city.liaison_a, city.admin):
        client.force_login(user)
        assert client.get(url).status_code == 404
